"""Page styling for the big screen and the office: fonts that scale with the viewport.

Sizes use ``clamp(min, vw, max)`` so text is readable from across the room on a 4K
wall without overflowing a 1080p screen. No web font is loaded (offline); the
browser's own CJK font is used.
"""

from __future__ import annotations

import streamlit as st

_CSS = """
<style>
:root { --fs-base: clamp(14px, 0.78vw, 40px); --fs-kpi: clamp(22px, 1.9vw, 96px);
        --fs-label: clamp(12px, 0.72vw, 34px); --fs-title: clamp(20px, 1.55vw, 80px); }
html, body, [class*="st-"] { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei",
        "PingFang SC", sans-serif; }
/* Streamlit's icons are ligatures of its bundled icon font: keep it, or "upload" shows as a word */
[data-testid="stIconMaterial"] { font-family: "Material Symbols Rounded" !important; }
/* the file uploader speaks Chinese (Streamlit has no locale): its button says 选择文件, and its English
   limit line is hidden — each uploader's caption states formats and limit in Chinese */
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p { font-size: 0; }
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {
  content: "选择文件"; font-size: 14px; }
[data-testid="stFileUploaderDropzoneInstructions"] { display: none; }
.block-container { padding-top: 2.2rem; padding-bottom: 0.5rem; max-width: 100%; }
.kpi-grid { display: grid; gap: 0.6vw; }
.kpi { background: linear-gradient(180deg, #10305E 0%, #0B2147 100%); border: 1px solid #1F4C8F;
       border-radius: 0.4vw; padding: 0.45vw 0.7vw; min-width: 0; }
.kpi-label { font-size: var(--fs-label); color: #9FC3FF; white-space: nowrap; overflow: hidden;
             text-overflow: ellipsis; }
.kpi-value { font-size: var(--fs-kpi); font-weight: 700; color: #FFFFFF; line-height: 1.15;
             font-variant-numeric: tabular-nums; white-space: nowrap; }
.kpi-unit { font-size: var(--fs-label); color: #9FC3FF; margin-left: 0.2em; font-weight: 400; }
.kpi-foot { font-size: var(--fs-label); color: #9FC3FF; white-space: nowrap; overflow: hidden;
            text-overflow: ellipsis; }
.kpi-up { color: #FF8A80; } .kpi-down { color: #69F0AE; } .kpi-good { color: #69F0AE; } .kpi-bad { color: #FF8A80; }
.kpi .spark { width: 100%; height: 1.6vw; display: block; }
.screen-title { font-size: var(--fs-title); font-weight: 700; color: #FFFFFF; letter-spacing: 0.08em;
                text-align: center; margin: 0; white-space: nowrap; }
.screen-meta { font-size: var(--fs-base); color: #9FC3FF; white-space: nowrap; }
.fresh-ok { color: #69F0AE; } .fresh-amber { color: #FFB300; } .fresh-red { color: #FF5252; font-weight: 700; }
.crumbs { font-size: var(--fs-base); color: #9FC3FF; }
.crumbs a { color: #8CC8FF; text-decoration: none; } .crumbs b { color: #FFFFFF; }
.panel-title { font-size: var(--fs-base); color: #CFE3FF; font-weight: 700; margin: 0.2vw 0;
               border-left: 0.25vw solid #3BA0FF; padding-left: 0.4vw; }
/* a phone (office and grid staff, 390×844): tiles two to a row, nothing wider than the screen */
@media (max-width: 640px) {
  .kpi-grid { grid-template-columns: repeat(2, minmax(0, 1fr)) !important; gap: 6px; }
  .kpi { padding: 6px 8px; border-radius: 5px; }
  .kpi-foot { white-space: normal; }
  .screen-title, .screen-meta { white-space: normal; }
  .block-container { padding-left: 0.7rem; padding-right: 0.7rem; }
}
</style>
"""


def apply_theme() -> None:
    """Inject the shared CSS (once per run)."""
    st.html(_CSS)


def panel_title(text: str) -> None:
    st.html(f'<div class="panel-title">{text}</div>')


# The wall is laid out for 1920×1080 CSS pixels and zoomed to larger screens, so a 4K wall
# shows the same screen twice as large (readable from across the room) without scrolling.
_WALL_CSS = """
<style>
@media (min-width: 2500px) {
  .stApp { width: 1920px !important; height: 1080px !important; min-height: 0 !important;
           transform-origin: 0 0; transform: scale(calc(100vh / 1080px)); }
}
.stApp { --fs-kpi: 26px; --fs-label: 13px; --fs-base: 14px; --fs-title: 28px; }
.block-container { padding: 0.6rem 1rem 0 1rem !important; }
[data-testid="stVerticalBlock"] { gap: 0.45rem; }
.kpi { padding: 4px 9px; border-radius: 5px; } .kpi .spark { height: 16px; }
.kpi-grid { gap: 7px; }
</style>
"""
_KIOSK_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"], #MainMenu, footer
{ display: none !important; }
html, body, .stApp { overflow: hidden !important; }
</style>
"""


def wall_css(kiosk: bool) -> None:
    """Fixed 1920×1080 design zoomed to the viewport; ``kiosk`` hides all chrome."""
    st.html(_WALL_CSS + (_KIOSK_CSS if kiosk else ""))
