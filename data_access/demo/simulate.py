"""Live simulator for demos (``python -m data_access simulate --db URL --rate N [--api URL --key KEY]``).

Every tick it reports new events at ``rate`` per minute on random buildings (weighted by
population) and moves open events one stage along the loop (派单 → 处置 → 核查 → 办结), so
a wall display visibly changes. Runs until stopped or for ``--minutes``.

The events take the live path real systems take (:func:`feed_tick`): with ``--api`` they are
POSTed to the running app's ``/api/v1/events`` with a ``source`` key; without it they go through
:func:`data_access.ingest.ingest_records` — the very function that endpoint calls — as the feed
``simulate``. Either way the importer's validation, the rollups, the feed's freshness and the audit
trail see them. A tick that cannot get through (database busy, server away) is skipped, the
simulator keeps running. :func:`tick` writes the tables directly (tests use it as a fixture).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Engine, insert, select, update

from data_access.db.connection import connect
from data_access.db.retry import write_transaction
from data_access.db.rollups import refresh_for_events
from data_access.db.schema import events, meta, units
from data_access.demo.facts import CATEGORY_MIX, DEADLINE_WORKDAYS, SOURCE_MIX
from data_access.demo.names import EVENT_TITLES
from data_access.errors import DataAccessError
from data_access.importers.common import upsert
from data_access.workdays import add_workdays

ANC = [f"l{i}_code" for i in range(5)]
NEXT = {"reported": ("dispatched", "dispatched_at"), "dispatched": ("handled", "handled_at"),
        "handled": ("closed", "closed_at")}


def _leaves(engine: Engine):
    with connect(engine) as conn:
        rows = conn.execute(select(units.c.code, units.c.population, units.c.min_lon, units.c.min_lat,
                                   units.c.max_lon, units.c.max_lat, *[units.c[a] for a in ANC])
                            .where(units.c.level == 4)).all()
    if not rows:
        raise RuntimeError("no level-4 units: build or import a grid first")
    return rows


def tick(engine: Engine, rng: np.random.Generator, n_new: int, n_advance: int, now: datetime,
         leaves=None) -> dict:
    """Insert ``n_new`` events reported at ``now`` and advance up to ``n_advance`` open ones; returns the counts."""
    now = now.replace(microsecond=0)
    leaves = leaves or _leaves(engine)
    pop = np.array([r.population or 1 for r in leaves], float)
    picks = rng.choice(len(leaves), n_new, p=pop / pop.sum())
    src_keys, cat_keys = list(SOURCE_MIX), list(CATEGORY_MIX)
    rows = []
    stamp = now.strftime("%Y%m%d%H%M%S")
    for i, k in enumerate(picks):
        u = leaves[k]
        cat = rng.choice(cat_keys, p=list(CATEGORY_MIX.values()))
        whistle = "key" if rng.random() < 0.03 else "routine"
        wd = 2 if whistle == "key" else DEADLINE_WORKDAYS[cat]
        rows.append({
            "id": f"S{stamp}{i:03d}{rng.integers(100, 999)}", "unit_code": u.code, **{a: getattr(u, a) for a in ANC},
            "title": str(rng.choice(EVENT_TITLES[cat])), "category": str(cat),
            "source": str(rng.choice(src_keys, p=[SOURCE_MIX[s][0] for s in src_keys])), "whistle": whistle,
            "status": "reported", "reported_at": now,
            "deadline": datetime.combine(add_workdays(now, wd), datetime.min.time()) + timedelta(hours=18),
            "lon": float(rng.uniform(u.min_lon, u.max_lon)), "lat": float(rng.uniform(u.min_lat, u.max_lat)),
        })

    def work(conn) -> int:
        # run again from the start when another writer held the lock (data_access.db.retry)
        advanced = 0
        touched = [r["id"] for r in rows]
        if rows:
            conn.execute(insert(events), rows)
        open_rows = conn.execute(select(events.c.id, events.c.status).where(events.c.closed_at.is_(None))
                                 .order_by(events.c.reported_at).limit(n_advance * 3)).all()
        for r in open_rows[: n_advance]:
            status, col = NEXT.get(r.status, (None, None))
            if status is None:
                continue
            values = {"status": status, col: now}
            if status == "closed":
                values["verified_at"] = now
            conn.execute(update(events).where(events.c.id == r.id).values(**values))
            touched.append(r.id)
            advanced += 1
        refresh_for_events(conn, touched)
        _touch(conn, now)
        return advanced

    return {"inserted": len(rows), "advanced": write_transaction(engine, work)}


def _open_events(engine: Engine, limit: int) -> list[dict]:
    """The oldest open events as API records (every field, so a post changes only the stage)."""
    e = events.c
    q = select(e.id, e.unit_code.label("grid_code"), e.category, e.source, e.whistle, e.status, e.reported_at,
               e.dispatched_at, e.handled_at, e.verified_at, e.deadline, e.title, e.lon, e.lat).where(
        e.closed_at.is_(None)).order_by(e.reported_at).limit(limit)
    with connect(engine) as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def _api_record(r: dict) -> dict:
    out = {}
    for k, v in r.items():
        out[k] = f"{v:%Y-%m-%d %H:%M:%S}" if isinstance(v, datetime) else v
    return out


def feed_tick(engine: Engine, post, rng: np.random.Generator, n_new: int, n_advance: int, now: datetime,
              leaves=None) -> dict:
    """One tick as a pushing system does it: new events and the next stage of open ones, as one batch
    of API records handed to ``post`` (a list → the endpoint's answer: HTTP or ingest_records)."""
    now = now.replace(microsecond=0)
    leaves = leaves or _leaves(engine)
    pop = np.array([r.population or 1 for r in leaves], float)
    picks = rng.choice(len(leaves), n_new, p=pop / pop.sum())
    src_keys, cat_keys = list(SOURCE_MIX), list(CATEGORY_MIX)
    stamp = now.strftime("%Y%m%d%H%M%S")
    batch = []
    for i, k in enumerate(picks):
        u = leaves[k]
        cat = str(rng.choice(cat_keys, p=list(CATEGORY_MIX.values())))
        whistle = "key" if rng.random() < 0.03 else "routine"
        wd = 2 if whistle == "key" else DEADLINE_WORKDAYS[cat]
        batch.append({
            "id": f"S{stamp}{i:03d}{rng.integers(100, 999)}", "grid_code": u.code,
            "title": str(rng.choice(EVENT_TITLES[cat])), "category": cat,
            "source": str(rng.choice(src_keys, p=[SOURCE_MIX[s][0] for s in src_keys])), "whistle": whistle,
            "status": "reported", "reported_at": now,
            "deadline": datetime.combine(add_workdays(now, wd), datetime.min.time()) + timedelta(hours=18),
            "dispatched_at": None, "handled_at": None, "verified_at": None,
            "lon": float(rng.uniform(u.min_lon, u.max_lon)), "lat": float(rng.uniform(u.min_lat, u.max_lat)),
        })
    advanced = 0
    for r in _open_events(engine, n_advance):
        status, col = NEXT.get(r["status"], (None, None))
        if status is None:
            continue
        r["status"], r[col] = status, now
        if status == "closed":
            r["verified_at"] = now
        batch.append(r)
        advanced += 1
    out = post([_api_record(r) for r in batch])
    return {"inserted": len(picks), "advanced": advanced, "imported": out.get("imported", 0),
            "rejected": out.get("rejected", 0)}


def http_poster(api: str, key: str, timeout_s: float = 30.0):
    """``post`` for :func:`feed_tick`: POST to ``api``/api/v1/events with the key; the JSON answer."""
    import json
    import urllib.request

    url = api.rstrip("/") + "/api/v1/events"

    def post(batch: list[dict]) -> dict:
        req = urllib.request.Request(url, data=json.dumps(batch, ensure_ascii=False).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return json.loads(resp.read())

    return post


def ingest_poster(engine: Engine, feed: str = "simulate"):
    """``post`` for :func:`feed_tick` without a server: the function the endpoint calls."""
    from data_access.ingest import ingest_records

    return lambda batch: ingest_records(engine, batch, feed=feed, kind="api", actor=feed)


def _touch(conn, now: datetime) -> None:
    """Record when data last changed (the freshness marker shown on the wall); an upsert, so two writers
    recording it at once do not clash on the key."""
    upsert(conn, meta, [{"key": "updated_at", "value": now.isoformat()}], "key")


def run(engine: Engine, rate: float, minutes: float | None = None, interval_s: float = 5.0, seed: int = 1,
        log=print, api: str | None = None, key: str | None = None) -> None:
    """Tick every ``interval_s`` seconds: ``rate`` new events per minute, as many advanced; posted to
    ``api`` with ``key`` when given, else through the API's ingest function."""
    rng = np.random.default_rng(seed)
    post = http_poster(api, key) if api else ingest_poster(engine)
    leaves = _leaves(engine)
    end = time.time() + minutes * 60 if minutes else None
    carry = 0.0
    while end is None or time.time() < end:
        carry += rate * interval_s / 60
        n = int(carry)
        carry -= n
        now = datetime.now()  # the command's loop is the edge that reads the clock, once per tick
        try:
            out = feed_tick(engine, post, rng, n, max(1, n), now, leaves=leaves)
            log(f"{now:%H:%M:%S} +{out['inserted']} events, {out['advanced']} advanced, "
                f"{out['rejected']} rejected ({'API' if api else 'ingest'})")
        except (DataAccessError, OSError) as exc:  # database busy or away, server away: skip this tick
            log(f"{now:%H:%M:%S} {exc}")
        time.sleep(interval_s)
