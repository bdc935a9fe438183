"""Alerts: a unit turned red or orange, or a 重点哨 event passed its deadline.

:func:`evaluate` (given ``as_of``) compares what holds now with the open alerts in table ``alerts``:
a condition without an open alert raises one (once), an open alert whose condition no longer holds is
cleared (``cleared_at``), so the same unit or event alerts again only after it has cleared. A unit
that goes from orange to red raises a new (red) alert. Levels watched: subdistricts (1) and
villages/communities (2), on the month containing ``as_of``.

:func:`deliver` posts new alerts to ``ALERT_WEBHOOK_URL`` (JSON, the work-chat robot's text message)
with retries; an alert that still fails goes to the dead-letter list (``posted = 'dead'``), which
:func:`dead_letters` lists and :func:`requeue` sends again. :func:`recent` lists alerts inside a scope.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, and_, insert, or_, select, update

from common import settings
from data_access.db.connection import begin, connect
from data_access.db.schema import alerts, events, units
from data_access.db.version import bump_data_version
from data_access.filters import Scope, Unit, _apply_scope, month_period
from data_access.queries import units as un
from data_access.queries import warnings as wn

COLORS = {"red": "红色", "orange": "橙色"}
COLUMNS = ["id", "kind", "key", "unit_code", "unit_name", "level", "message", "raised_at", "cleared_at", "posted"]


def _conditions(engine: Engine, as_of: datetime) -> dict[tuple[str, str], dict]:
    """What is alarming at ``as_of``: (kind, key) -> the alert row it would raise."""
    period = month_period(as_of.date())
    out: dict[tuple[str, str], dict] = {}
    rules = wn.load_rules()
    for root in un.root_units(engine, Scope.all()):
        l1 = wn.child_warnings(engine, Scope.all(), root, period, rules, as_of=as_of)
        frames = [l1]
        for code in l1.get("code", pd.Series(dtype=str)):
            frames.append(wn.child_warnings(engine, Scope.all(), un.get_unit(engine, code), period, rules,
                                            as_of=as_of))
        for df in frames:
            for r in df.itertuples(index=False) if len(df) else ():
                if r.color in COLORS:
                    why = "；".join(r.reasons[:2]) if isinstance(r.reasons, list) else ""
                    out[("warning", r.code)] = {"unit_code": r.code, "unit_name": r.name, "level": r.color,
                                                "message": f"{r.name} 转为{COLORS[r.color]}预警：{why}"[:500]}
    q = (select(events.c.id, events.c.unit_code, events.c.title, events.c.deadline, units.c.name)
         .join(units, units.c.code == events.c.unit_code)
         .where(events.c.whistle == "key", events.c.reported_at <= as_of, events.c.deadline < as_of,
                or_(events.c.closed_at.is_(None), events.c.closed_at > as_of)))  # open at as_of
    with connect(engine) as conn:
        for r in conn.execute(q):
            out[("key_overdue", r.id)] = {"unit_code": r.unit_code, "unit_name": r.name, "level": "red",
                                          "message": f"重点哨超期：{r.name} {r.title}（时限 "
                                                     f"{pd.Timestamp(r.deadline):%Y-%m-%d %H:%M}，编号 {r.id}）"[:500]}
    return out


def evaluate(engine: Engine, *, as_of: datetime) -> list[dict]:
    """Raise the alerts that hold at ``as_of`` and are not open yet; clear the open ones that no longer
    hold. Returns the alerts raised (dicts with the table's columns)."""
    now = _conditions(engine, as_of)
    with connect(engine) as conn:
        open_rows = {(r.kind, r.key): r for r in conn.execute(
            select(alerts.c.id, alerts.c.kind, alerts.c.key, alerts.c.level).where(alerts.c.cleared_at.is_(None)))}
    to_clear = [r.id for k, r in open_rows.items() if k not in now
                or (now[k]["level"] == "red" and r.level == "orange")]  # escalation: a new, red alert
    cleared_keys = {(r.kind, r.key) for r in open_rows.values() if r.id in to_clear}
    new = [(k, v) for k, v in now.items() if k not in open_rows or k in cleared_keys]
    raised = []
    anc = {}
    if new:
        codes = sorted({v["unit_code"] for _, v in new})
        with connect(engine) as conn:
            for i in range(0, len(codes), 500):
                anc.update({r.code: r for r in conn.execute(
                    select(units.c.code, *[units.c[f"l{lv}_code"] for lv in range(5)])
                    .where(units.c.code.in_(codes[i:i + 500])))})
    with begin(engine) as conn:
        if to_clear:
            conn.execute(update(alerts).where(alerts.c.id.in_(to_clear)).values(cleared_at=as_of))
        for (kind, key), v in new:
            a = anc.get(v["unit_code"])
            row = {"kind": kind, "key": key, **v, "raised_at": as_of.replace(microsecond=0), "posted": "no",
                   **{f"l{lv}_code": getattr(a, f"l{lv}_code", None) for lv in range(5)}}
            conn.execute(insert(alerts).values(**row))
            raised.append(row)
        if to_clear or new:
            bump_data_version(conn)  # the walls' tickers show open alerts: they redraw at their next refresh
    return raised


def recent(engine: Engine, scope: Scope, *, since: datetime | None = None, open_only: bool = False,
           limit: int = 200) -> pd.DataFrame:
    """Alerts inside ``scope`` (raised at or after ``since``), newest first. Columns: :data:`COLUMNS`."""
    q = _apply_scope(select(*[alerts.c[c] for c in COLUMNS]), alerts, scope)
    if since is not None:
        q = q.where(alerts.c.raised_at >= since)
    if open_only:
        q = q.where(alerts.c.cleared_at.is_(None))
    q = q.order_by(alerts.c.raised_at.desc(), alerts.c.id.desc()).limit(int(limit))
    with connect(engine) as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=COLUMNS)


def dead_letters(engine: Engine) -> pd.DataFrame:
    """Alerts whose webhook delivery failed after every retry."""
    q = select(*[alerts.c[c] for c in COLUMNS]).where(alerts.c.posted == "dead").order_by(alerts.c.id)
    with connect(engine) as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=COLUMNS)


def requeue(engine: Engine) -> int:
    """Put the dead letters back in the queue (the next :func:`deliver` tries them again)."""
    with begin(engine) as conn:
        return conn.execute(update(alerts).where(alerts.c.posted == "dead").values(posted="no")).rowcount


def _post(url: str, payload: dict, timeout: float) -> None:
    req = urllib.request.Request(url, data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                                 headers={"Content-Type": "application/json; charset=utf-8"}, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - an admin-configured URL
        if not 200 <= resp.status < 300:
            raise urllib.error.HTTPError(url, resp.status, "not 2xx", resp.headers, None)


def deliver(engine: Engine, url: str | None = None, *, retries: int | None = None, timeout: float = 5.0,
            backoff: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> dict:
    """Post every not-yet-posted alert to ``url`` (default ``ALERT_WEBHOOK_URL``; none: nothing happens).

    Each alert is tried ``retries`` times (default ``ALERT_WEBHOOK_RETRIES``), waiting ``backoff`` × 2^n
    seconds between tries; then marked ``sent`` or ``dead``. Returns ``{"sent": n, "dead": n}``.
    """
    url = url or settings.get("ALERT_WEBHOOK_URL")
    if not url:
        return {"sent": 0, "dead": 0}
    tries = retries or settings.get("ALERT_WEBHOOK_RETRIES")
    with connect(engine) as conn:
        todo = conn.execute(select(alerts.c.id, alerts.c.kind, alerts.c.unit_code, alerts.c.level,
                                   alerts.c.message, alerts.c.raised_at)
                            .where(alerts.c.posted == "no").order_by(alerts.c.id)).all()
    counts = {"sent": 0, "dead": 0}
    for a in todo:
        payload = {"msgtype": "text", "text": {"content": f"【{COLORS.get(a.level, a.level)}告警】{a.message}"},
                   "alert": {"id": a.id, "kind": a.kind, "unit": a.unit_code, "level": a.level,
                             "raised_at": pd.Timestamp(a.raised_at).isoformat()}}
        state = "dead"
        for n in range(tries):
            try:
                _post(url, payload, timeout)
                state = "sent"
                break
            except (urllib.error.URLError, OSError, ValueError):
                if n + 1 < tries:
                    sleep(backoff * 2 ** n)
        with begin(engine) as conn:
            conn.execute(update(alerts).where(and_(alerts.c.id == a.id)).values(posted=state))
        counts[state] += 1
    return counts


def unit_alerts(engine: Engine, scope: Scope, unit: Unit, limit: int = 20) -> pd.DataFrame:
    """Open alerts in ``unit``'s subtree (inside ``scope``), newest first. Columns: :data:`COLUMNS`."""
    q = _apply_scope(select(*[alerts.c[c] for c in COLUMNS]).where(alerts.c.cleared_at.is_(None)), alerts, scope,
                     unit)
    q = q.order_by(alerts.c.raised_at.desc(), alerts.c.id.desc()).limit(int(limit))
    with connect(engine) as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=COLUMNS)
