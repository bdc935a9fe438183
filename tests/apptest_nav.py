"""AppTest as a server runs pages: shared by the page tests and ``benchmarks/page_server.py``."""

from __future__ import annotations

TITLES = {"overview": "一屏统揽", "map": "图层", "my": "我的指标", "events": "事件办结", "sanling": "三零创建",
          "patrol": "巡逻防控", "mediation": "矛盾调解", "ranking": "考评排名", "report": "导出报告",
          "data": "数据管理"}


def navigation_only() -> None:
    """Let AppTest run pages the way a server does once ``st.navigation`` is in charge.

    While Streamlit still thinks ``pages/`` is a legacy multipage folder, AppTest's ``switch_page``
    runs the page file itself as the main script; ``components.auth.require_entry`` then (rightly)
    reroutes it through app.py to the home page, so every page test would silently test the wall.
    A real server leaves that mode after the first ``st.navigation`` call (tested in the browser);
    AppTest builds a new PagesManager per run, so the mode is switched off for each one here.
    """
    from streamlit.runtime.pages_manager import PagesManager

    init = PagesManager.__init__
    if getattr(init, "_navigation_only", False):
        return

    def patched(self, *args, **kwargs):
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    patched._navigation_only = True
    PagesManager.__init__ = patched
    PagesManager.uses_pages_directory = False


def html_of(at) -> str:
    """The bodies of a run's ``st.html`` elements, one per line."""
    return "\n".join(str(h.proto.body) for h in at.get("html"))


def shown_text(at) -> str:
    """Titles, headers, Markdown and HTML bodies of a run: enough to tell which page it drew."""
    parts = [e.value for kind in ("title", "header", "subheader", "markdown") for e in at.get(kind)]
    return "\n".join(map(str, parts)) + "\n" + html_of(at)
