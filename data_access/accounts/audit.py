"""Audit trail: logins, exports, imports and user changes — who, when, what."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select

from data_access.db.connection import begin, connect
from data_access.db.schema import audit_log

ACTIONS = ("login_ok", "login_fail", "logout", "export", "import", "user_change", "token",
           "upload", "upload_refused", "preview", "preview_refused", "label_map", "api_key", "ingest",
           "bulletin", "bulletin_download")


def record(target: Engine | Connection, username: str | None, action: str, detail: dict | None = None) -> None:
    """Append one audit row (in its own transaction for an Engine, in the caller's for a Connection)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    row = {"at": datetime.now().replace(microsecond=0), "username": username, "action": action,
           "detail": json.dumps(detail or {}, ensure_ascii=False, default=str)}
    if isinstance(target, Connection):
        target.execute(insert(audit_log), row)
    else:
        with begin(target) as conn:
            conn.execute(insert(audit_log), row)


def recent(engine: Engine, limit: int = 200, action: str | None = None) -> pd.DataFrame:
    """Newest audit rows: at, username, action, detail (JSON text)."""
    q = select(audit_log.c.at, audit_log.c.username, audit_log.c.action, audit_log.c.detail)
    if action:
        q = q.where(audit_log.c.action == action)
    q = q.order_by(audit_log.c.id.desc()).limit(int(limit))
    with connect(engine) as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["at", "username", "action", "detail"])
