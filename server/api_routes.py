"""The push API beside the app (same process and port): ``/api/v1/…``, JSON in and out.

* ``POST /api/v1/events`` — a ``source`` key; body a JSON array (≤ 5,000) of events with the
  importer's English field names; one transaction (:func:`data_access.ingest.ingest_records`: the
  importer's validation, vocabulary and upsert-by-id, rollups refreshed, audited with the key's name).
* ``GET /api/v1/kpis?unit=CODE&period=YYYY-MM`` — a ``reader`` key; the wall's event figures
  (:func:`data_access.queries.events.event_kpis`, ``closure_by``) within the key's subtree.
* ``GET /api/v1/health`` — any key; per feed and per event source: last event, last success, lag.
* ``GET /api/v1/openapi.json`` — this interface, no key needed.

Keys travel as ``Authorization: Bearer KEY``. Answers: 401 without a valid key, 403 for the wrong
role or a unit outside the key's subtree, 400 for a malformed request, 413 for more than
:data:`~data_access.ingest.MAX_BATCH` events or ``API_MAX_BODY_MB``, 429 (``Retry-After``) above
``API_RATE_PER_MIN``, 503 while the database is unavailable — always JSON ``{"error": …}``, never a
traceback.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common import settings
from data_access.accounts.api_keys import ApiKey, key_user
from data_access.db.engine import get_engine
from data_access.errors import (
    DataAccessError,
    DatabaseUnavailableError,
    InvalidParameterError,
    OutOfScopeError,
    UnknownUnitError,
)
from data_access.ingest import MAX_BATCH, ingest_records

log = logging.getLogger(__name__)
PREFIX = "/api/v1"


def _engine():
    from components.data import db_url  # the same URL (environment or secrets.toml) as the app

    return get_engine(db_url())


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={"Cache-Control": "no-store", **headers})


def _json(data, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, default=_plain, allow_nan=False)
    return Response(body, status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


def _plain(v):
    if isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="seconds")
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return str(v)


def _clean(v):
    """NaN and NaT as null (JSON has neither)."""
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is not None and type(v).__name__ == "NaTType":
        return None
    if hasattr(v, "to_pydatetime"):
        return v.to_pydatetime()
    return v


class Throttle:
    """A token bucket per key: ``rate`` requests per minute, bursts of ``max(10, rate / 6)``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, name: str, now: float | None = None) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        rate = settings.get("API_RATE_PER_MIN") / 60.0
        cap = max(10.0, rate * 10)
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(name, (cap, now))
            tokens = min(cap, tokens + (now - last) * rate)
            if tokens >= 1:
                self._buckets[name] = (tokens - 1, now)
                return 0.0
            self._buckets[name] = (tokens, now)
            return (1 - tokens) / rate


THROTTLE = Throttle()


async def _key(request: Request, role: str | None) -> ApiKey | Response:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _error(401, "缺少或无效的API密钥 / missing or invalid API key", **{"WWW-Authenticate": "Bearer"})
    key = await run_in_threadpool(key_user, _engine(), token.strip())
    if key is None:
        return _error(401, "缺少或无效的API密钥 / missing or invalid API key", **{"WWW-Authenticate": "Bearer"})
    if role is not None and key.role != role:
        return _error(403, f"此密钥无权执行该操作（需要 {role} 密钥）/ this key's role is {key.role}, {role} needed")
    wait = THROTTLE.take(key.name)
    if wait:
        return _error(429, f"请求过于频繁，请 {math.ceil(wait)} 秒后再试 / too many requests",
                      **{"Retry-After": str(math.ceil(wait))})
    return key


def _guarded(handler):
    """Every failure as a JSON answer with a status, never a traceback."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except DatabaseUnavailableError as exc:
            return _error(503, str(exc), **{"Retry-After": "10"})
        except (UnknownUnitError, InvalidParameterError) as exc:
            return _error(400, str(exc))
        except OutOfScopeError as exc:
            return _error(403, str(exc))
        except DataAccessError as exc:
            return _error(500, str(exc))
        except Exception:  # noqa: BLE001 - logged here, the caller gets a plain message
            log.exception("API %s %s failed", request.method, request.url.path)
            return _error(500, "服务器内部错误 / internal error")

    run.__name__ = handler.__name__
    return run


async def _body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is longer than ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


@_guarded
async def post_events(request: Request) -> Response:
    key = await _key(request, "source")
    if isinstance(key, Response):
        return key
    body = await _body(request, int(settings.get("API_MAX_BODY_MB") * 1024 * 1024))
    if body is None:
        return _error(413, f"请求体超过 {settings.get('API_MAX_BODY_MB'):g} MB / body too large")
    try:
        items = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        return _error(400, f"JSON格式错误 / malformed JSON: {str(exc)[:200]}")
    if not isinstance(items, list):
        return _error(400, "请求体应为事件数组 / the body must be a JSON array of events")
    if len(items) > MAX_BATCH:
        return _error(413, f"一次最多 {MAX_BATCH} 条事件，收到 {len(items)} 条 / "
                           f"at most {MAX_BATCH} events per request")
    out = await run_in_threadpool(ingest_records, _engine(), items, feed=key.name, kind="api", scope=key.scope,
                                  actor=key.name, now=datetime.now())
    if out["imported"]:
        _walls_refetch()
    return _json(out)


def _walls_refetch() -> None:
    """The walls served by this process read the new figures on their next refresh instead of up to
    ``LIVE_TTL_S`` later: POST → wall within the refresh interval. Only the walls' short-lived cache is
    dropped; the office pages keep theirs (``CACHE_TTL_S``)."""
    from components.data import _cached_live

    _cached_live.clear()


@_guarded
async def get_kpis(request: Request) -> Response:
    key = await _key(request, "reader")
    if isinstance(key, Response):
        return key
    out = await run_in_threadpool(kpis, _engine(), key, request.query_params.get("unit") or key.unit_code,
                                  request.query_params.get("period") or f"{datetime.now():%Y-%m}", datetime.now())
    return _json(out)


def kpis(engine, key: ApiKey, unit_code: str, period_token: str, now: datetime) -> dict:
    """The wall's event figures of ``unit_code`` in ``period_token`` as the key may see them."""
    from data_access.filters import parse_period
    from data_access.queries.events import closure_by, event_kpis
    from data_access.queries.units import resolve_unit

    unit = resolve_unit(engine, key.scope, unit_code)  # OutOfScopeError outside the key's subtree
    period = parse_period(period_token)
    as_of = now.replace(second=0, microsecond=0)
    fig = event_kpis(engine, key.scope, unit, period, as_of=as_of)
    by_source = closure_by(engine, key.scope, unit, period, "source", as_of=as_of)
    return {"unit": {"code": unit.code, "name": unit.name, "level": unit.level}, "period": period.token,
            "as_of": as_of, "kpis": {k: _clean(v) for k, v in fig.items()},
            "by_source": [{k: _clean(v) for k, v in r.items()} for r in by_source.to_dict("records")]}


@_guarded
async def get_health(request: Request) -> Response:
    key = await _key(request, None)
    if isinstance(key, Response):
        return key
    return _json(await run_in_threadpool(health, _engine(), key, datetime.now()))


def health(engine, key: ApiKey, now: datetime) -> dict:
    """Per feed: last event time, last success, last error, lag; per event source of the key's
    subtree: newest event, its age and the wall's colour."""
    from data_access.queries.freshness import feed_health, source_freshness
    from data_access.queries.units import resolve_unit

    feeds = feed_health(engine, as_of=now)
    src = source_freshness(engine, key.scope, resolve_unit(engine, key.scope, key.unit_code), as_of=now)
    return {"as_of": now.replace(microsecond=0),
            "sources": [{k: _clean(v) for k, v in r.items()} for r in feeds.to_dict("records")],
            "event_sources": [{k: _clean(v) for k, v in r.items()} for r in src.to_dict("records")]}


async def openapi(_request: Request) -> Response:
    return _json(OPENAPI)


_ERR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_EVENT_FIELDS = ["id", "grid_code", "category", "source", "whistle", "status", "reported_at", "dispatched_at",
                 "handled_at", "verified_at", "closed_at", "deadline", "title", "responsible_unit", "lon", "lat"]
OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "三零创建指挥中心 API", "version": "1",
             "description": "Push events, read figures and feed health. Authorization: Bearer KEY "
                            "(python -m data_access users api-key NAME --unit CODE [--role source|reader])."},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
            "Event": {"type": "object", "required": ["id", "grid_code", "reported_at", "deadline"],
                      "properties": {f: {"type": ["string", "number", "null"]} for f in _EVENT_FIELDS},
                      "description": "The import-events columns. Times 'YYYY-MM-DD HH:MM[:SS]' (local time); "
                                     "labels in Chinese or as codes (config/vocabulary.toml)."},
            "IngestResult": {"type": "object", "required": ["read", "imported", "rejected", "warnings", "rejects"],
                             "properties": {
                                 "read": {"type": "integer"}, "imported": {"type": "integer"},
                                 "rejected": {"type": "integer"}, "warnings": {"type": "integer"},
                                 "rejects": {"type": "array", "items": {"type": "object", "properties": {
                                     "index": {"type": "integer"}, "id": {"type": "string"},
                                     "reason": {"type": "string"}}}},
                                 "notes": {"type": "array", "items": {"type": "object", "properties": {
                                     "index": {"type": "integer"}, "id": {"type": "string"},
                                     "warning": {"type": "string"}}}}}},
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        f"{PREFIX}/events": {"post": {
            "summary": "Insert or update events (upsert by id), one transaction; a source key, its unit's subtree only",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "array", "maxItems": MAX_BATCH, "items": {"$ref": "#/components/schemas/Event"}}}}},
            "responses": {"200": {"description": "accounted rows", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/IngestResult"}}}},
                "400": _ERR, "401": _ERR, "403": _ERR, "413": _ERR, "429": _ERR, "503": _ERR}}},
        f"{PREFIX}/kpis": {"get": {
            "summary": "A unit's event figures for a period (the wall's definitions); a reader key",
            "parameters": [{"name": "unit", "in": "query", "schema": {"type": "string"}},
                           {"name": "period", "in": "query", "schema": {"type": "string", "example": "2026-10"}}],
            "responses": {"200": {"description": "figures"}, "400": _ERR, "401": _ERR, "403": _ERR, "429": _ERR}}},
        f"{PREFIX}/health": {"get": {
            "summary": "Per feed and event source: last event time, last success, lag",
            "responses": {"200": {"description": "freshness"}, "401": _ERR, "429": _ERR}}},
        f"{PREFIX}/openapi.json": {"get": {"summary": "This description", "security": [],
                                           "responses": {"200": {"description": "OpenAPI 3.1"}}}},
    },
}

ROUTES = [
    Route(f"{PREFIX}/events", post_events, methods=["POST"]),
    Route(f"{PREFIX}/kpis", get_kpis, methods=["GET"]),
    Route(f"{PREFIX}/health", get_health, methods=["GET"]),
    Route(f"{PREFIX}/openapi.json", openapi, methods=["GET"]),
]
