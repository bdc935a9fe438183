"""Tests for the push API (/api/v1/…) and its keys, on SQLite and PostgreSQL: the importer's validation
through JSON, scope per key, upsert by id moving the loop on, rollups current, status codes, throttle,
audit — and the routes served by the real app process."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime

import pytest
import uvicorn
from sqlalchemy import func, select
from starlette.applications import Starlette

from data_access.accounts.api_keys import create_key, revoke_key
from data_access.accounts.audit import recent
from data_access.db.engine import get_engine
from data_access.db.schema import api_keys, event_rollup, events, units
from data_access.demo import build_demo
from data_access.filters import Scope, parse_period
from data_access.queries import events as ev
from data_access.queries import units as un
from server import api_routes

from .conftest import ROOT, TEST_UNTIL, serve_app

NOW = datetime(2027, 2, 10, 8, 0)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, tmp_path_factory):
    """A private tiny demo per engine (the tests write events)."""
    if request.param == "sqlite":
        u = f"sqlite:///{tmp_path_factory.mktemp('api') / 'api.db'}"
    else:
        u = request.getfixturevalue("pg_scratch")()
    build_demo(u, scale="tiny", seed=11, until=TEST_UNTIL, log=lambda m: None)
    return u


class Answer:
    def __init__(self, status: int, body: bytes):
        self.status_code, self.text = status, body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)


class Client:
    """A few lines of HTTP against a real uvicorn server (urllib: no extra test dependency)."""

    def __init__(self, base: str):
        self.base = base

    def _call(self, method, path, headers=None, json_body=None, content=None) -> Answer:
        data = content if content is not None else None if json_body is None else json.dumps(json_body).encode()
        req = urllib.request.Request(self.base + path, method=method, data=data,
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return Answer(resp.status, resp.read())
        except urllib.error.HTTPError as err:
            return Answer(err.code, err.read())

    def post(self, path, headers=None, json=None, content=None) -> Answer:
        return self._call("POST", path, headers, json, content)

    def get(self, path, headers=None) -> Answer:
        return self._call("GET", path, headers)


@pytest.fixture(scope="module")
def server():
    """The API routes under a real uvicorn server in this process (its clock is the frozen one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(Starlette(routes=api_routes.ROUTES), host="127.0.0.1", port=port,
                                        log_level="warning", lifespan="off"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(10)


@pytest.fixture
def client(url, server, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr(api_routes, "THROTTLE", api_routes.Throttle())
    return Client(server)


def _units(url) -> dict:
    """Two leaves in different subdistricts and their subdistricts."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(select(units.c.code, units.c.l1_code).where(units.c.level == 4)
                            .order_by(units.c.code)).all()
    a = rows[0]
    b = next(r for r in rows if r.l1_code != a.l1_code)
    return {"leaf_a": a.code, "sub_a": a.l1_code, "leaf_b": b.code, "sub_b": b.l1_code}


_n = iter(range(1, 10**6))


def _key(url, role="source", unit=None) -> tuple[str, str]:
    name = f"k{next(_n)}"
    return name, create_key(get_engine(url), name, unit or _units(url)["sub_a"], role, "test")


def _event(eid, grid, **kw) -> dict:
    return {"id": eid, "grid_code": grid, "category": "环境卫生", "source": "网格员上报", "status": "已受理",
            "reported_at": "2027-02-10 07:30", "deadline": "2027-02-12 07:30", "title": "占道经营", **kw}


def _auth(key):
    return {"Authorization": f"Bearer {key}"}


def test_cli_key_is_shown_once_and_stored_hashed(url):
    """users api-key prints one JSON line with the key; only its SHA-256 is stored; revoke is audited."""
    u = _units(url)
    out = subprocess.run([sys.executable, "-m", "data_access", "users", "api-key", "cli-feed", "--unit", u["sub_a"],
                          "--role", "source", "--note", "网格通", "--db", url], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    line = json.loads(out.stdout.strip().splitlines()[-1])
    assert line["key"].startswith("sk_") and len(line["key"]) > 40
    with get_engine(url).connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.name == "cli-feed")).mappings().one()
    assert row["key_hash"] == hashlib.sha256(line["key"].encode()).hexdigest()
    assert line["key"] not in json.dumps({k: str(v) for k, v in row.items()})
    out = subprocess.run([sys.executable, "-m", "data_access", "users", "revoke-api-key", "cli-feed", "--db", url],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and json.loads(out.stdout.splitlines()[-1])["revoked"] is True
    log = recent(get_engine(url), action="api_key")
    assert any("cli-feed" in d and "revoke" in d for d in log["detail"])
    assert any("cli-feed" in d and "create" in d for d in log["detail"])
    assert "sk_" not in "".join(log["detail"])


def test_post_imports_upserts_and_keeps_rollups(url, client):
    """Rows stored with the importer's vocabulary, a later post of an id updates it, rollups match raw."""
    u = _units(url)
    name, key = _key(url)
    r = client.post("/api/v1/events", headers=_auth(key),
                    json=[_event("API-A1", u["leaf_a"]), _event("API-A2", u["leaf_a"], category="共享单车")])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body is not None, r.text
    assert {k: body[k] for k in ("read", "imported", "rejected", "warnings")} == \
        {"read": 2, "imported": 2, "rejected": 0, "warnings": 1}
    assert body["rejects"] == []
    eng = get_engine(url)
    with eng.connect() as conn:
        row = conn.execute(select(events).where(events.c.id == "API-A1")).mappings().one()
    assert (row["category"], row["source"], row["status"], row["closed_at"]) == ("environment", "grid", "reported",
                                                                                  None)
    # the loop moves on: dispatched, handled, closed
    r = client.post("/api/v1/events", headers=_auth(key), json=[_event(
        "API-A1", u["leaf_a"], status="已办结", dispatched_at="2027-02-10 07:40", handled_at="2027-02-10 07:55",
        closed_at="2027-02-10 07:58")])
    assert r.json()["imported"] == 1
    with eng.connect() as conn:
        row = conn.execute(select(events).where(events.c.id == "API-A1")).mappings().one()
        assert conn.execute(select(func.count()).select_from(events).where(events.c.id == "API-A1")).scalar() == 1
        rolled = conn.execute(select(func.sum(event_rollup.c.reported), func.sum(event_rollup.c.closed))
                              .where(event_rollup.c.level == 0, event_rollup.c.month == "2027-02")).one()
        raw = conn.execute(select(func.count(), func.count(events.c.closed_at))
                           .where(events.c.reported_at >= datetime(2027, 2, 1))).one()
    assert row["status"] == "closed" and row["dispatched_at"] == datetime(2027, 2, 10, 7, 40)
    assert row["handled_at"] == datetime(2027, 2, 10, 7, 55) and row["closed_at"] == datetime(2027, 2, 10, 7, 58)
    assert tuple(rolled) == tuple(raw) and raw[0] >= 2
    log = recent(eng, action="ingest")
    assert (log["username"] == name).sum() == 2


def test_rows_outside_the_keys_subtree_are_rejected(url, client):
    u = _units(url)
    _, key = _key(url)
    _, other = _key(url, unit=u["sub_b"])
    assert client.post("/api/v1/events", headers=_auth(other), json=[_event("API-B1", u["leaf_b"])]).json()[
        "imported"] == 1
    r = client.post("/api/v1/events", headers=_auth(key), json=[
        _event("API-X1", u["leaf_b"]), _event("API-B1", u["leaf_a"]), _event("API-X2", u["leaf_a"]), "junk",
        _event("API-X3", u["leaf_a"], reported_at="昨天")])
    body = r.json()
    assert (body["read"], body["imported"], body["rejected"]) == (5, 1, 4)
    reasons = {x["index"]: x["reason"] for x in body["rejects"]}
    assert "不在本密钥的单位" in reasons[0] and "范围以外" in reasons[1] and reasons[3] == "不是JSON对象"
    assert "日期无法识别" in reasons[4]
    with get_engine(url).connect() as conn:
        assert conn.execute(select(events.c.unit_code).where(events.c.id == "API-B1")).scalar() == u["leaf_b"]
        assert conn.execute(select(func.count()).select_from(events).where(events.c.id == "API-X1")).scalar() == 0


def test_status_codes_never_a_traceback(url, client):
    u = _units(url)
    _, key = _key(url)
    _, reader = _key(url, "reader")
    ok = [_event("API-S1", u["leaf_a"])]
    assert client.post("/api/v1/events", json=ok).status_code == 401
    assert client.post("/api/v1/events", headers=_auth("sk_nope"), json=ok).status_code == 401
    assert client.post("/api/v1/events", headers=_auth(reader), json=ok).status_code == 403
    r = client.post("/api/v1/events", headers=_auth(key), content=b"[{\"id\": ")
    assert r.status_code == 400 and "error" in r.json()
    assert client.post("/api/v1/events", headers=_auth(key), json={"id": 1}).status_code == 400
    r = client.post("/api/v1/events", headers=_auth(key), json=[_event(f"API-T{i}", u["leaf_a"]) for i in range(5001)])
    assert r.status_code == 413 and "5000" in r.json()["error"]
    name, gone = _key(url)
    revoke_key(get_engine(url), name)
    assert client.post("/api/v1/events", headers=_auth(gone), json=ok).status_code == 401
    assert "Traceback" not in r.text


def test_kpis_are_the_walls_figures_within_the_key(url, client):
    u = _units(url)
    _, reader = _key(url, "reader")
    _, source = _key(url)
    r = client.get(f"/api/v1/kpis?unit={u['sub_a']}&period=2026-10", headers=_auth(reader))
    assert r.status_code == 200, r.text
    eng = get_engine(url)
    scope = Scope(u["sub_a"], 1)
    unit = un.resolve_unit(eng, scope, u["sub_a"])
    as_of = datetime.fromisoformat(r.json()["as_of"])
    want = ev.event_kpis(eng, scope, unit, parse_period("2026-10"), as_of=as_of)
    got = r.json()["kpis"]
    assert {k: got[k] for k in ("reported", "closed", "overdue", "key")} == \
        {k: want[k] for k in ("reported", "closed", "overdue", "key")} and want["reported"] > 0
    assert got["closure_rate"] == pytest.approx(want["closure_rate"])
    assert client.get(f"/api/v1/kpis?unit={u['sub_b']}&period=2026-10", headers=_auth(reader)).status_code == 403
    assert client.get("/api/v1/kpis?period=2026-13", headers=_auth(reader)).status_code == 400
    assert client.get("/api/v1/kpis?unit=x';--&period=2026-10", headers=_auth(reader)).status_code == 400
    assert client.get("/api/v1/kpis?period=2026-10", headers=_auth(source)).status_code == 403


def test_health_lists_feeds_and_sources(url, client):
    u = _units(url)
    name, key = _key(url)
    client.post("/api/v1/events", headers=_auth(key),
                json=[_event("API-H1", u["leaf_a"], reported_at="2027-02-10 08:58")])
    r = client.get("/api/v1/health", headers=_auth(key))
    assert r.status_code == 200
    feed = next(s for s in r.json()["sources"] if s["name"] == name)
    assert feed["kind"] == "api" and feed["last_event_at"] == "2027-02-10 08:58:00"
    assert feed["last_success_at"] is not None and 0 <= feed["lag_s"] < 3600
    grid = next(s for s in r.json()["event_sources"] if s["code"] == "grid")
    assert grid["latest"] == "2027-02-10 08:58:00" and grid["level"] == "ok"
    assert client.get("/api/v1/health").status_code == 401
    # a late batch of older events leaves the newest time seen; a newer one moves it on
    for eid, at, want in (("API-H0", "2027-02-09 07:00", "2027-02-10 08:58:00"),
                          ("API-H2", "2027-02-10 09:30", "2027-02-10 09:30:00")):
        client.post("/api/v1/events", headers=_auth(key), json=[_event(eid, u["leaf_a"], reported_at=at)])
        feeds = client.get("/api/v1/health", headers=_auth(key)).json()["sources"]
        assert next(s for s in feeds if s["name"] == name)["last_event_at"] == want


def test_throttle_per_key(url, client, monkeypatch):
    monkeypatch.setenv("API_RATE_PER_MIN", "6")  # bursts of 10, then one every 10 s
    _, a = _key(url, "reader")
    _, b = _key(url, "reader")
    codes = [client.get("/api/v1/health", headers=_auth(a)).status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429
    assert client.get("/api/v1/health", headers=_auth(b)).status_code == 200  # another key is not slowed


def test_openapi_describes_the_interface(client):
    r = client.get("/api/v1/openapi.json")
    doc = r.json()
    assert r.status_code == 200 and doc["openapi"].startswith("3.")
    assert {"/api/v1/events", "/api/v1/kpis", "/api/v1/health", "/api/v1/openapi.json"} <= set(doc["paths"])


def test_served_by_the_app_process(tmp_path):
    """`make run` (serve.py: the ASGI app) answers the API on the UI's port."""
    url = f"sqlite:///{tmp_path / 'served.db'}"
    build_demo(url, scale="tiny", seed=11, until=TEST_UNTIL, log=lambda m: None)
    u = _units(url)
    _, key = _key(url)
    with serve_app(url, tmp_path / "server.log") as base:
        body = json.dumps([_event("API-W1", u["leaf_a"])]).encode()
        req = urllib.request.Request(f"{base}/api/v1/events", method="POST", data=body,
                                     headers={**_auth(key), "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert json.loads(resp.read())["imported"] == 1
        with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=10) as resp:
            assert "/api/v1/events" in json.loads(resp.read())["paths"]


def test_simulator_posts_through_the_api(url, client):
    """`simulate --api`: new events and the next stage of open ones arrive through POST /api/v1/events."""
    import numpy as np

    from data_access.demo.simulate import feed_tick, http_poster, ingest_poster

    eng = get_engine(url)
    root = un.home_unit(eng, Scope.all()).code
    name, key = _key(url, unit=root)
    with eng.connect() as conn:
        before = conn.execute(select(func.count()).select_from(events)).scalar()
        oldest = conn.execute(select(events.c.id, events.c.status).where(events.c.closed_at.is_(None))
                              .order_by(events.c.reported_at)).first()
    out = feed_tick(eng, http_poster(client.base, key), np.random.default_rng(1), 5, 3, NOW)
    assert out["inserted"] == 5 and out["advanced"] == 3 and out["rejected"] == 0 and out["imported"] == 8
    with eng.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar() == before + 5
        moved = conn.execute(select(events.c.status).where(events.c.id == oldest.id)).scalar()
    assert moved != oldest.status
    assert (recent(eng, action="ingest")["username"] == name).any()
    out = feed_tick(eng, ingest_poster(eng), np.random.default_rng(2), 2, 0, NOW)  # without a server
    assert out["imported"] == 2


def test_a_post_that_imports_drops_the_walls_cache(url, client, monkeypatch):
    """POST → wall within the refresh interval: an import drops the walls' cache; a batch that
    imported nothing leaves it."""
    u = _units(url)
    _, key = _key(url)
    dropped = []
    monkeypatch.setattr(api_routes, "_walls_refetch", lambda: dropped.append(1))
    client.post("/api/v1/events", headers=_auth(key), json=[_event("API-C1", u["leaf_a"])])
    assert dropped == [1]
    client.post("/api/v1/events", headers=_auth(key), json=[_event("API-C2", u["leaf_b"])])  # rejected: foreign
    assert dropped == [1]


def _rollup_rows(conn) -> set:
    cols = [event_rollup.c[c] for c in ("unit_code", "month", "category", "source", "whistle", "reported", "closed",
                                        "closed_late")]
    return set(conn.execute(select(*cols)).all())


def test_rollup_moves_by_the_delta_exactly_as_a_rebuild(url, client):
    """Inserts, re-posts that change category, source, status and month: the rollup equals a rebuild."""
    from data_access.db import rollups

    u = _units(url)
    _, key = _key(url)
    first = [_event(f"API-R{i}", u["leaf_a"], reported_at=f"2027-01-{10 + i} 08:00", deadline="2027-02-20 08:00")
             for i in range(6)]
    assert client.post("/api/v1/events", headers=_auth(key), json=first).json()["imported"] == 6
    again = [_event("API-R0", u["leaf_a"], category="矛盾纠纷", reported_at="2027-01-10 08:00",
                    deadline="2027-02-20 08:00"),
             _event("API-R1", u["leaf_a"], source="12345", status="已办结", closed_at="2027-02-21 09:00",
                    reported_at="2027-01-11 08:00", deadline="2027-02-20 08:00"),
             _event("API-R2", u["leaf_a"], reported_at="2027-02-09 08:00", deadline="2027-02-20 08:00")]
    assert client.post("/api/v1/events", headers=_auth(key), json=again).json()["imported"] == 3
    eng = get_engine(url)
    with eng.connect() as conn:
        kept = _rollup_rows(conn)
        rollups.rebuild(conn)
        rebuilt = _rollup_rows(conn)
        conn.rollback()
    assert kept == rebuilt
