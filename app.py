"""Entry point: page config, theme, login gate, navigation by role.

Start it as the ASGI app (``python serve.py`` or ``uvicorn asgi:app``: login sets an HttpOnly
cookie) or with plain ``streamlit run app.py`` (session-only login). Either way no page runs
before a successful login: until then every known URL path shows the login form, and a page the
role may not open shows a Chinese message instead of Streamlit's "Page not found".
"""

from pathlib import Path

import streamlit as st

from components import auth, live
from components.data import db_url, engine
from components.theme import apply_theme

ROOT = Path(__file__).parent

st.set_page_config(page_title="三零创建一屏统揽", page_icon=str(ROOT / "static" / "icon.png"), layout="wide",
                   initial_sidebar_state="auto")
apply_theme()

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
role = user["role"] if user else None


def login() -> None:
    auth.login_screen(eng)


def forbidden() -> None:
    st.error("无权访问此页面：当前账号的角色不能打开它。")
    st.link_button("返回首页", "/")


# Every known path is registered for every visitor, so a deep link never meets Streamlit's
# "Page not found": a page the visitor may open, else a hidden stand-in (the login form before
# login, the message above after). The home page is also the default ("/"), under another
# internal path, because the default page's own path would otherwise not resolve (/my, /overview).
home = "my" if role == "staff" else "overview"
pages, default = [], None
for file, title, path, roles in PAGES:
    if role in roles and (ROOT / file).exists():
        pages.append(st.Page(file, title=title, url_path=path))
        if path == home:
            default = st.Page(file, title=title, url_path="home", default=True, visibility="hidden")
    else:
        pages.append(st.Page(login if user is None else forbidden, title=title, url_path=path,
                             visibility="hidden"))
default = default or st.Page(login if user is None else forbidden, title="登录", url_path="home", default=True,
                             visibility="hidden")
kiosk = st.query_params.get("kiosk") == "1" or role == "display"
page = st.navigation([default, *pages], position="hidden" if kiosk or user is None else "sidebar")
if user is not None and not kiosk:
    with st.sidebar:
        auth.account_box(eng)
with auth.entered(), live.database_or_wait():  # any page, not only the wall: an outage waits on 等待数据连接
    page.run()
