"""The metric catalogue: every headline figure once — key, Chinese label, unit, definition, function.

Every surface reads a figure through its :class:`Metric`: the wall's tiles
(``components.wall_tiles``), the pages (巡逻防控, 我的指标 lists the whole catalogue), the PDF and the
Excel workbook (``reports.snapshot`` builds its 关键指标 table from :data:`METRICS`); the warning
engine and the ranking read the same query functions (``sanling.compliance_by_child``,
``patrol.coverage_by``). ``tests/test_catalogue.py`` checks, on SQLite and PostgreSQL, that the wall,
the page, the PDF and the workbook show the same value of every metric for the same unit and period.

A metric's value is ``metric.compute(engine, scope, unit, period, as_of=...)``: the named query
function (scoped, one unit, one period) returns a dict and ``field`` picks the figure from it.
Rates are ratios 0–1 (``unit == "%"``), NaN when there is nothing to divide by.

Adding a metric
---------------
1. Write (or extend) the scoped query function in one query module of ``data_access/queries/``:
   ``fn(engine, scope, unit, period[, *, as_of]) -> dict``, scope applied with ``_apply_scope``.
2. Add one :class:`Metric` to :data:`METRICS` below: key, label, unit, one-sentence definition, the
   function and the dict key it returns; ``target`` if ``queries/targets.py`` has one.
It then appears in the PDF/Excel 关键指标 table and on 我的指标, and the consistency test covers it.
To show it on the wall too, add its key to ``components.wall_tiles.WALL``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from data_access.filters import Period, Scope, Unit
from data_access.queries import events, indicators, patrol, sanling


@dataclass(frozen=True)
class Metric:
    """One figure: what it is called, what it means and which function computes it."""

    key: str  # identifier: PDF/Excel row key, wall tile (unless ``tile``), ``metric_values(keys=...)``
    label: str  # Chinese label, as the PDF, Excel and 我的指标 print it
    unit: str  # "%" for a rate 0–1, else the count word (件, 次, 起)
    definition: str  # one sentence, Chinese (shown on 我的指标 and in the PDF's 口径)
    query: Callable[..., dict]  # scoped query function: (engine, scope, unit[, period][, *, as_of]) -> dict
    field: str  # the key of its dict that holds this figure
    target: str | None = None  # key in queries/targets.py
    short: str | None = None  # shorter label for a tile, when the label is long
    tile: str | None = None  # the wall tile's data-kpi, when it differs from key

    @property
    def query_name(self) -> str:
        return self.query.__name__

    @property
    def is_rate(self) -> bool:
        return self.unit == "%"

    @property
    def takes_period(self) -> bool:
        return "period" in inspect.signature(self.query).parameters

    @property
    def takes_as_of(self) -> bool:
        return "as_of" in inspect.signature(self.query).parameters

    @property
    def tile_key(self) -> str:
        return self.tile or self.key

    @property
    def tile_label(self) -> str:
        return self.short or self.label

    def pick(self, result: dict) -> float:
        """This metric's value from its query function's result."""
        return result[self.field]

    def run(self, engine: Engine, scope: Scope, unit: Unit, period: Period, *, as_of: datetime) -> dict:
        """The query function's whole result for ``unit`` and ``period`` (``as_of`` only where it counts)."""
        args = (engine, scope, unit, period) if self.takes_period else (engine, scope, unit)
        return self.query(*args, **({"as_of": as_of} if self.takes_as_of else {}))

    def compute(self, engine: Engine, scope: Scope, unit: Unit, period: Period, *, as_of: datetime) -> float:
        """The value of this metric for ``unit`` and ``period`` as ``scope`` may see it at ``as_of``."""
        return self.pick(self.run(engine, scope, unit, period, as_of=as_of))

    def format(self, value) -> str:
        """The value as every screen prints it: '95.7%' for a rate, '12,345' for a count, '—' if missing."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        return f"{value * 100:.1f}%" if self.is_rate else f"{int(round(value)):,}"


METRICS: tuple[Metric, ...] = (
    Metric("reported", "事件上报", "件", "本期上报的事件数（按上报时间统计）。", events.event_kpis, "reported"),
    Metric("closed", "事件办结", "件", "本期上报的事件中截至统计时已办结的件数。", events.event_kpis, "closed"),
    Metric("closure_rate", "事件办结率", "%", "办结率＝本期上报事件中已办结的件数÷本期上报件数。",
           events.event_kpis, "closure_rate", target="closure_rate", short="办结率"),
    Metric("closure_rate_grid", "网格员上报办结率", "%", "网格员上报的本期事件中已办结的比例。",
           events.closure_rates, "grid", target="closure_rate_grid"),
    Metric("closure_rate_app", "群众APP办结率", "%", "群众APP上报的本期事件中已办结的比例。",
           events.closure_rates, "app", target="closure_rate_app"),
    Metric("closure_rate_key", "重点哨办结率", "%", "重点哨（区级）本期事件中已办结的比例。",
           events.closure_rates, "key", target="closure_rate_key"),
    Metric("overdue", "超期事件", "件", "本期上报的事件中办结晚于办理时限或逾期仍未办结的件数。",
           events.event_kpis, "overdue", short="超期件"),
    Metric("overdue_open", "超期未办结", "件", "本期上报的事件中截至统计时已过办理时限仍未办结的件数。",
           events.event_kpis, "overdue_open"),
    Metric("key", "重点哨事件", "件", "本期上报的重点哨（区级）事件数。", events.event_kpis, "key",
           short="重点哨", tile="key_whistle"),
    Metric("village_compliance", "村(社区)“三零”达标率", "%",
           "截至期末最近一个研判月中，村(社区)创建主体达标个数÷研判个数。",
           sanling.sanling_compliance, "village_rate", target="village_compliance", short="村(社区)三零达标",
           tile="village_rate"),
    Metric("enterprise_compliance", "企事业单位“三零”达标率", "%",
           "截至期末最近一个研判月中，企事业单位创建主体达标个数÷研判个数。",
           sanling.sanling_compliance, "enterprise_rate", target="enterprise_compliance", short="企事业三零达标",
           tile="enterprise_rate"),
    Metric("patrol_coverage", "网格巡逻覆盖率", "%", "本期至少有一条巡逻轨迹经过的网格数÷网格总数。",
           patrol.patrol_coverage, "coverage", target="patrol_coverage", short="巡逻覆盖率"),
    Metric("double_patrol", "一日双巡达标率", "%", "本期“网格·日”中巡逻不少于两次的比例（网格数×天数为分母）。",
           patrol.double_patrol, "compliance"),
    Metric("patrols", "巡逻次数", "次", "本期开始、所属单位在本单位之下的巡逻次数。", patrol.patrol_summary, "patrols"),
    Metric("petitions", "信访总量", "件", "本期受理的信访件数（来访、网上、来信）。",
           indicators.petition_stats, "total"),
    Metric("criminal_cases", "刑事案件", "起", "本期发生的刑事案件数。", indicators.criminal_case_stats, "cases"),
    Metric("mediation_settled", "调解成功", "件", "本期受理的矛盾纠纷中调解成功的件数。",
           indicators.mediation_stats, "settled"),
    Metric("mediation_success", "矛盾纠纷调解成功率", "%", "调解成功件数÷（调解成功＋调解失败）件数。",
           indicators.mediation_stats, "success_rate", target="mediation_success", short="调解成功率"),
    Metric("camera_online", "视频监控在线率", "%", "本单位现有摄像头中当前在线的比例（不随时段变化）。",
           indicators.camera_stats, "online_rate", target="camera_online", short="视频在线率"),
)

BY_KEY: dict[str, Metric] = {m.key: m for m in METRICS}


def metric(key: str) -> Metric:
    """The catalogue entry ``key`` (KeyError names the known keys)."""
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown metric {key!r}; known: {', '.join(BY_KEY)}") from None


def metric_values(engine: Engine, scope: Scope, unit: Unit, period: Period, keys: Iterable[str] | None = None, *,
                  as_of: datetime) -> dict[str, float]:
    """``{key: value}`` for ``keys`` (default: the whole catalogue), each query function run once."""
    chosen = [metric(k) for k in keys] if keys is not None else list(METRICS)
    results: dict[Callable, dict] = {}
    for m in chosen:
        if m.query not in results:
            results[m.query] = m.run(engine, scope, unit, period, as_of=as_of)
    return {m.key: m.pick(results[m.query]) for m in chosen}


__all__ = ["BY_KEY", "METRICS", "Metric", "metric", "metric_values"]
