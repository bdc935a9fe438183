"""Matplotlib charts for the snapshot, rendered as SVG (vector) with the bundled CJK font.

No system font is needed: Noto Sans CJK comes from the ``noto-cjk-sans-otc`` package and is
registered with matplotlib's font manager on first use. Glyphs are written as SVG paths, so
the charts stay sharp at print size and need no font inside the SVG. Charts read in black and
white too: values are printed on the marks and targets are dashed lines with a label.
"""

from __future__ import annotations

import io
import math
import re
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display, no browser

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager, patheffects  # noqa: E402
from matplotlib.patches import Wedge  # noqa: E402

FONT_FAMILY = "Noto Sans CJK SC"
SC_COLLECTION_INDEX = 2  # JP, KR, SC, TC, HK, then the Mono faces, in NotoSansCJK-Regular.ttc

_METADATA = re.compile(rb"<metadata>.*?</metadata>", re.S)
INK = "#1F2933"
MUTED = "#6B7785"
GRID = "#D5DBE3"
BAR = "#8FB3DE"
GOOD = "#2E7D32"
BAD = "#C62828"


def font_path() -> Path:
    """The Noto Sans CJK collection shipped by the ``noto-cjk-sans-otc`` package."""
    import noto_cjk_sans_otc

    return Path(str(noto_cjk_sans_otc.FONT_PATH))


@lru_cache(maxsize=1)
def setup_matplotlib() -> None:
    """Register the bundled font and a print style (once per process)."""
    font_manager.fontManager.addfont(str(font_path()))
    plt.rcParams.update({
        "font.family": [FONT_FAMILY],
        "axes.unicode_minus": False,
        "text.parse_math": False,  # unit names are data: "$…$" in a name is text, not math (or an error)
        "svg.fonttype": "path",
        "svg.hashsalt": "snapshot",  # stable ids: the same figure gives the same bytes
        "axes.edgecolor": GRID,
        "axes.labelcolor": INK,
        "xtick.color": MUTED,
        "ytick.color": MUTED,
        "axes.titlesize": 11,
        "font.size": 9,
        # Text drawn through a path effect becomes one inline <path> per string instead of one
        # <use> per glyph, which fpdf2 would deep-copy glyph by glyph (4x slower to place).
        "path.effects": [patheffects.Normal()],
    })


def to_svg(fig) -> bytes:
    """The figure as SVG bytes (closes it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    # fpdf2 ignores <metadata> (and logs each time): leave it out
    return _METADATA.sub(b"", buf.getvalue())


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def gauges(items: list[tuple[str, float, float]], width_in: float = 5.6, height_in: float = 3.6) -> bytes:
    """Half-circle gauges (0–100 %) in a 2×2 grid: value arc, target tick, value and verdict as text."""
    setup_matplotlib()
    n = max(1, len(items))
    cols = 2 if n > 1 else 1
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width_in, height_in), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, (label, value, target) in zip(axes.flat, items):
        ax.set_xlim(-1.25, 1.25)
        ax.set_ylim(-0.62, 1.15)
        ax.set_aspect("equal")
        ax.add_patch(Wedge((0, 0), 1.0, 0, 180, width=0.28, facecolor="#E6EAF0", edgecolor="none"))
        if not _nan(value):
            ok = target is None or value >= target
            ax.add_patch(Wedge((0, 0), 1.0, 180 - 180 * max(0.0, min(1.0, value)), 180, width=0.28,
                               facecolor=GOOD if ok else BAD, edgecolor="none"))
        if target is not None:
            a = math.pi * (1 - target)
            ax.plot([0.66 * math.cos(a), 1.06 * math.cos(a)], [0.66 * math.sin(a), 1.06 * math.sin(a)],
                    color=INK, lw=2.0, solid_capstyle="butt")
        ax.text(-1.0, -0.1, "0", fontsize=7, color=MUTED, ha="center")
        ax.text(1.0, -0.1, "100%", fontsize=7, color=MUTED, ha="center")
        shown = "—" if _nan(value) else f"{value * 100:.1f}%"
        ax.text(0, 0.12, shown, fontsize=15, color=INK, ha="center", va="center", fontweight="bold")
        verdict = "" if _nan(value) or target is None else ("达标" if value >= target else "未达标")
        ax.text(0, -0.22, f"{label}", fontsize=9, color=INK, ha="center", va="center")
        if target is not None:
            ax.text(0, -0.47, f"目标 ≥{target * 100:.0f}%" + (f" · {verdict}" if verdict else ""), fontsize=8,
                    color=BAD if verdict == "未达标" else GOOD if verdict else MUTED, ha="center", va="center")
    fig.subplots_adjust(left=0.01, right=0.99, top=0.99, bottom=0.01, wspace=0.05, hspace=0.05)
    return to_svg(fig)


def monthly_trend(df, target: float | None, width_in: float = 10.5, height_in: float = 3.4) -> bytes:
    """Two panels sharing the months: closure rate (line, dashed target) above, events reported (bars) below.

    ``df`` has columns label ('2026-10'), reported, closure_rate (see ``report_data.monthly_trend``).
    """
    setup_matplotlib()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(width_in, height_in), sharex=True,
                                      gridspec_kw={"height_ratios": [1, 1.25], "hspace": 0.12})
    x = list(range(len(df)))
    rate = [float("nan") if _nan(v) else v * 100 for v in df["closure_rate"]]
    top.plot(x, rate, color=INK, marker="o", ms=3.5, lw=1.4)
    for xi, r in zip(x, rate):
        if not math.isnan(r):
            top.annotate(f"{r:.1f}%", (xi, r), textcoords="offset points", xytext=(0, 5), ha="center",
                         fontsize=7, color=INK)
    known = [v for v in rate if not math.isnan(v)]
    lo = min(known + ([target * 100] if target is not None else []), default=90.0)
    hi = max(known + ([target * 100] if target is not None else []), default=100.0)
    pad = max(0.6, (hi - lo) * 0.25)
    top.set_ylim(max(0.0, lo - pad), min(100.0, hi + pad) + pad * 0.6)
    if target is not None:
        top.axhline(target * 100, color=BAD, ls=(0, (5, 3)), lw=1.0)
        top.text(len(df) - 0.55, target * 100, f"目标 {target * 100:.0f}%", color=BAD, fontsize=7, va="bottom",
                 ha="right")
    top.set_ylabel("办结率（%）", fontsize=8)
    bars = bottom.bar(x, df["reported"], color=BAR, width=0.62)
    bottom.bar_label(bars, labels=[f"{v:,}" for v in df["reported"]], fontsize=7, color=INK, padding=2)
    bottom.set_ylim(0, max(1, df["reported"].max()) * 1.25)
    bottom.set_ylabel("上报（件）", fontsize=8)
    bottom.set_xticks(x, [lab[2:4] + "年" + lab[5:] + "月" for lab in df["label"]], fontsize=8)
    for ax in (top, bottom):
        ax.grid(axis="y", color=GRID, lw=0.6)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", labelsize=7)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.subplots_adjust(left=0.06, right=0.99, top=0.97, bottom=0.09)
    return to_svg(fig)


def rate_bars(names: list[str], values: list[float], target: float | None, tags: list[str] | None = None,
              title: str = "", width_in: float = 5.0, height_in: float | None = None, colors: list[str] | None = None
              ) -> bytes:
    """Horizontal bars of a rate (0–1) per unit, best on top, dashed target; value (and tag) printed."""
    setup_matplotlib()
    n = len(names)
    height_in = height_in or rate_bars_height_in(n)
    fig, ax = plt.subplots(figsize=(width_in, height_in))
    y = list(range(n))[::-1]
    vals = [0 if _nan(v) else v * 100 for v in values]
    ax.barh(y, vals, color=colors or BAR, height=0.62, edgecolor=INK, linewidth=0.3)
    lo = min([v for v in vals if v > 0] + [(target or 1) * 100], default=0)
    left = max(0, math.floor((lo - 5) / 5) * 5)
    ax.set_xlim(left, 100 + (100 - left) * 0.28)
    for yi, v, raw, tag in zip(y, vals, values, tags or [""] * n):
        txt = "—" if _nan(raw) else f"{v:.1f}%"
        ax.text(max(v, left) + (100 - left) * 0.01, yi, f"{txt} {tag}".strip(), va="center", fontsize=7, color=INK)
    ax.set_yticks(y, names, fontsize=8)
    if target is not None:
        ax.axvline(target * 100, color=BAD, ls=(0, (5, 3)), lw=1.0)
        ax.text(target * 100, n - 0.45, f"目标{target * 100:.0f}%", color=BAD, fontsize=7, ha="center", va="bottom",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
    ax.set_ylim(-0.6, n + 0.2)
    ax.grid(axis="x", color=GRID, lw=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xticks([t for t in ax.get_xticks() if left <= t <= 100])
    ax.xaxis.set_major_formatter(lambda v, _p: f"{v:.0f}%")
    ax.tick_params(axis="x", labelsize=7)
    if title:
        ax.set_title(title, fontsize=9, color=INK, loc="left")
    # margins from the longest name (tight_layout would render every label once more)
    name_in = max((_text_width(nm) for nm in names), default=2) * 8 / 72 + 0.12
    fig.subplots_adjust(left=min(0.45, name_in / width_in), right=0.98, top=1 - (0.32 if title else 0.1) / height_in,
                        bottom=0.3 / height_in)
    return to_svg(fig)


def rate_bars_height_in(n: int) -> float:
    """The default height of :func:`rate_bars` for ``n`` bars (inches)."""
    return max(1.6, 0.27 * n + 0.7)


def _text_width(text: str) -> float:
    """Width of ``text`` in ems (CJK full width, Latin about half)."""
    return sum(1.0 if ord(ch) > 0x2E80 else 0.55 for ch in str(text))
