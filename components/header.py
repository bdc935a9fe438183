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
    """HTML: '网格员上报 1 分钟前 · 12345热线 3 分钟前 · 视频巡查 已停止（5 小时前）', each source in its
    colour (fresh-ok / fresh-amber / fresh-red, thresholds in config/freshness.toml); two or more stopped
    sources are named in one red group ('已停止：网格员上报、群众APP（最近一条 3 天前）'); sources that never
    delivered anything are left out. '' without any."""
    parts, stopped = [], []
    for r in sources.itertuples():
        if r.latest is None or r.latest != r.latest:  # None or NaT
            continue
        if r.stopped:
            stopped.append(r)
        else:
            parts.append(_source_span(r, f"{r.label} {ago(r.age_min)}"))
    if len(stopped) == 1:
        parts.append(_source_span(stopped[0], f"{stopped[0].label} 已停止（{ago(stopped[0].age_min)}）"))
    elif stopped:  # one group, so that a wall with every source stopped still reads on one line
        newest = min(r.age_min for r in stopped)
        names = "、".join(_source_span(r, r.label) for r in stopped)
        parts.append(f'<span class="fresh-red">已停止：{names}（最近一条 {html.escape(ago(newest))}）</span>')
    if not parts:
        return ""
    # several sources may be named: the line wraps inside its column instead of running off the screen
    return ('<div class="screen-meta" data-testid="source-freshness" style="text-align:right;white-space:normal;'
            'font-size:.85em;line-height:1.35">') + \
        " · ".join(parts) + "</div>"


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
