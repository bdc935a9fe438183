"""Render once, serve many: the wall's parts as HTML/SVG strings, cached by view and data version.

Every wall session refreshes on its own timer; without this each one re-ran the queries' cache
look-ups, re-built the tiles, the ranking, the ticker and re-rendered the same charts. Here the
whole rendered wall of one view — (database, scope, unit, period, ``as_of`` minute, data version) —
is one cache entry shared by all sessions (``st.cache_resource``: the strings are immutable, so
sessions share them without a copy; Streamlit computes a missing entry once while concurrent
callers of the same key wait for it). A new event bumps the data version, so the next refresh of
every wall renders the new figures once and all of them show it.

The map (:mod:`components.svg_map`) is cached apart, because the rotating focus and the URL
parameters its links keep change more often than the figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import streamlit as st

from common import settings
from common.fmt import num, pct
from common.markup import h
from data_access import workdays
from data_access.filters import Scope, parse_period
from data_access.queries import units

from .data import engine, query, target_values
from .gauge import gauge_html
from .header import source_line
from .kpi import kpi_tiles_html
from .mix import category_donut_html
from .overview_data import load_overview
from .ranking_list import ranking_html
from .svg_map import map_html
from .ticker import ticker_html
from .trend import trend_html
from .wall_tiles import build_tiles

ALERT_LEVELS = {"red": "红色", "orange": "橙色"}
_NOTE = '<div class="screen-meta" style="text-align:center;padding:1em 0">{}</div>'


@dataclass(frozen=True)
class WallParts:
    """The rendered wall of one view. ``children``: (code, name, reported, closure_rate, overdue) rows
    for the focus line; ``latest``: newest event time (freshness marker)."""

    tiles: str
    trend: str
    gauges: tuple[str, str, str, str]
    ranking_title: str
    ranking: str
    donut: str
    ticker: str
    calendar: str
    sources: str
    children: tuple[tuple, ...]
    latest: datetime | None


def _ttl() -> int:
    return max(1, int(settings.get("LIVE_TTL_S")) * 6)


@st.cache_resource(show_spinner=False, max_entries=256, ttl=_ttl())
def wall_parts(db: str, scope: tuple[str | None, int], unit_code: str, period_token: str, as_of: datetime,
               version: str, calendar_years: tuple[int, ...] = ()) -> WallParts:
    """Render the wall of one view (see the module docstring for the key). ``calendar_years``: the years the
    office's holiday calendar holds, part of the key because the calendar note depends on them."""
    sc = Scope(*scope)
    unit = units.resolve_unit(engine(db), sc, unit_code)
    period = parse_period(period_token, bounded=False)
    d = load_overview(sc, unit, period, as_of)
    targets = target_values(db)
    kids = d["children"]
    src = d["by_source"].set_index("code")["closure_rate"]
    key_rate = d["by_whistle"].set_index("code")["closure_rate"].get("key")
    ranked = kids.sort_values(["closure_rate", "reported"], ascending=[False, False])
    alert_items = [f'【{ALERT_LEVELS.get(r.level, "")}告警】{r.message}' for r in d["alerts"].itertuples()]
    items = alert_items + [f'{r.reported_at:%m-%d %H:%M} {r.area_name}{r.unit_name} {r.title}（{r.status_label}）'
             for r in d["key_events"].itertuples()]
    note = d.get("calendar_note")
    return WallParts(
        tiles=kpi_tiles_html(build_tiles(d, targets), columns=2),
        trend=trend_html(d["trend"], as_of=as_of) or _NOTE.format("暂无趋势数据"),
        gauges=(gauge_html(d["kpi"]["closure_rate"], "总体办结率", targets["closure_rate"], key="g_all"),
                gauge_html(src.get("app"), "群众APP", targets["closure_rate_app"], key="g_app"),
                gauge_html(src.get("grid"), "网格员上报", targets["closure_rate_grid"], key="g_grid"),
                gauge_html(key_rate, "重点哨", targets["closure_rate_key"], key="g_key")),
        ranking_title=f"{'街道' if unit.level == 0 else '下级单位'}办结率排名",
        ranking=ranking_html(ranked, "closure_rate", pct, max_rows=12) or _NOTE.format("暂无排名数据"),
        donut=category_donut_html(d["by_category"]) or _NOTE.format("暂无事件"),
        ticker=ticker_html(items, "告警·重点哨" if alert_items else "最新重点哨"),
        calendar=(f'<div class="screen-meta fresh-amber" data-testid="calendar-note">⚠ {h(note)}</div>'
                  if note else ""),
        sources=source_line(d["sources"]) if d.get("sources") is not None else "",
        children=tuple((r.code, r.name, r.reported, r.closure_rate, r.overdue) for r in kids.itertuples()),
        latest=d["latest"],
    )


def calendar_years() -> tuple[int, ...]:
    """The years the holiday calendar in use holds (a key of :func:`wall_parts`: its calendar note)."""
    return tuple(sorted(workdays.default_calendar().years))


def focus_line(row: tuple) -> str:
    """The 聚焦 line for a (code, name, reported, closure_rate, overdue) row."""
    _, name, reported, rate, overdue = row
    return (f'<div class="screen-meta" data-testid="focus">聚焦：<b>{h(name)}</b>　上报 {num(reported)} 件　'
            f'办结率 {pct(rate)}　超期 {num(overdue)} 件</div>')


def in_background(fn, *args) -> None:
    """Start ``fn(*args)`` (a cached render) in a thread of this script run, to fill its cache while the
    script computes something else; errors are left for the script's own call of ``fn`` to meet."""
    import threading

    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

    def work() -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001, S110 - the script calls fn itself and handles what it raises
            pass

    t = threading.Thread(target=work, daemon=True, name="wall-prefetch")
    add_script_run_ctx(t, get_script_run_ctx())
    t.start()


_REST = "__rest__"  # stands for the session's own URL parameters in the shared, cached map links


def wall_map(db: str, scope: tuple[str | None, int], unit_code: str, period_token: str, as_of: datetime,
             version: str, focus: str | None, params: tuple[tuple[str, str], ...], width: int, height: int) -> str:
    """The wall's map of one view (see :mod:`components.svg_map`); its links keep ``params`` (the wall's
    other URL parameters: kiosk, period, a display token…), filled in per session, so walls with
    different tokens still share one rendered map."""
    html = _wall_map(db, scope, unit_code, period_token, as_of, version, focus, width, height)
    rest = urlencode([(k, v) for k, v in params if k != "unit"])
    return html.replace(f"&amp;{_REST}=1", h("&" + rest) if rest else "")


@st.cache_resource(show_spinner=False, max_entries=512, ttl=_ttl())
def _wall_map(db: str, scope: tuple[str | None, int], unit_code: str, period_token: str, as_of: datetime,
              version: str, focus: str | None, width: int, height: int) -> str:
    from .grid_map import map_features

    feats = map_features(db, scope, unit_code, version)
    warn = query("child_warnings", Scope(*scope), unit_code, period_token, as_of=as_of)
    colors = dict(zip(warn["code"], warn["color"])) if len(warn) else {}
    labels = dict(zip(warn["code"], warn["color_label"])) if len(warn) else {}
    return map_html(feats["children"], colors, labels, feats["bounds"], width, height, focus=focus,
                    params=((_REST, "1"),))
