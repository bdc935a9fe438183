"""Targets (目标值) the screens compare against, stored in the ``targets`` table."""

from __future__ import annotations

from sqlalchemy import Engine, select

from data_access.db.connection import connect
from data_access.db.schema import targets

# key -> (value, label, source). Province/city targets from the seed reports.
DEFAULT_TARGETS: dict[str, tuple[float, str, str]] = {
    "closure_rate": (0.95, "事件办结率", "区定目标"),
    "closure_rate_grid": (0.99, "网格员上报办结率", "区定目标"),
    "closure_rate_app": (0.90, "群众APP办结率", "区定目标"),
    "closure_rate_key": (0.95, "重点哨办结率", "区定目标"),
    "village_compliance": (0.90, "村(社区)“三零”达标率", "省定目标"),
    "enterprise_compliance": (0.98, "企事业单位“三零”达标率", "省定目标"),
    "camera_online": (0.98, "视频监控在线率", "市定目标"),
    "patrol_coverage": (0.90, "网格巡逻覆盖率", "区定目标"),
    "mediation_success": (0.95, "矛盾纠纷调解成功率", "市定目标"),
}


def default_target_rows() -> list[dict]:
    return [{"key": k, "value": v, "label": lab, "source": src} for k, (v, lab, src) in DEFAULT_TARGETS.items()]


def target_values(engine: Engine) -> dict[str, float]:
    """All targets as ``{key: value}`` (ratios 0–1), defaults filled in for missing keys."""
    with connect(engine) as conn:
        rows = dict(conn.execute(select(targets.c.key, targets.c.value)).all())
    return {k: float(rows.get(k, v[0])) for k, v in DEFAULT_TARGETS.items()} | {
        k: float(v) for k, v in rows.items()}


