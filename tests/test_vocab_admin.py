"""Tests for 数据管理 → 未识别标签 (AppTest): the admin sees the labels the vocabulary did not know, with
their counts, maps one, and the events already imported are re-mapped."""

from __future__ import annotations

import shutil
import sqlite3

import pandas as pd
import pytest
from sqlalchemy import func, make_url, select
from streamlit.testing.v1 import AppTest

from data_access.db.engine import get_engine
from data_access.db.schema import events, units
from data_access.importers import import_events
from data_access.vocab import VOCABULARY_PATH, load_vocabulary

from .conftest import ROOT, login_state


@pytest.fixture
def admin_app(sqlite_tiny, tmp_path, monkeypatch):
    """The data page as admin on a private copy of the tiny demo holding 12 events labelled 宠物扰民."""
    db = tmp_path / "labels.db"
    with sqlite3.connect(make_url(sqlite_tiny).database) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    url = f"sqlite:///{db}"
    vocab = tmp_path / "vocabulary.toml"
    shutil.copy(VOCABULARY_PATH, vocab)
    eng = get_engine(url)
    with eng.connect() as conn:
        leaf = conn.execute(select(units.c.code).where(units.c.level == 4)).scalar()
    csv = tmp_path / "pets.csv"
    pd.DataFrame({"事件编号": [f"PET{i}" for i in range(12)], "网格编码": leaf, "类别": "宠物扰民", "来源": "网格员",
                  "上报时间": "2026-10-08 09:30", "办结时限": "2026-10-15 18:00", "状态": "办理中"}
                 ).to_csv(csv, index=False)
    assert import_events(eng, str(csv), vocabulary=load_vocabulary(vocab))["warnings"] == 12
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("VOCABULARY_FILE", str(vocab))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in login_state(url, "admin").items():
        at.session_state[k] = v
    at.switch_page("pages/data.py")
    return at.run(), eng, vocab


def test_admin_maps_an_unknown_label(admin_app):
    at, eng, vocab = admin_app
    assert not at.exception, at.exception
    label = at.selectbox(key="vocab_label_0")
    assert "宠物扰民（12 件）" in label.format_func(label.value)
    code = at.selectbox(key="vocab_code_category_0")
    assert code.value == "other"  # preselected: what the events are counted as now
    code.set_value("environment")
    at.button(key="vocab_map").click()
    at.run()
    assert not at.exception, at.exception
    assert any("重新归类 12 件事件" in s.value for s in at.success)
    with eng.connect() as conn:
        cats = dict(conn.execute(select(events.c.category, func.count()).where(events.c.id.like("PET%"))
                                 .group_by(events.c.category)).all())
    assert cats == {"environment": 12}
    assert load_vocabulary(vocab).code("category", "宠物扰民") == "environment"
    assert not [w.key for w in at.selectbox if w.key.startswith("vocab_label")]  # nothing left to map
    assert any("没有词表未收录" in c.value for c in at.caption)
