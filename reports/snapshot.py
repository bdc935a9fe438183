"""Everything a meeting snapshot shows, gathered once for (scope, unit, period).

:func:`build_snapshot` runs every query; the PDF (:mod:`reports.pdf`) and the Excel workbook
(:mod:`reports.excel`) both render the same :class:`Snapshot`, so the two never disagree.
Tables carry their column specification (:class:`Col`: Chinese header, value kind, relative
width) so that each renderer formats numbers the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine

from common.colors import WARNING_LABELS
from data_access import vocab
from data_access.filters import Period, Scope, Unit
from data_access.queries import catalogue, patrol, sanling
from data_access.queries import events as ev
from data_access.queries import indicators as ind
from data_access.queries import report_data as rd
from data_access.queries import targets as tg
from data_access.queries import units as un
from data_access.queries import warnings as wn
from data_access.workdays import calendar_note, years_spanned

# Section key -> Chinese title, in the order the PDF prints them. The cover is always there.
SECTIONS: dict[str, str] = {
    "kpis": "关键指标",
    "gauges": "办结率",
    "map": "四色预警地图",
    "trend": "运行趋势",
    "ranking": "下级单位排名",
    "warnings": "红橙预警清单",
    "overdue": "超期未办结事件",
    "sanling": "“三零”未达标主体",
    "patrol": "巡逻覆盖",
}
WARNING_ORDER = ("red", "orange", "yellow", "blue", "none")
OVERDUE_LIMIT = 5000  # rows fetched for the overdue list (the PDF prints the first ones, Excel all)


@dataclass(frozen=True)
class Col:
    """One table column: source field, Chinese header, value kind and relative PDF width.

    kind: text | int | pct | target (a rate printed '≥95%') | date | datetime | change (signed, the
    row's ``change_unit`` follows in the PDF) | row (the row's own ``_kind`` decides).
    ``pdf=False`` keeps a column to Excel only.
    """

    field: str
    header: str
    kind: str = "text"
    width: float = 1.0
    pdf: bool = True


@dataclass
class Table:
    """A titled table (one Excel sheet, one PDF table)."""

    key: str
    title: str
    columns: list[Col]
    data: pd.DataFrame
    note: str = ""

    def frame(self) -> pd.DataFrame:
        """The table as shown: Chinese headers, raw values (numbers stay numbers)."""
        return self.data[[c.field for c in self.columns]].set_axis([c.header for c in self.columns], axis=1)


@dataclass
class Snapshot:
    """The figures of one unit and period, as one export shows them."""

    unit: Unit
    period: Period
    previous: Period
    scope: Scope
    author: str
    generated_at: datetime
    source: dict
    crumbs: list[str]
    sections: tuple[str, ...]
    unit_info: dict = field(default_factory=dict)
    own_warning: dict = field(default_factory=dict)
    headline: dict = field(default_factory=dict)  # event_kpis of the period
    headline_prev: dict = field(default_factory=dict)
    gauges: list[tuple[str, float, float]] = field(default_factory=list)  # (label, value 0–1, target 0–1)
    geo: object = None  # GeoDataFrame with color, color_label (children, or the unit itself)
    warning_counts: dict = field(default_factory=dict)
    sanling: pd.DataFrame | None = None
    patrol: dict = field(default_factory=dict)
    overdue_total: int = 0
    tables: dict[str, Table] = field(default_factory=dict)
    highlights: list[str] = field(default_factory=list)  # 本期要点: one sentence each
    calendar_note: str | None = None  # said when a year of the period's deadlines has no holiday calendar
    incomplete: str | None = None  # a bulletin's month whose data was incomplete when it was made: why

    @property
    def title(self) -> str:
        return f"{self.unit.name}“三零”创建工作运行通报"

    @property
    def level_label(self) -> str:
        return vocab.KIND_LABELS.get(self.unit.kind, vocab.LEVEL_LABELS.get(self.unit.level, ""))

    @property
    def child_label(self) -> str:
        return vocab.LEVEL_LABELS.get(self.unit.level + 1, "下级单位")

    @property
    def source_line(self) -> str:
        src = self.source
        asof = f"，数据截至 {src['as_of'][:16].replace('T', ' ')}" if src.get("as_of") else ""
        return f"数据来源：{src.get('source', '')}（{src.get('engine', '')}）{asof}"

    def has(self, section: str) -> bool:
        return section in self.sections


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _rate_row(key, label, cur, prev, target=None) -> dict:
    met = None if _nan(cur) or target is None else bool(cur >= target)
    chg = None if _nan(cur) or _nan(prev) else (cur - prev) * 100
    return {"key": key, "label": label, "value": cur, "previous": prev, "change": chg, "change_unit": "个百分点",
            "target": target, "met": {True: "达标", False: "未达标", None: "—"}[met], "_kind": "pct"}


def _count_row(key, label, cur, prev, unit="件") -> dict:
    chg = None if _nan(cur) or _nan(prev) or not prev else (cur - prev) / prev * 100
    return {"key": key, "label": f"{label}（{unit}）", "value": cur, "previous": prev, "change": chg,
            "change_unit": "%", "target": None, "met": "—", "_kind": "int"}


def _warnings(engine, scope, unit, period, as_of) -> tuple[pd.DataFrame, dict]:
    """The children's warnings (worst first) and the unit's own, from the four-colour engine."""
    uw = wn.unit_warning(engine, scope, unit, period, as_of=as_of)
    kids = uw.get("children")
    if kids is None or kids.empty:
        kids = pd.DataFrame(columns=["code", "name", "color", "color_label", "reasons"])
    return kids, {k: uw[k] for k in ("color", "color_label", "reasons")}


def build_snapshot(engine: Engine, scope: Scope, unit: Unit, period: Period, *, as_of: datetime,
                   author: str = "领导", sections: tuple[str, ...] | None = None,
                   progress: Callable[[float, str], None] | None = None) -> Snapshot:
    """Gather every figure of the snapshot for ``unit`` and ``period`` as ``scope`` may see it at ``as_of``
    (also the time the snapshot says it was made).

    ``sections`` (keys of :data:`SECTIONS`, default all) limits what is queried; ``progress``
    is called with (fraction 0–1, Chinese step name) as the work goes on.
    """
    step = progress or (lambda _f, _m: None)
    sections = tuple(s for s in SECTIONS if sections is None or s in sections)
    prev = period.comparable_previous(as_of.date())
    crumbs = [u.name for u in un.breadcrumb(engine, scope, unit)]
    snap = Snapshot(unit=unit, period=period, previous=prev, scope=scope, author=author,
                    generated_at=as_of.replace(microsecond=0), source=rd.data_source(engine),
                    crumbs=crumbs, sections=sections)
    snap.unit_info = un.unit_info(engine, scope, unit)
    targets = tg.target_values(engine)

    step(0.05, "汇总事件指标")
    k, kp = (ev.event_kpis(engine, scope, unit, p, as_of=as_of) for p in (period, prev))
    snap.headline, snap.headline_prev = k, kp
    # overdue figures rest on deadlines counted in working days: say so when a year of them has no calendar
    snap.calendar_note = calendar_note(years_spanned(*ev.deadline_span(engine, scope, unit, period)))
    by_src = ev.closure_by(engine, scope, unit, period, "source", as_of=as_of)
    sl = sanling.compliance_by_kind(engine, scope, unit, period).rename(
        columns={"subjects": "judged", "rate": "compliance_rate"})
    pa = patrol.patrol_summary(engine, scope, unit, period)
    snap.sanling, snap.patrol = sl, pa
    # the 关键指标 table is the metric catalogue: one row per metric, computed by its own function
    cur, old = (catalogue.metric_values(engine, scope, unit, p, as_of=as_of) for p in (period, prev))
    rows = [_rate_row(m.key, m.label, cur[m.key], old[m.key], targets.get(m.target)) if m.is_rate
            else _count_row(m.key, m.label, cur[m.key], old[m.key], m.unit) for m in catalogue.METRICS]
    kpis = pd.DataFrame(rows)
    snap.tables["kpis"] = Table("kpis", "关键指标", [
        Col("label", "指标", "text", 2.6), Col("value", "本期", "row", 1.1), Col("previous", "上期", "row", 1.1),
        Col("change", "较上期", "change", 1.4), Col("change_unit", "变化单位", "text", 1.0, pdf=False),
        Col("target", "目标", "target", 0.9), Col("met", "是否达标", "text", 0.9)], kpis,
        note=f"本期：{period.label}；上期：{prev.label}。率类指标的变化以百分点计，件数类以百分比计。"
             + (f"注：{snap.calendar_note}" if snap.calendar_note else ""))
    src = by_src.assign(_o=by_src["code"].map({c: i for i, c in enumerate(vocab.SOURCES)})).sort_values("_o")
    snap.tables["sources"] = Table("sources", "按来源办结", [
        Col("label", "来源", "text", 1.4), Col("reported", "上报", "int", 1.0), Col("closed", "办结", "int", 1.0),
        Col("closure_rate", "办结率", "pct", 1.0), Col("overdue_open", "超期未办结", "int", 1.1)],
        src.drop(columns="_o").reset_index(drop=True))
    snap.gauges = [(catalogue.metric(key).label, cur[key], targets[catalogue.metric(key).target])
                   for key in ("closure_rate", "closure_rate_grid", "closure_rate_app", "closure_rate_key")]

    step(0.3, "四色预警研判")
    warn, snap.own_warning = _warnings(engine, scope, unit, period, as_of)
    warn = warn.copy()
    warn["color"] = warn["color"].where(warn["color"].isin(WARNING_ORDER), "none")
    warn["color_label"] = warn["color"].map(WARNING_LABELS)  # '红色预警' … '正常', as the legend says
    own = snap.own_warning.get("color", "none")
    snap.own_warning["color_label"] = WARNING_LABELS.get(own, WARNING_LABELS["none"])
    snap.warning_counts = {c: int((warn["color"] == c).sum()) for c in WARNING_ORDER}
    if snap.has("map"):
        if len(warn):
            shown = warn[["code", "color", "color_label"]]
            gdf = un.geometries(engine, scope, parent=unit)
        else:  # a unit without children: show the unit itself in its own colour
            shown = pd.DataFrame([{"code": unit.code, "color": snap.own_warning.get("color", "none"),
                                   "color_label": snap.own_warning.get("color_label", WARNING_LABELS["none"])}])
            gdf = un.geometries(engine, scope, codes=[unit.code])
        snap.geo = gdf.merge(shown, on="code", how="left").fillna(
            {"color": "none", "color_label": WARNING_LABELS["none"]})

    step(0.45, "下级单位排名")
    if snap.has("ranking") or snap.has("patrol"):
        kids = ev.child_event_kpis(engine, scope, unit, period, as_of=as_of)
        extra = rd.child_breakdown(engine, scope, unit, period)
        rank = kids.merge(extra, on="code", how="left").merge(
            warn[["code", "color", "color_label"]], on="code", how="left").fillna(
            {"color": "none", "color_label": WARNING_LABELS["none"]})
        rank["_order"] = rank["closure_rate"].fillna(-1)
        rank = rank.sort_values(["_order", "overdue_open", "code"], ascending=[False, True, True], ignore_index=True)
        rank.insert(0, "rank", range(1, len(rank) + 1))
        snap.tables["ranking"] = Table("ranking", "下级单位排名", [
            Col("rank", "排名", "int", 0.6), Col("name", snap.child_label, "text", 2.0),
            Col("color_label", "预警等级", "text", 1.2), Col("reported", "上报", "int", 0.9),
            Col("closed", "办结", "int", 0.9), Col("closure_rate", "办结率", "pct", 1.0),
            Col("overdue_open", "超期未办结", "int", 1.1), Col("compliance_rate", "“三零”达标率", "pct", 1.2),
            Col("coverage", "巡逻覆盖率", "pct", 1.1)], rank.drop(columns="_order"),
            note="按办结率从高到低排名；办结率相同按超期未办结件数从少到多。")
        cov = rank[["name", "color_label", "cells", "covered", "coverage"]].sort_values(
            "coverage", ascending=False, ignore_index=True)
        snap.tables["patrol"] = Table("patrol", "巡逻覆盖", [
            Col("name", snap.child_label, "text", 2.0), Col("color_label", "预警等级", "text", 1.2),
            Col("cells", "网格数", "int", 1.0), Col("covered", "已巡网格", "int", 1.0),
            Col("coverage", "覆盖率", "pct", 1.0)], cov,
            note=f"本期巡逻 {pa['patrols']:,} 次、{pa['km']:,.0f} 公里；{pa['covered']:,} / {pa['cells']:,} 个网格"
                 f"至少巡逻一次。目标覆盖率 ≥{targets['patrol_coverage'] * 100:.0f}%。")

    if snap.has("warnings") or snap.has("map"):  # the map page lists them too
        ro = warn[warn["color"].isin(("red", "orange"))].copy()
        ro["_o"] = ro["color"].map({c: i for i, c in enumerate(WARNING_ORDER)})
        ro = ro.sort_values(["_o"], kind="stable", ignore_index=True)
        ro["reasons_text"] = ro["reasons"].map(lambda r: "；".join(r) if isinstance(r, (list, tuple)) else str(r))
        snap.tables["warnings"] = Table("warnings", "红橙预警清单", [
            Col("name", snap.child_label, "text", 1.6), Col("color_label", "预警等级", "text", 1.1),
            Col("reasons_text", "预警原因", "text", 6.0)], ro,
            note="四色预警：红色最重，橙、黄、蓝依次减轻；本表列出红色、橙色预警单位及研判原因。")

    step(0.6, "超期事件与“三零”主体")
    if snap.has("overdue"):
        od = rd.overdue_events(engine, scope, unit, period, as_of=as_of, limit=OVERDUE_LIMIT)
        od["place"] = [" / ".join(p for p in parts if isinstance(p, str) and p)
                       for parts in od[["l1_name", "l2_name", "unit_name"]].itertuples(index=False)]
        snap.overdue_total = int(k["overdue_open"])
        snap.tables["overdue"] = Table("overdue", "超期未办结事件", [
            Col("id", "事件编号", "text", 2.1), Col("title", "事件", "text", 1.7),
            Col("category_label", "类别", "text", 0.9), Col("source_label", "来源", "text", 1.0),
            Col("whistle_label", "哨级", "text", 0.7), Col("place", "所在位置", "text", 3.2),
            Col("responsible_unit", "责任单位", "text", 1.5), Col("reported_at", "上报时间", "datetime", 1.5),
            Col("deadline", "办理时限", "datetime", 1.5), Col("overdue_days", "超期天数", "int", 0.8),
            Col("status_label", "当前环节", "text", 0.9)], od,
            note=f"本期上报、截至 {as_of:%Y-%m-%d %H:%M} 仍未办结且已超过办理时限的事件共 "
                 f"{snap.overdue_total:,} 件，按办理时限先后排列"
                 + (f"（清单列出前 {len(od):,} 件）。" if len(od) < snap.overdue_total else "。")
                 + (f"注：{snap.calendar_note}" if snap.calendar_note else ""))
    if snap.has("sanling"):
        bad = rd.sanling_noncompliant(engine, scope, unit, period, limit=OVERDUE_LIMIT)
        snap.tables["sanling"] = Table("sanling", "三零未达标主体", [
            Col("name", "创建主体", "text", 1.8), Col("kind_label", "类别", "text", 1.1),
            Col("type_label", "类型", "text", 0.9), Col("department", "主管部门", "text", 1.4),
            Col("unit_name", "所属单位", "text", 1.4), Col("l1_name", "所属街道(乡镇)", "text", 1.4),
            Col("month", "研判月份", "date", 1.1), Col("broken", "未达标项", "text", 1.0),
            Col("note", "情况说明", "text", 1.7)], bad,
            note=(f"研判月份 {sl['month'].iat[0]}：" if sl["month"].iat[0] else "尚无研判：")
            + "；".join(f"{r.kind_label}{r.compliant:,}/{r.judged:,} 达标（{_pct(r.compliance_rate)}）"
                       for r in sl.itertuples()))

    step(0.75, "趋势")
    if snap.has("trend"):
        tr = ind.event_monthly(engine, scope, unit, period, as_of=as_of).rename(columns={"month": "label"})
        snap.tables["trend"] = Table("trend", "月度趋势", [
            Col("label", "月份", "text", 1.0), Col("reported", "上报", "int", 1.0), Col("closed", "办结", "int", 1.0),
            Col("closure_rate", "办结率", "pct", 1.0), Col("overdue_open", "超期未办结", "int", 1.0)], tr,
            note="近十二个月，按上报月份统计。")
    snap.highlights = _highlights(snap, targets)
    step(0.8, "数据汇总完成")
    return snap


def _highlights(snap: Snapshot, targets: dict[str, float]) -> list[str]:
    """The few sentences a meeting reads first: volume, closure, targets missed, warnings, hot spots."""
    k, kp = snap.headline, snap.headline_prev
    kpis = snap.tables["kpis"].data
    out = []
    chg = "—" if not kp["reported"] else f"{(k['reported'] - kp['reported']) / kp['reported'] * 100:+.1f}%"
    rate, tgt = k["closure_rate"], targets["closure_rate"]
    verdict = "" if _nan(rate) else ("，达到" if rate >= tgt else "，低于") + f"目标 {tgt * 100:.0f}%"
    out.append(f"本期上报事件 {k['reported']:,.0f} 件（较上期 {chg}），办结 {k['closed']:,.0f} 件，"
               f"办结率 {_pct(rate)}{verdict}；超期未办结 {k['overdue_open']:,.0f} 件。")
    missed = kpis[kpis["met"] == "未达标"]
    if len(missed):
        out.append("未达目标的指标：" + "、".join(
            f"{r.label}（{_pct(r.value)}，目标 ≥{r.target * 100:.0f}%）" for r in missed.itertuples()) + "。")
    else:
        out.append("各项有目标的指标均已达标。")
    wc = snap.warning_counts
    if sum(wc.values()):
        parts = [f"{WARNING_LABELS[c][:2]} {wc[c]} 个" for c in WARNING_ORDER[:4] if wc.get(c)]
        text = f"四色预警（{snap.child_label}）：" + ("、".join(parts) if parts else "均无预警")
        ro = snap.tables.get("warnings")
        if ro is not None and len(ro.data):
            text += "；红、橙色预警：" + "、".join(ro.data["name"].head(6)) + ("等" if len(ro.data) > 6 else "")
        out.append(text + "。")
    rank = snap.tables.get("ranking")
    if rank is not None and len(rank.data) and k["overdue_open"]:
        top = rank.data.sort_values("overdue_open", ascending=False).head(3)
        top = top[top["overdue_open"] > 0]
        if len(top):
            out.append("超期未办结较多的" + snap.child_label + "：" + "、".join(
                f"{r.name}（{r.overdue_open} 件）" for r in top.itertuples()) + "。")
    if snap.sanling is not None:
        bad = snap.tables.get("sanling")
        n_bad = f"，未达标主体 {len(bad.data):,} 个" if bad is not None else ""
        out.append("“三零”创建：" + "，".join(f"{r.kind_label}达标率 {_pct(r.compliance_rate)}"
                                           for r in snap.sanling.itertuples()) + n_bad + "。")
    pa = snap.patrol
    if pa:
        cov_t = targets["patrol_coverage"]
        low = ""
        pt = snap.tables.get("patrol")
        if pt is not None and len(pt.data):
            last = pt.data.dropna(subset=["coverage"]).tail(1)
            if len(last):
                low = f"；覆盖率最低：{last['name'].iat[0]}（{_pct(last['coverage'].iat[0])}）"
        verdict = "" if _nan(pa["coverage"]) else ("，达到" if pa["coverage"] >= cov_t else "，低于") + \
            f"目标 {cov_t * 100:.0f}%"
        out.append(f"网格巡逻覆盖率 {_pct(pa['coverage'])}{verdict}{low}。")
    return out


def _pct(v) -> str:
    return "—" if _nan(v) else f"{v * 100:.1f}%"
