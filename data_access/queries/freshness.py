"""How fresh the data is: per event source (the wall's freshness line) and per feed (data health).

Thresholds per source come from ``config/freshness.toml`` (``FRESHNESS_FILE``): amber after
``amber_min`` minutes without a new event, red — and named as stopped — after ``red_min``.
"""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, func, select

from common import settings
from data_access import vocab
from data_access.db.connection import connect
from data_access.db.schema import events, ingest_batches, ingest_feeds
from data_access.errors import InvalidParameterError
from data_access.filters import Scope, Unit, _apply_scope

CONFIG = Path(__file__).resolve().parents[2] / "config" / "freshness.toml"
DEFAULT = {"amber_min": 60, "red_min": 240}


def thresholds(path: str | Path | None = None) -> dict[str, dict[str, float]]:
    """{source code: {"amber_min", "red_min"}} for every known source (``[default]`` filling the gaps)."""
    p = Path(path or settings.get("FRESHNESS_FILE") or CONFIG)
    try:
        with open(p, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidParameterError(f"新鲜度配置无法读取 / cannot read {p.name}: {exc}") from exc
    base = {**DEFAULT, **data.get("default", {})}
    per = data.get("source", {})
    out = {}
    for code in vocab.SOURCES:
        t = {**base, **per.get(code, {})}
        out[code] = {"amber_min": float(t["amber_min"]), "red_min": float(t["red_min"])}
    return out


def level_of(age_min: float | None, t: dict[str, float]) -> str:
    """ok | amber | red (red also when there is no event at all)."""
    if age_min is None or age_min >= t["red_min"]:
        return "red"
    return "amber" if age_min >= t["amber_min"] else "ok"


def source_freshness(engine: Engine, scope: Scope, unit: Unit, *, as_of: datetime) -> pd.DataFrame:
    """Per event source under ``unit``: newest event time (reported or closed, up to ``as_of``).

    Columns: code, label, latest (datetime or NaT), age_min (float, NaN without events), level
    (ok|amber|red; red without events), stopped (bool: it had events, now red). One row per source of
    the vocabulary, in its order.
    """
    q = _apply_scope(select(events.c.source, func.max(events.c.reported_at), func.max(events.c.closed_at))
                     .where(events.c.reported_at <= as_of), events, scope, unit).group_by(events.c.source)
    with connect(engine) as conn:
        rows = {r[0]: r[1:] for r in conn.execute(q)}
    limits = thresholds()
    out = []
    for code, label in vocab.SOURCES.items():
        vals = [pd.Timestamp(v).to_pydatetime() for v in rows.get(code, ()) if v is not None]
        vals = [v for v in vals if v <= as_of]
        latest = max(vals) if vals else None
        age = (as_of - latest).total_seconds() / 60 if latest else None
        lvl = level_of(age, limits[code])
        out.append({"code": code, "label": label, "latest": latest, "age_min": age, "level": lvl,
                    "stopped": latest is not None and lvl == "red"})
    return pd.DataFrame(out, columns=["code", "label", "latest", "age_min", "level", "stopped"])


def feed_health(engine: Engine, *, as_of: datetime) -> pd.DataFrame:
    """Per feed (API key or pull source): kind, last_event_at, last_success_at, last_error_at,
    last_error, lag_s (as_of − last event, NaN without one), imported, rejected (totals), failing
    (the last error is newer than the last success). Feeds hold no unit data: whole-system metadata."""
    f = ingest_feeds.c
    q = select(f.name, f.kind, f.last_event_at, f.last_success_at, f.last_error_at, f.last_error, f.imported,
               f.rejected).order_by(f.name)
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(q).mappings().all(),
                          columns=["name", "kind", "last_event_at", "last_success_at", "last_error_at", "last_error",
                                   "imported", "rejected"])
    for c in ("last_event_at", "last_success_at", "last_error_at"):
        df[c] = pd.to_datetime(df[c])
    df["lag_s"] = (pd.Timestamp(as_of) - df["last_event_at"]).dt.total_seconds()
    df["failing"] = df["last_error_at"].notna() & (df["last_success_at"].isna()
                                                    | (df["last_error_at"] > df["last_success_at"]))
    return df


def feed_hourly(engine: Engine, *, as_of: datetime, hours: int = 48) -> pd.DataFrame:
    """Rows imported and rejected per feed and hour over the ``hours`` before ``as_of``.

    Columns: feed, hour (datetime, start of the hour), imported, rejected, errors (failed batches)."""
    since = as_of - timedelta(hours=hours)
    b = ingest_batches.c
    q = select(b.feed, b.at, b.imported, b.rejected, b.error).where(b.at > since, b.at <= as_of)
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=["feed", "at", "imported", "rejected", "error"])
    if df.empty:
        return pd.DataFrame(columns=["feed", "hour", "imported", "rejected", "errors"])
    df["hour"] = pd.to_datetime(df["at"]).dt.floor("h")
    df["errors"] = df["error"].notna().astype(int)
    return df.groupby(["feed", "hour"], as_index=False)[["imported", "rejected", "errors"]].sum()
