"""Server time per page, run headless with AppTest: cold (empty caches) and warm (second run)."""

from __future__ import annotations

import os
import time

from .common import PERIOD, ROOT


def pages() -> list[str]:
    """Page files registered in app.py (pages/*.py that exist)."""
    import re

    text = (ROOT / "app.py").read_text(encoding="utf-8")
    return [p for p in re.findall(r'"pages/(\w+)\.py"', text) if (ROOT / "pages" / f"{p}.py").exists()]


def _login(at, url: str, username: str) -> None:
    """The session state the login gate sets, backed by a real session (checked on every run)."""
    from data_access.accounts import create_session, get_user, public_user, scope_for
    from data_access.db.engine import get_engine

    user = public_user(get_user(get_engine(url), username))
    at.session_state["user"] = user
    at.session_state["scope"] = scope_for(get_engine(url), user["role"], user["unit_code"])
    at.session_state["auth_token"] = create_session(get_engine(url), username, "login")
    at.session_state["auth_kind"] = "login"


def _run(page: str, params: dict, url: str) -> float:
    from streamlit.testing.v1 import AppTest

    from tests.apptest_nav import TITLES, navigation_only, shown_text

    navigation_only()  # else AppTest runs every page file through app.py's home page: the wall, each time
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    _login(at, url, "staff" if page == "my" else "admin")
    at.switch_page(f"pages/{page}.py")
    for k, v in params.items():
        at.query_params[k] = v
    t = time.perf_counter()
    at.run()
    ms = (time.perf_counter() - t) * 1000
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].message[:200]}")
    if page in TITLES and TITLES[page] not in shown_text(at):
        raise RuntimeError(f"{page}: another page was drawn (the figure would time the wrong page)")
    return ms


def run(url: str, log=print) -> dict:
    import streamlit as st

    os.environ["DATABASE_URL"] = url
    os.chdir(ROOT)
    rows = []
    for page in pages():
        st.cache_data.clear()
        cold = _run(page, {"period": PERIOD}, url)
        warm = min(_run(page, {"period": PERIOD}, url) for _ in range(3))
        rows.append({"page": page, "cold_ms": round(cold, 1), "warm_ms": round(warm, 1)})
        log(f"  {page:12s} cold {cold:8.1f} ms  warm {warm:8.1f} ms")
    return {"pages": rows, "page_server_warm_ms_max": max(r["warm_ms"] for r in rows),
            "page_server_cold_ms_max": max(r["cold_ms"] for r in rows)}
