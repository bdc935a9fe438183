"""The twelve KPI tiles of the wall, built from :func:`components.overview_data.load_overview`."""

from __future__ import annotations

import math

from common.fmt import change, num, pct

from .kpi import Tile, kpi_tiles


def _vs_target(rate: float, target: float) -> tuple[str, str]:
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return f"目标 ≥{pct(target, 0)}", ""
    return f"目标 ≥{pct(target, 0)}", "kpi-good" if rate >= target else "kpi-bad"


def _yoy(v: float) -> tuple[str, str]:
    if v is None or math.isnan(v):
        return "同比 —", ""
    return f"同比 {v * 100:+.1f}%", "kpi-down" if v < 0 else "kpi-up"


def build_tiles(d: dict, targets: dict) -> list[Tile]:
    """Tiles in wall order; each ``key`` is the data-kpi attribute the browser tests read."""
    k, kp, m = d["kpi"], d["kpi_prev"], d["monthly"]
    vs = d.get("prev_label", "较上期")
    s, pet, cas, med, cam, pat = d["sanling"], d["petitions"], d["cases"], d["mediation"], d["cameras"], d["patrol"]
    spark = lambda col: tuple(float(x) for x in m[col].fillna(0))  # noqa: E731
    rate_foot = _vs_target(k["closure_rate"], targets["closure_rate"])
    return [
        Tile("reported", "事件上报", num(k["reported"]), "件", f"{vs} {change(k['reported'], kp['reported']) or '—'}",
             spark=spark("reported")),
        Tile("closed", "事件办结", num(k["closed"]), "件", f"{vs} {change(k['closed'], kp['closed']) or '—'}",
             spark=spark("closed")),
        Tile("closure_rate", "办结率", pct(k["closure_rate"]), "", *rate_foot, spark=spark("closure_rate")),
        Tile("overdue", "超期件", num(k["overdue"]), "件", f"未办结 {num(k['overdue_open'])} 件",
             "kpi-bad" if k["overdue_open"] else "kpi-good", spark=spark("overdue")),
        Tile("village_rate", "村(社区)三零达标", pct(s["village_rate"]), "",
             *_vs_target(s["village_rate"], targets["village_compliance"])),
        Tile("enterprise_rate", "企事业三零达标", pct(s["enterprise_rate"]), "",
             *_vs_target(s["enterprise_rate"], targets["enterprise_compliance"])),
        Tile("petitions", "信访总量", num(pet["total"]), "件", *_yoy(pet["yoy"])),
        Tile("criminal_cases", "刑事案件", num(cas["cases"]), "起", *_yoy(cas["yoy"])),
        Tile("mediation_settled", "调解成功", num(med["settled"]), "件", f"成功率 {pct(med['success_rate'])}"),
        Tile("camera_online", "视频在线率", pct(cam["online_rate"]), "",
             *_vs_target(cam["online_rate"], targets["camera_online"])),
        Tile("patrol_coverage", "巡逻覆盖率", pct(pat["coverage"]), "",
             f"{vs} {change(pat['coverage'], d['patrol_prev']['coverage'], as_points=True) or '—'}"),
        Tile("key_whistle", "重点哨", num(k["key"]), "件", f"{vs} {change(k['key'], kp['key']) or '—'}"),
    ]


def wall_tiles(d: dict, targets: dict) -> None:
    kpi_tiles(build_tiles(d, targets), columns=2)
