"""The twelve KPI tiles of the wall, built from :func:`components.overview_data.load_overview`."""

from __future__ import annotations

import math

from common.fmt import change, num, pct
from data_access.queries.catalogue import BY_KEY

from .kpi import Tile
from .overview_data import WALL


def _vs_target(rate: float, target: float, before: str = "") -> tuple[str, str]:
    text = f"{before}目标 ≥{pct(target, 0)}"
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return text, ""
    return text, "kpi-good" if rate >= target else "kpi-bad"


def _yoy(v: float) -> tuple[str, str]:
    if v is None or math.isnan(v):
        return "同比 —", ""
    return f"同比 {v * 100:+.1f}%", "kpi-down" if v < 0 else "kpi-up"


def build_tiles(d: dict, targets: dict) -> list[Tile]:
    """Tiles in wall order (:data:`WALL`), label and value from the metric catalogue; each tile's ``key``
    is the data-kpi attribute the browser tests read."""
    k, m, cur, prev = d["kpi"], d["monthly"], d["metrics"], d["metrics_prev"]
    vs = d.get("prev_label", "较上期")
    pet, cas, med = d["petitions"], d["cases"], d["mediation"]
    spark = lambda col: tuple(float(x) for x in m[col].fillna(0))  # noqa: E731

    def vs_prev(key: str) -> tuple[str]:
        return (f"{vs} {change(cur[key], prev[key], as_points=BY_KEY[key].is_rate) or '—'}",)

    feet = {
        "reported": vs_prev("reported"), "closed": vs_prev("closed"),
        "overdue": (f"未办结 {num(k['overdue_open'])} 件", "kpi-bad" if k["overdue_open"] else "kpi-good"),
        "petitions": _yoy(pet["yoy"]), "criminal_cases": _yoy(cas["yoy"]),
        "mediation_settled": (f"成功率 {pct(med['success_rate'])}",),
        "patrol_coverage": vs_prev("patrol_coverage"), "key": vs_prev("key"),
    }
    judged = d["sanling"].get("month")  # 三零 reads the latest judged month: say which
    for key in ("village_compliance", "enterprise_compliance"):
        feet[key] = _vs_target(cur[key], targets[BY_KEY[key].target], f"{judged}研判 · " if judged else "")
    sparks = {c: spark(c) for c in ("reported", "closed", "closure_rate", "overdue")}
    tiles = []
    for key in WALL:
        mt = BY_KEY[key]
        foot = feet.get(key) or (_vs_target(cur[key], targets[mt.target]) if mt.target else ())
        tiles.append(Tile(mt.tile_key, mt.tile_label, mt.format(cur[key]), "" if mt.is_rate else mt.unit, *foot,
                          spark=sparks.get(key, ())))
    return tiles
