"""The wall header: title, live clock, period and data freshness."""

from __future__ import annotations

import html
from datetime import datetime

import streamlit as st

# A ticking clock without any external script: the iframe's own inline JS.
_CLOCK = """<div id="c" style="font:600 19px 'Noto Sans CJK SC',sans-serif;color:#CFE3FF;white-space:nowrap;
text-align:left;padding-top:6px"></div><script>
const w=['日','一','二','三','四','五','六'];
function t(){const d=new Date(),p=n=>String(n).padStart(2,'0');
const day=`${d.getFullYear()}年${d.getMonth()+1}月${d.getDate()}日 星期${w[d.getDay()]} `;
document.getElementById('c').textContent=day+
`${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;}t();setInterval(t,1000);</script>"""


def freshness(latest: datetime | None, now: datetime, amber_min: int = 60, red_min: int = 24 * 60
              ) -> tuple[str, str]:
    """('数据更新于 …', css class) — amber after ``amber_min`` minutes without new data at ``now``, red after
    ``red_min``."""
    if latest is None:
        return "暂无数据", "fresh-red"
    age = (now - latest).total_seconds() / 60
    cls = "fresh-ok" if age < amber_min else "fresh-amber" if age < red_min else "fresh-red"
    return f"数据更新于 {latest:%Y-%m-%d %H:%M}", cls


def ago(minutes: float) -> str:
    """'刚刚', '3 分钟前', '2 小时前', '4 天前'."""
    if minutes < 1:
        return "刚刚"
    if minutes < 60:
        return f"{int(minutes)} 分钟前"
    if minutes < 48 * 60:
        return f"{int(minutes // 60)} 小时前"
    return f"{int(minutes // 1440)} 天前"


def _source_span(r, text: str) -> str:
    return (f'<span class="fresh-{html.escape(r.level)}" data-testid="fresh-{html.escape(r.code)}">'
            f"{html.escape(text)}</span>")


def source_line(sources) -> str:
    """HTML: '视频巡查 已停止（5 小时前） · 网格员上报 1 分钟前 · 12345热线 3 分钟前', each source in its colour
    (fresh-ok / fresh-amber / fresh-red, thresholds in config/freshness.toml); two or more stopped sources
    are named in one red group ('已停止（最近一条 3 天前）：网格员上报、群众APP'); sources that never delivered
    anything are left out. '' without any.

    One line, stopped sources first: when it is longer than its column the live sources at its end are
    cut with '…' (the whole line is the element's title) — a wrapped line pushed the wall's right column
    past the bottom of the screen."""
    live, stopped = [], []
    for r in sources.itertuples():
        if r.latest is None or r.latest != r.latest:  # None or NaT
            continue
        (stopped if r.stopped else live).append(r)
    parts, plain = [], []
    if len(stopped) == 1:
        text = f"{stopped[0].label} 已停止（{ago(stopped[0].age_min)}）"
        parts.append(_source_span(stopped[0], text))
        plain.append(text)
    elif stopped:  # one group, so that a wall with every source stopped still reads on one line
        newest = ago(min(r.age_min for r in stopped))
        names = "、".join(_source_span(r, r.label) for r in stopped)
        # the age first: when the line is cut, it cuts names (all of them are on 数据管理), not the age
        parts.append(f'<span class="fresh-red">已停止（最近一条 {html.escape(newest)}）：{names}</span>')
        plain.append(f"已停止（最近一条 {newest}）：{'、'.join(r.label for r in stopped)}")
    for r in live:
        parts.append(_source_span(r, f"{r.label} {ago(r.age_min)}"))
        plain.append(f"{r.label} {ago(r.age_min)}")
    if not parts:
        return ""
    return (f'<div class="screen-meta" data-testid="source-freshness" title="{html.escape(" · ".join(plain))}" '
            'style="text-align:right;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-size:.85em;'
            'line-height:1.35">' + " · ".join(parts) + "</div>")


def clock() -> None:
    st.iframe(_CLOCK, height=36)


def title(text: str) -> None:
    st.html(f'<p class="screen-title">{html.escape(text)}</p>')


def meta_line(period_label: str, fresh_text: str, fresh_cls: str, stale_note: str = "") -> None:
    """Period and data freshness; while the database is unreachable the stale note takes the
    freshness slot (the line has room for one of them on the wall, and the outage matters more)."""
    if stale_note:
        status = f'<span class="fresh-red" data-testid="stale">⚠ {html.escape(stale_note)}</span>'
    else:
        status = f'<span class="{fresh_cls}" data-testid="freshness">{html.escape(fresh_text)}</span>'
    st.html(f'<div class="screen-meta" style="text-align:right;white-space:nowrap">'
            f'统计时段：{html.escape(period_label)}　{status}</div>')
