"""Office-page charts: Chinese dates on a date axis, whole-number ticks for small counts."""

from __future__ import annotations

import pandas as pd
import pytest

from components.charts import DATE_FORMATS, bar_figure, date_format, line_figure


@pytest.mark.parametrize("values, grain", [
    (pd.Series(["2026-01", "2026-02", "2026-11"]), "month"),  # what the 三零 and petition trends carry
    (pd.Series(pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"])), "month"),
    (pd.Series(["2026-12-01", "2026-12-02"]), "day"),
    (pd.Series(pd.to_datetime(["2026-12-01", "2026-12-02"])), "day"),
    (pd.Series(pd.date_range("2026-12-03 08:00", periods=48, freq="h")), "time"),  # 数据健康, rows per hour
    (pd.Series(pd.to_datetime(["2026-11-01", None, "2026-12-01"])), "month"),  # gaps do not count
])
def test_date_axes_get_a_chinese_format(values, grain):
    assert date_format(values) == DATE_FORMATS[grain]


@pytest.mark.parametrize("values", [pd.Series(["人和街道", "荷花路街道"]), pd.Series(["2026-10", "合同诈骗"]),
                                    pd.Series([1, 2, 3]), pd.Series([], dtype=object),
                                    pd.Series(["411602001", "411602002"])])
def test_other_axes_keep_plotly_defaults(values):
    assert date_format(values) is None


def test_month_trend_and_hourly_bars_read_in_chinese():
    trend = line_figure(pd.DataFrame({"month": ["2026-01", "2026-02"], "rate": [0.95, 0.97]}), "month",
                        {"rate": "达标率"}, percent=True, target=0.9)
    assert trend.layout.xaxis.tickformat == trend.layout.xaxis.hoverformat == "%Y年%-m月"
    assert trend.layout.yaxis.ticksuffix == "%" and trend.layout.yaxis.dtick is None
    hourly = bar_figure(pd.DataFrame({"hour": pd.date_range("2026-12-03", periods=48, freq="h"), "api": 30}),
                        "hour", {"api": "api"})
    assert hourly.layout.xaxis.tickformat == "%-m月%-d日 %H:%M"


def test_small_counts_tick_by_whole_events_only():
    few = bar_figure(pd.DataFrame({"name": ["人和街道", "文昌街道"], "petition": [2, 3], "case": [0, 1]}), "name",
                     {"petition": "上访", "case": "案件"})
    assert (few.layout.yaxis.tick0, few.layout.yaxis.dtick) == (0, 1)
    assert few.layout.xaxis.tickformat is None
    many = bar_figure(pd.DataFrame({"name": ["a", "b"], "n": [2, 40]}), "name", {"n": "n"})
    rates = bar_figure(pd.DataFrame({"label": ["a", "b"], "r": [0.5, 1.0]}), "label", {"r": "r"}, percent=True)
    fractions = bar_figure(pd.DataFrame({"name": ["a", "b"], "score": [2.5, 3.0]}), "name", {"score": "得分"})
    assert many.layout.yaxis.dtick is None and rates.layout.yaxis.dtick is None
    assert fractions.layout.yaxis.dtick is None
