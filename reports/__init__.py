"""Meeting snapshots ("一月一报告，一月一通报"): a unit and period as PDF or Excel.

:func:`export` is the one entry point the CLI (``python -m reports``) and the ``report``
page share: it resolves who is exporting (their scope bounds what is shown), gathers the
figures once (:func:`reports.snapshot.build_snapshot`), renders them and records the
export in ``audit_log`` — a refused one too (unit outside the scope, unknown unit, bad period,
format or sections), with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from data_access import accounts, vocab
from data_access.accounts import audit
from data_access.db.engine import get_engine
from data_access.errors import DataAccessError
from data_access.filters import Scope, parse_period
from data_access.queries import report_data, units

from .snapshot import SECTIONS, Snapshot, build_snapshot

FORMATS = ("pdf", "excel")


@dataclass(frozen=True)
class Exporter:
    """Who exports: the audit name, the scope their data is bounded by, the role shown as author."""

    username: str
    scope: Scope
    author: str


def leader() -> Exporter:
    """The default CLI identity: a leader's scope (everything)."""
    return Exporter("cli", Scope.all(), vocab.ROLES["leader"])


def exporter_for(engine: Engine, username: str) -> Exporter:
    """The exporter for an account in ``users`` (ValueError when unknown or disabled)."""
    row = accounts.get_user(engine, username)
    if row is None or row.get("disabled"):
        raise ValueError(f"unknown or disabled user: {username!r}")
    scope = accounts.scope_for(engine, row["role"], row["unit_code"])
    role = vocab.ROLES.get(row["role"], row["role"])
    name = row.get("display_name") or username
    return Exporter(username, scope, f"{name}（{role}）" if name != role else role)


def check_sections(sections: tuple[str, ...] | None) -> None:
    """ValueError unless ``sections`` is None (all) or a non-empty subset of :data:`SECTIONS`."""
    if sections is None:
        return
    if not sections:
        raise ValueError("no sections chosen / 未选择报告内容")
    if bad := [s for s in sections if s not in SECTIONS]:
        raise ValueError(f"unknown section(s): {', '.join(map(str, bad))}")


def log_refused(engine: Engine, who: Exporter, fmt: str, unit_code: str | None, period_token: str,
                sections: tuple[str, ...] | None, reason: Exception | str) -> None:
    """Audit an export that was refused (action ``export``, detail with ``refused``: the reason)."""
    detail = {"unit": unit_code, "period": str(period_token)[:40], "format": str(fmt)[:10],
              "refused": str(reason)[:200]}
    if sections is not None:
        detail["sections"] = [str(s)[:20] for s in sections]
    audit.record(engine, who.username, "export", detail)


def gather(db: str | Engine, who: Exporter, unit_code: str | None, period_token: str,
           sections: tuple[str, ...] | None = None,
           progress: Callable[[float, str], None] | None = None, *, as_of: datetime) -> Snapshot:
    """Gather the figures of ``unit_code`` (None: the exporter's home unit) for ``period_token`` at ``as_of``."""
    engine = db if isinstance(db, Engine) else get_engine(db)
    unit = units.resolve_unit(engine, who.scope, unit_code)
    return build_snapshot(engine, who.scope, unit, parse_period(period_token), as_of=as_of, author=who.author,
                          sections=sections, progress=progress)


def export(db: str | Engine, fmt: str, who: Exporter, unit_code: str | None, period_token: str,
           sections: tuple[str, ...] | None = None,
           progress: Callable[[float, str], None] | None = None, *, as_of: datetime) -> tuple[bytes, Snapshot]:
    """Render a snapshot as ``fmt`` ('pdf' or 'excel') at ``as_of`` (the caller's clock, read once) and
    audit the export; returns (bytes, snapshot).

    Raises :class:`data_access.errors.DataAccessError` for a bad unit, period or scope and
    ValueError for a bad format or sections; the refusal is audited before it is raised.
    """
    engine = db if isinstance(db, Engine) else get_engine(db)
    step = progress or (lambda _f, _m: None)
    try:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}")
        check_sections(sections)
        snap = gather(engine, who, unit_code, period_token, sections, progress=step, as_of=as_of)
    except (DataAccessError, ValueError) as exc:
        log_refused(engine, who, fmt, unit_code, period_token, sections, exc)
        raise
    step(0.82, "排版 PDF" if fmt == "pdf" else "写入 Excel")
    if fmt == "pdf":
        from .pdf import render_pdf

        data = render_pdf(snap)
    else:
        from .excel import render_excel

        data = render_excel(snap)
    report_data.log_export(engine, who.username, snap.unit, snap.period, fmt, snap.sections, at=as_of)
    step(1.0, "完成")
    return data, snap


__all__ = ["FORMATS", "SECTIONS", "Exporter", "Snapshot", "check_sections", "exporter_for", "export", "gather",
           "leader", "log_refused"]
