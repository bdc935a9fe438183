"""Tests for the security review's leftovers: data in tooltips, Markdown messages and link URLs stays
text; a staff user's own unit is judged on its own figures."""

from __future__ import annotations

from datetime import date, datetime, time
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from data_access.filters import Scope, month_period
from data_access.queries import warnings as wn
from data_access.queries.units import children, resolve_unit

from .conftest import ROOT, TEST_UNTIL

AS_OF = datetime.combine(TEST_UNTIL, time(18))
HOSTILE = '<img src=x onerror=alert(1)>[点此重新登录](http://evil.example/)'


def test_import_preview_tooltip_is_text(monkeypatch):
    """The boundary preview's tooltip is plain text and the file's names reach it unchanged (no HTML)."""
    from components import import_preview

    shown = {}
    monkeypatch.setattr(import_preview, "geometries", lambda *a, **k: gpd.GeoDataFrame(
        {"code": [], "name": [], "level": [], "geometry": []}, geometry="geometry", crs="EPSG:4326"))
    monkeypatch.setattr(import_preview, "engine", lambda url: None)
    monkeypatch.setattr(import_preview.st, "pydeck_chart", lambda deck, **kw: shown.setdefault("deck", deck))
    new = gpd.GeoDataFrame({"code": ["X1"], "name": [HOSTILE], "level": [3],
                            "geometry": [shapely.box(114.6, 33.6, 114.7, 33.7)]}, crs="EPSG:4326")
    import_preview.boundary_overlay(new, Scope.all())
    deck = shown["deck"]
    assert "html" not in deck._tooltip and "{name}" in deck._tooltip["text"]
    names = [f["properties"]["name"] for f in deck.layers[0].data["features"]]
    assert names == [HOSTILE]  # the browser sets it as innerText: no escaping needed, none applied twice


def _account_box_app(url: str, display_name: str, unit_code: str | None) -> AppTest:
    def script():
        import streamlit as st

        from components.auth import account_box
        from data_access import get_engine

        account_box(get_engine(st.session_state["_url"]))

    at = AppTest.from_function(script, default_timeout=30)
    at.session_state["_url"] = url
    at.session_state["user"] = {"username": "u", "role": "staff", "unit_code": unit_code,
                                "display_name": display_name}
    at.session_state["scope"] = Scope.all() if unit_code is None else Scope(unit_code, 1)
    at.session_state["auth_kind"] = "login"
    return at.run()


def test_sidebar_caption_is_literal_markdown(sqlite_tiny, monkeypatch):
    monkeypatch.chdir(ROOT)
    at = _account_box_app(sqlite_tiny, HOSTILE, None)
    assert not at.exception
    caption = at.caption[0].value
    assert r"\[点此重新登录\]\(http" in caption and "[点此重新登录](http" not in caption


def test_vocabulary_error_is_literal_markdown(sqlite_tiny, monkeypatch, tmp_path):
    """A broken vocabulary file named like a Markdown link: the error shows the name as text."""
    monkeypatch.chdir(ROOT)
    bad = tmp_path / "[x](http:evil.example).toml"
    bad.write_text("[broken\n", encoding="utf-8")
    monkeypatch.setenv("VOCABULARY_FILE", str(bad))
    monkeypatch.setenv("DATABASE_URL", sqlite_tiny)

    def script():
        from components.vocab_admin import unmapped_labels

        unmapped_labels("admin")

    at = AppTest.from_function(script, default_timeout=30).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors and r"\[x\]\(http" in errors[0] and "[x](http" not in errors[0], errors


def test_link_column_encodes_the_unit_code(monkeypatch):
    """A code with "&", "#" or a space cannot add parameters or cut the link short."""
    monkeypatch.chdir(ROOT)

    def script():
        import pandas as pd

        from components.tables import table

        table(pd.DataFrame({"编码": ["a&period=2020-01#x y"], "名称": ["甲"]}), "t", "t", links={"编码": "map"})

    at = AppTest.from_function(script, default_timeout=30).run()
    assert not at.exception
    link = at.dataframe[0].value["编码"].iloc[0]
    parts = urlsplit(link)
    assert parts.path == "/map" and not parts.fragment
    assert parse_qs(parts.query) == {"unit": ["a&period=2020-01#x y"]}


@pytest.mark.parametrize("level", [1, 2])
def test_staff_own_unit_warning_uses_its_own_figures(tiny_engine, level):
    """A staff user looking at the unit their scope is rooted at gets the colour a leader gets for it."""
    eng = tiny_engine
    unit = resolve_unit(eng, Scope.all(), None)
    while unit.level < level:
        unit = resolve_unit(eng, Scope.all(), children(eng, Scope.all(), unit)["code"].iloc[0])
    period = month_period(date(2026, 9, 1))
    rules = wn.Rules((wn.Rule("any", "any", "reported", "above", (("red", 1.0),), "上报 {value:.0f} 件"),))
    as_leader = wn.unit_warning(eng, Scope.all(), unit, period, rules, as_of=AS_OF)
    as_staff = wn.unit_warning(eng, Scope(unit.code, unit.level), unit, period, rules, as_of=AS_OF)
    assert as_leader["reasons"] and as_leader["reasons"][0].startswith("上报 ")
    assert as_staff["color"] == as_leader["color"] and as_staff["reasons"] == as_leader["reasons"]
    pd.testing.assert_frame_equal(as_staff["children"].reset_index(drop=True),
                                  as_leader["children"].reset_index(drop=True))
