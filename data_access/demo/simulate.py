"""Live simulator for demos (``python -m data_access simulate --db URL --rate N``).

Every tick it reports new events at ``rate`` per minute on random buildings (weighted by
population) and moves open events one stage along the loop (派单 → 处置 → 核查 → 办结), so
a wall display visibly changes. Runs until stopped or for ``--minutes``. Each tick is one write
transaction that waits for other writers (an import) and is retried on lock errors; a tick that
cannot get through at all is skipped, the simulator keeps running.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Engine, insert, select, update

from data_access.db.connection import connect
from data_access.db.retry import DatabaseBusyError, write_transaction
from data_access.db.rollups import refresh_for_events
from data_access.db.schema import events, meta, units
from data_access.demo.facts import CATEGORY_MIX, DEADLINE_WORKDAYS, SOURCE_MIX
from data_access.demo.names import EVENT_TITLES
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


def _touch(conn, now: datetime) -> None:
    """Record when data last changed (the freshness marker shown on the wall); an upsert, so two writers
    recording it at once do not clash on the key."""
    upsert(conn, meta, [{"key": "updated_at", "value": now.isoformat()}], "key")


def run(engine: Engine, rate: float, minutes: float | None = None, interval_s: float = 5.0, seed: int = 1,
        log=print) -> None:
    """Tick every ``interval_s`` seconds: ``rate`` new events per minute, as many advanced."""
    rng = np.random.default_rng(seed)
    leaves = _leaves(engine)
    end = time.time() + minutes * 60 if minutes else None
    carry = 0.0
    while end is None or time.time() < end:
        carry += rate * interval_s / 60
        n = int(carry)
        carry -= n
        now = datetime.now()  # the command's loop is the edge that reads the clock, once per tick
        try:
            out = tick(engine, rng, n, max(1, n), now, leaves=leaves)
            log(f"{now:%H:%M:%S} +{out['inserted']} events, {out['advanced']} advanced")
        except DatabaseBusyError as exc:  # a long import holds the database: skip this tick, keep running
            log(f"{now:%H:%M:%S} {exc}")
        time.sleep(interval_s)
