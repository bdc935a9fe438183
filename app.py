"""Entry point: page config, theme, login gate, navigation by role (``python serve.py``)."""

from pathlib import Path

import streamlit as st

from components import auth, live
from components.data import db_url, engine
from components.theme import apply_theme

ROOT = Path(__file__).parent

st.set_page_config(page_title="三零创建一屏统揽", page_icon=str(ROOT / "static" / "icon.png"), layout="wide",
                   initial_sidebar_state="auto")
apply_theme()
st.session_state["_via_app"] = True  # pages refuse to run without the entry script (see serve.py)

# file, title, url path, roles that may open it
PAGES = [
    ("pages/overview.py", "一屏统揽", "overview", {"leader", "staff", "display", "admin"}),
    ("pages/my.py", "我的指标", "my", {"staff"}),
    ("pages/map.py", "网格地图", "map", {"leader", "staff", "admin"}),
    ("pages/events.py", "事件办结", "events", {"leader", "staff", "admin"}),
    ("pages/sanling.py", "三零创建", "sanling", {"leader", "staff", "admin"}),
    ("pages/patrol.py", "巡逻防控", "patrol", {"leader", "staff", "admin"}),
    ("pages/mediation.py", "矛盾调解", "mediation", {"leader", "staff", "admin"}),
    ("pages/ranking.py", "考评排名", "ranking", {"leader", "staff", "admin"}),
    ("pages/report.py", "导出报告", "report", {"leader", "staff", "admin"}),
    ("pages/data.py", "数据管理", "data", {"admin"}),
]

eng = engine(db_url())
with live.database_or_wait():  # the database away at start: 等待数据连接, retried by itself, no traceback
    user = auth.gate(eng)
role = user["role"]
allowed = [st.Page(f, title=t, url_path=u, default=(u == ("my" if role == "staff" else "overview")))
           for f, t, u, roles in PAGES if role in roles and (ROOT / f).exists()]
kiosk = st.query_params.get("kiosk") == "1" or role == "display"
if not kiosk:
    with st.sidebar:
        auth.account_box(eng)
st.navigation(allowed, position="hidden" if kiosk else "sidebar").run()
