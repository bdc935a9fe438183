"""Wall charts rendered on the server as inline SVG (matplotlib).

Why not Plotly here: the wall is a fixed 1920×1080 design scaled up by CSS on 4K screens,
and Plotly re-measures and re-scales itself under a CSS zoom/transform (charts drew at twice
their size). An SVG with a viewBox simply scales, stays sharp and needs no JavaScript (the PDF
snapshot draws its own print-size charts the same way, in ``reports/charts.py``). Text is
converted to paths, so no font is needed in the browser, and no label (data) can become markup:
the SVG is shown as an ``<img>`` and matplotlib's ``$…$`` math parsing is off.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.font_manager import FontProperties, fontManager  # noqa: E402
from matplotlib.patches import Wedge  # noqa: E402

TEXT = "#CFE3FF"
GRID = "#1B335C"
BLUE, GREEN, AMBER = "#3BA0FF", "#69F0AE", "#FFB300"
PALETTE = ["#3BA0FF", "#69F0AE", "#FFB300", "#FF7043", "#AB47BC", "#26C6DA", "#8D6E63"]


@lru_cache(maxsize=1)
def cjk_font() -> FontProperties:
    """Noto Sans CJK SC from the pinned ``noto-cjk-sans-otc`` wheel (no system font needed)."""
    import os

    import noto_cjk_sans_otc

    path = os.path.join(os.path.dirname(noto_cjk_sans_otc.__file__), "NotoSansCJK-Regular.ttc")
    fontManager.addfont(path)
    names = [f.name for f in fontManager.ttflist if f.fname == path]
    name = "Noto Sans CJK SC" if "Noto Sans CJK SC" in names else (names[0] if names else "DejaVu Sans")
    plt.rcParams["font.family"] = [name, "DejaVu Sans"]
    plt.rcParams["svg.fonttype"] = "path"
    plt.rcParams["axes.unicode_minus"] = False
    plt.rcParams["text.parse_math"] = False  # labels are data: "$…$" in a name is text, not math
    return FontProperties(family=name)


def _svg(fig) -> str:
    """The figure as an ``<img>`` holding the SVG as a data URI (inline SVG ``<use>`` elements are
    stripped by Streamlit's HTML sanitiser; an image keeps the vector drawing intact)."""
    import base64

    buf = io.BytesIO()
    fig.savefig(buf, format="svg", transparent=True)
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="" style="width:100%;height:auto;display:block" src="data:image/svg+xml;base64,{data}">'


def gauge_svg(value: float | None, title: str, target: float | None, w_in: float = 2.4, h_in: float = 1.75) -> str:
    """A 0–100 % half-ring gauge; the target is a white tick; NaN → '—'."""
    cjk_font()
    fig = plt.figure(figsize=(w_in, h_in), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(-1.2, 1.2)
    ax.set_ylim(-0.35, 1.38)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.add_patch(Wedge((0, 0), 1.0, 0, 180, width=0.24, color="#23304F"))
    ok = value is not None and not (isinstance(value, float) and math.isnan(value))
    if ok:
        color = GREEN if target is None or value >= target else AMBER
        ax.add_patch(Wedge((0, 0), 1.0, 180 - 180 * max(0.0, min(1.0, value)), 180, width=0.24, color=color))
    if target is not None:
        a = math.radians(180 - 180 * target)
        ax.plot([0.7 * math.cos(a), 1.08 * math.cos(a)], [0.7 * math.sin(a), 1.08 * math.sin(a)], color="white", lw=2.5)
    ax.text(0, 0.12, f"{value * 100:.1f}%" if ok else "—", ha="center", va="center", fontsize=20, color="white",
            fontweight="bold")
    ax.text(0, 1.22, title, ha="center", va="center", fontsize=12, color=TEXT)
    if target is not None:
        ax.text(0, -0.22, f"目标 {target * 100:.0f}%", ha="center", va="center", fontsize=9, color="#9FC3FF")
    return _svg(fig)


def day_ticks(ax, n_days: int, most: int = 6) -> None:
    """At most ``most`` x ticks for a daily series of ``n_days`` days, each on a whole day ('12-03') — or on
    the first of a month ('10月') beyond two months. (matplotlib's AutoDateLocator put ticks every 12 hours
    on a five-day month start, so every date showed twice.)"""
    import matplotlib.dates as mdates
    from matplotlib.ticker import FuncFormatter

    if n_days > 62:
        ax.xaxis.set_major_locator(mdates.MonthLocator(interval=max(1, math.ceil(n_days / 30.5 / most))))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{mdates.num2date(x).month}月"))
    else:
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, math.ceil(n_days / most))))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))


def trend_svg(days, reported, closed, w_in: float = 4.8, h_in: float = 3.4, partial: str | None = None) -> str:
    """Daily reported (area) vs closed (line). ``partial`` (e.g. '今日截至 07:11'): the last day is still
    running — its segment is dashed and labelled, so a morning's low count does not read as a collapse."""
    cjk_font()
    fig, ax = plt.subplots(figsize=(w_in, h_in), dpi=100)
    fig.subplots_adjust(left=0.1, right=0.98, top=0.9, bottom=0.12)
    ax.fill_between(days, reported, color=BLUE, alpha=0.18, lw=0)
    cut = len(days) - 1 if partial and len(days) >= 2 else len(days)
    dashed = (0, (3, 2))
    for series, color, label in ((reported, BLUE, "上报"), (closed, GREEN, "办结")):
        ax.plot(days[:cut], series[:cut], color=color, lw=1.8, label=label)
        if cut < len(days):
            ax.plot(days[cut - 1:], series[cut - 1:], color=color, lw=1.5, ls=dashed, alpha=0.8)
    if cut < len(days):  # a legend entry, not a label by the point: it never covers the lines
        ax.plot([], [], color=TEXT, lw=1.5, ls=dashed, label=partial)
    ax.set_ylim(bottom=0)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.grid(axis="y", color=GRID, lw=0.8)
    ax.tick_params(colors=TEXT, labelsize=9, length=0)
    day_ticks(ax, len(days))
    leg = ax.legend(loc="upper right", bbox_to_anchor=(1, 1.13), ncol=3, frameon=False, fontsize=9)
    for t in leg.get_texts():
        t.set_color(TEXT)
    return _svg(fig)


def donut_svg(labels, values, w_in: float = 4.8, h_in: float = 2.5) -> str:
    """Category mix: a donut with a legend of label + share."""
    cjk_font()
    fig = plt.figure(figsize=(w_in, h_in), dpi=100)
    ax = fig.add_axes([0.02, 0.04, 0.5, 0.92])
    total = float(sum(values)) or 1.0
    ax.pie(values, colors=PALETTE[: len(values)], startangle=90, counterclock=False,
           wedgeprops={"width": 0.38, "edgecolor": "#07142B", "linewidth": 1.5})
    ax.text(0, 0, f"{int(total):,}\n件", ha="center", va="center", color="white", fontsize=12, fontweight="bold")
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = 0.86 - i * 0.14
        fig.patches.append(plt.Rectangle((0.56, y - 0.035), 0.03, 0.07, transform=fig.transFigure,
                                         color=PALETTE[i % len(PALETTE)]))
        fig.text(0.61, y, f"{lab}", color=TEXT, fontsize=10, va="center")
        fig.text(0.97, y, f"{v / total * 100:.1f}%", color="white", fontsize=10, va="center", ha="right")
    return _svg(fig)
