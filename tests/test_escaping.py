"""Tests for escaping: hostile unit names and event titles are shown as literal text on every page.

The district demo is copied and its names turned into attacks (a fake password form with a page-wide
``<style>``, an ``<img onerror>``, Markdown links and images). Every page is run with AppTest and each
``st.html`` body is parsed as the browser would: no element and no style may come from the data, and
the text must still read as it was written. ``tests/test_browser_escaping.py`` checks the same in
Chromium, including Markdown, the map tooltip and the wall's focus line.
"""

from __future__ import annotations

import sqlite3
from html.parser import HTMLParser

import pytest
from sqlalchemy import make_url, select, update
from streamlit.testing.v1 import AppTest

from common.markup import h, md
from data_access.db.engine import get_engine
from data_access.db.schema import events, sanling_subjects, units

from .conftest import ROOT, login_state

FORM = '<form action=x><input placeholder="密码"></form><style>*{color:red}</style>'
IMG = "<img src=x onerror=alert(1)>"
MD_LINK = "[点此重新登录](http://evil.example/login)![](http://evil.example/x.png)"


def make_hostile(src_url: str, path) -> str:
    """A copy of ``src_url`` (SQLite) whose district is MD_LINK, subdistricts FORM + n, communities and
    subjects IMG, and every event title IMG. Returns its URL."""
    with sqlite3.connect(make_url(src_url).database) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    url = f"sqlite:///{path}"
    eng = get_engine(url)
    with eng.begin() as conn:
        subs = [r[0] for r in conn.execute(select(units.c.code).where(units.c.level == 1).order_by(units.c.code))]
        for i, code in enumerate(subs):
            conn.execute(update(units).where(units.c.code == code).values(name=f"{FORM}{i}"))
        conn.execute(update(units).where(units.c.level == 0).values(name=MD_LINK))
        conn.execute(update(units).where(units.c.level == 2).values(name=IMG, grid_worker=IMG))
        conn.execute(update(events).values(title=IMG))
        conn.execute(update(sanling_subjects).values(name=IMG))
    return url


@pytest.fixture(scope="module")
def hostile_url(district_url, tmp_path_factory) -> str:
    return make_hostile(district_url, tmp_path_factory.mktemp("hostile") / "hostile.db")


class Dom(HTMLParser):
    """The elements, attributes, style sheets and text an HTML fragment turns into."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in_style = False
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        (self.styles if self._in_style else self.text).append(data)


def injected(dom: Dom) -> list[str]:
    """Elements or styles in ``dom`` that only the attack payloads would create."""
    bad = [t for t, _a in dom.tags if t in ("form", "input", "script", "iframe")]
    bad += [f"{t} {a}" for t, a in dom.tags if any(k.startswith("on") for k in a)]
    bad += [f"img {a.get('src')}" for t, a in dom.tags if t == "img" and not (a.get("src") or "").startswith("data:")]
    bad += [f"a {a.get('href')}" for t, a in dom.tags if t == "a" and "evil.example" in (a.get("href") or "")]
    bad += ["style: color:red" for s in dom.styles if "color:red" in s.replace(" ", "")]
    return bad


def test_markup_helpers():
    dom = Dom(f"<div>{h(FORM)}{h(IMG)}</div>")
    assert not injected(dom) and "".join(dom.text) == FORM + IMG
    assert h(None) == "" and h('"') == "&quot;"
    assert "](" not in md(MD_LINK) and "\\[" in md(MD_LINK) and md("东风社区") == "东风社区"
    assert "://" not in md("见 http://evil.example") and "x@evil" not in md("x@evil.example")
    assert md("a\nb") == "a b"  # a line break would end a title or start a new block


@pytest.fixture
def run(hostile_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", hostile_url)
    monkeypatch.chdir(ROOT)

    def make(page: str, user: str = "leader", **params) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        for k, v in login_state(hostile_url, user).items():
            at.session_state[k] = v
        at.switch_page(f"pages/{page}.py")
        for k, v in params.items():
            at.query_params[k] = v
        return at.run()

    return make


def _first(url: str, level: int) -> str:
    with get_engine(url).connect() as conn:
        return conn.execute(select(units.c.code).where(units.c.level == level).order_by(units.c.code)).scalar()


PAGES = [("overview", "leader", {"rotate": "5"}), ("map", "leader", {}), ("map", "leader", {"unit": 1}),
         ("map", "leader", {"unit": 2}), ("my", "staff", {}), ("events", "leader", {}), ("sanling", "leader", {}),
         ("patrol", "leader", {}), ("mediation", "leader", {}), ("ranking", "leader", {}), ("report", "leader", {})]


@pytest.mark.parametrize("page,user,params", PAGES, ids=[f"{p}-{u}-{list(q.values())}" for p, u, q in PAGES])
def test_hostile_names_stay_text(run, hostile_url, page, user, params):
    params = {k: (_first(hostile_url, v) if k == "unit" else v) for k, v in params.items()}
    at = run(page, user, period="2026-09", **params)
    assert not at.exception, at.exception
    bodies = [str(x.proto.body) for x in at.get("html")]
    doms = [Dom(b) for b in bodies]
    bad = [b for d in doms for b in injected(d)]
    assert not bad, f"{page}: elements from data: {bad[:5]}"
    text = "".join(t for d in doms for t in d.text)
    expect = {"overview": [FORM, IMG], "map": [FORM]}.get(page, [])
    for payload in expect:
        assert payload in text, f"{page}: {payload!r} not shown as text"
