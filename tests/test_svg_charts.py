"""The wall's daily trend: its date ticks fall on whole days (each date once), months beyond two months."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from components.svg_charts import cjk_font, day_ticks  # noqa: E402


def _labels(days: pd.DatetimeIndex) -> list[str]:
    cjk_font()
    fig, ax = plt.subplots(figsize=(4.8, 3.4), dpi=100)
    ax.plot(days, range(len(days)))
    day_ticks(ax, len(days))
    fig.canvas.draw()
    lo, hi = ax.get_xlim()
    labels = [t.get_text() for t in ax.get_xticklabels() if lo <= t.get_position()[0] <= hi]
    plt.close(fig)
    return labels


@pytest.mark.parametrize("n", [1, 2, 5, 12, 31, 62])
def test_daily_ticks_name_each_date_once(n):
    labels = _labels(pd.date_range("2026-12-01", periods=n, freq="D"))
    assert labels and len(labels) == len(set(labels)) <= 6, labels
    assert all(len(t) == 5 and t[2] == "-" for t in labels), labels  # 12-03


def test_a_year_of_days_ticks_by_month():
    labels = _labels(pd.date_range("2026-01-01", "2026-12-05", freq="D"))
    assert 4 <= len(labels) == len(set(labels)) <= 6, labels
    assert all(t.endswith("月") and 1 <= int(t[:-1]) <= 12 for t in labels), labels


def test_the_running_day_is_marked_partial():
    from datetime import date, datetime

    from components.trend import partial_label, trend_html

    assert partial_label(date(2026, 12, 5), datetime(2026, 12, 5, 7, 11)) == "今日截至 07:11"
    assert partial_label(date(2026, 11, 30), datetime(2026, 12, 5, 7, 11)) is None  # a past month: complete
    assert partial_label(date(2026, 12, 5), None) is None
    df = pd.DataFrame({"day": pd.date_range("2026-12-01", periods=5, freq="D"), "reported": [370, 410, 380, 360, 130],
                       "closed": [385, 435, 365, 352, 128]})
    assert 'data-partial="1"' in trend_html(df, as_of=datetime(2026, 12, 5, 7, 11))
    assert 'data-partial="0"' in trend_html(df, as_of=datetime(2026, 12, 6, 0, 0))
    assert trend_html(df.iloc[:0], as_of=datetime(2026, 12, 5, 7, 11)) == ""
