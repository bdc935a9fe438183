"""Keep the wall up through a database restart or a network blip.

``last_good(key, load)`` returns fresh data when ``load()`` works and remembers it;
when it fails it returns the last good copy and the time it was loaded, so the page
can show it with a stale marker and recover on the next refresh by itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import streamlit as st

log = logging.getLogger(__name__)


def last_good(key: str, load: Callable[[], Any]) -> tuple[Any, datetime | None]:
    """(data, None) when fresh; (last good data, when it was loaded) after a failure; raises if none yet."""
    store = st.session_state.setdefault("_last_good", {})
    try:
        data = load()
    except Exception as exc:  # database restart, network blip: keep showing what we had
        log.warning("live refresh of %s failed: %s", key, exc)
        if key in store:
            data, loaded = store[key]
            st.session_state["_stale_since"] = st.session_state.get("_stale_since") or time.time()
            return data, loaded
        raise
    store[key] = (data, datetime.now())
    st.session_state.pop("_stale_since", None)
    return data, None
