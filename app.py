"""Entry point: page config, theme, navigation (``streamlit run app.py``)."""

from pathlib import Path

import streamlit as st

from components.theme import apply_theme

ROOT = Path(__file__).parent

st.set_page_config(page_title="三零创建一屏统揽", page_icon=str(ROOT / "static" / "icon.png"), layout="wide",
                   initial_sidebar_state="auto")
apply_theme()

PAGES = [
    st.Page("pages/overview.py", title="一屏统揽", url_path="overview", default=True),
    st.Page("pages/report.py", title="导出报告", url_path="report"),
]

st.navigation(PAGES, position="sidebar").run()
