"""Tests for the events importer with real offices' files: labels written the way offices write them,
unknown labels imported as warnings and mapped later, per-row validation of lengths, codes and dates,
and encodings — identical on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from data_access.accounts.audit import recent
from data_access.db.engine import get_engine
from data_access.db.schema import event_rollup, events, units
from data_access.demo import build_demo
from data_access.filters import Scope, parse_period
from data_access.importers import import_events
from data_access.importers.labels import label_overview, map_label
from data_access.queries import events as ev
from data_access.queries import units as un
from data_access.vocab import VOCABULARY_PATH, load_vocabulary

from .conftest import DATA_AS_OF, TEST_UNTIL

AS_OF = datetime(2026, 10, 31, 12, 0)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def eng(request, tmp_path_factory):
    """A private tiny demo per engine for this module (its tests write distinct ids and labels)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('ie') / 'ie.db'}"
    else:
        url = request.getfixturevalue("pg_scratch")()
    build_demo(url, scale="tiny", seed=9, until=TEST_UNTIL, log=lambda m: None)
    return get_engine(url)


@pytest.fixture
def vocab_file(tmp_path):
    """A copy of the shipped vocabulary that the test may change."""
    path = tmp_path / "vocabulary.toml"
    shutil.copy(VOCABULARY_PATH, path)
    return path


def _leaves(eng) -> list[str]:
    with eng.connect() as conn:
        return [r[0] for r in conn.execute(select(units.c.code).where(units.c.level == 4).order_by(units.c.code))]


def _count(eng, where=None) -> int:
    q = select(func.count()).select_from(events)
    with eng.connect() as conn:
        return conn.execute(q if where is None else q.where(where)).scalar()


def _rollup_matches_raw(eng) -> None:
    """The rollup's district totals and per-category figures equal the raw events' (October 2026)."""
    with eng.connect() as conn:
        rolled = conn.execute(select(func.sum(event_rollup.c.reported)).where(event_rollup.c.level == 0)).scalar()
    assert rolled == _count(eng)
    root = un.home_unit(eng, Scope.all())
    period = parse_period("2026-10")
    for by in ("category", "source", "whistle"):
        a = ev.closure_by(eng, Scope.all(), root, period, by, as_of=AS_OF, use_rollup=True)
        b = ev.closure_by(eng, Scope.all(), root, period, by, as_of=AS_OF, use_rollup=False)
        pd.testing.assert_frame_equal(a.sort_values("code", ignore_index=True),
                                      b.sort_values("code", ignore_index=True), check_dtype=False)


# Office wording: short names, synonyms, department wordings (DOMAIN.md, the seed reports, 12345).
OFFICE_CATEGORIES = ["违建", "治安", "纠纷", "隐患", "环境卫生", "民生", "违章建筑", "邻里纠纷", "噪音扰民", "消防安全",
                     "治安类", "私搭乱建"]
OFFICE_SOURCES = ["网格员", "12345", "市长热线", "随手拍", "来访", "视频监控"]
OFFICE_WHISTLES = ["常规", "重点哨(区级)", "区级", ""]
UNKNOWN = {"category": "共享单车乱停放", "source": "企业微信群"}


def _office_frame(leaves: list[str], prefix: str, n: int = 288) -> tuple[pd.DataFrame, dict]:
    """``n`` good events of October 2026 written with office wording; every 12th has an unknown category,
    every 16th an unknown source. Returns the frame and {row id: (category, source, status) as written}."""
    rng = np.random.default_rng(4)
    rows, expect = [], {}
    for i in range(n):
        rep = datetime(2026, 10, 1, 8) + timedelta(hours=int(rng.integers(0, 28 * 24)))
        closed = i % 3 == 0
        cat = UNKNOWN["category"] if i % 12 == 5 else OFFICE_CATEGORIES[i % len(OFFICE_CATEGORIES)]
        src = UNKNOWN["source"] if i % 16 == 7 else OFFICE_SOURCES[i % len(OFFICE_SOURCES)]
        status = ["已完成", "已归档"][i % 2] if closed else ["办理中", "待受理", "已派单"][i % 3]
        rows.append((f"{prefix}{i:04d}", leaves[i % len(leaves)], cat, src, OFFICE_WHISTLES[i % 4],
                     f"{rep:%Y-%m-%d %H:%M}", f"{rep + timedelta(days=7):%Y/%m/%d %H:%M}",
                     f"{rep + timedelta(days=2):%Y-%m-%d %H:%M}" if closed else "", status, f"楼道杂物{i}"))
        expect[rows[-1][0]] = (cat, src, status)
    cols = ["事件编号", "网格编码", "类别", "来源", "吹哨级别", "上报时间", "办结时限", "办结时间", "状态", "事件标题"]
    return pd.DataFrame(rows, columns=cols), expect


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_office_wording_loses_nothing(eng, tmp_path, vocab_file, fmt):
    """288 good events in office wording: 0 rejects; unknown labels imported under 其他 as warnings,
    kept verbatim; re-importing changes nothing; rollups match the raw events."""
    df, expect = _office_frame(_leaves(eng), f"OW{fmt}-")
    path = tmp_path / f"office.{fmt}"
    df.to_excel(path, index=False) if fmt == "xlsx" else df.to_csv(path, index=False, encoding="gbk")
    voc = load_vocabulary(vocab_file)
    out = import_events(eng, str(path), rejects=str(tmp_path / "rej.csv"), vocabulary=voc)
    n_unknown = sum(1 for c, s, _ in expect.values() if c in UNKNOWN.values() or s in UNKNOWN.values())
    assert (out["read"], out["imported"], out["rejected"], out["warnings"]) == (288, 288, 0, n_unknown)
    assert out["rejects_file"] is None and out["warnings_file"] == str(tmp_path / "rej.warnings.csv")
    warned = pd.read_csv(out["warnings_file"], encoding="utf-8-sig", dtype=str)
    assert len(warned) == n_unknown and warned["说明"].str.contains("共享单车乱停放|企业微信群").all()

    with eng.connect() as conn:
        got = {r.id: r for r in conn.execute(select(events).where(events.c.id.like(f"OW{fmt}-%")))}
    assert len(got) == 288
    by_label = {"违建": "building", "违章建筑": "building", "私搭乱建": "building", "治安": "order",
                "治安类": "order", "纠纷": "dispute", "噪音扰民": "environment", "消防安全": "safety"}
    statuses = {"已完成": "closed", "已归档": "closed", "办理中": "dispatched", "已派单": "dispatched",
                "待受理": "reported"}
    for eid, (cat, src, status) in expect.items():
        r = got[eid]
        if cat == UNKNOWN["category"]:
            assert (r.category, r.category_raw) == ("other", cat)
        else:
            assert r.category_raw is None and r.category == by_label.get(cat, r.category) != "other"
        assert (r.source, r.source_raw) == (("other", src) if src == UNKNOWN["source"] else (r.source, None))
        assert r.status == statuses[status] and r.status_raw is None and r.title.startswith("楼道杂物")
    assert {r.whistle for r in got.values()} == {"routine", "key"}
    _rollup_matches_raw(eng)
    root = un.home_unit(eng, Scope.all())
    by_cat = ev.closure_by(eng, Scope.all(), root, parse_period("2026-10"), "category", as_of=AS_OF)
    assert "其他" in set(by_cat["label"])  # counted under 其他 in charts
    listed = ev.event_list(eng, Scope.all(), root, parse_period("2026-10"), limit=5000, as_of=DATA_AS_OF)
    assert f"其他（{UNKNOWN['category']}）" in set(listed["category_label"])  # the file's own words shown

    listed = label_overview(eng, vocab_file)
    mine = listed[listed["label"].isin(UNKNOWN.values())]
    assert set(mine["field"]) == {"category", "source"} and mine["vocab_code"].isna().all()
    before = _count(eng)
    again = import_events(eng, str(path), rejects=str(tmp_path / "rej2.csv"), vocabulary=voc)
    assert (again["imported"], again["rejected"], again["warnings"]) == (288, 0, n_unknown)
    assert _count(eng) == before
    pd.testing.assert_frame_equal(label_overview(eng, vocab_file), listed)  # counted once, not twice


def test_mapping_a_label_remaps_existing_events(eng, tmp_path, vocab_file):
    """Mapping an unknown label writes it into the vocabulary, re-maps the events already imported
    (rollups refreshed), is audited, and later imports know it."""
    leaves = _leaves(eng)
    rows = [(f"MAP{i:03d}", leaves[i % len(leaves)], "宠物扰民" if i % 2 else "宠物 扰民", "网格员", "常规",
             f"2026-10-{10 + i % 9:02d} 09:00", "2026-10-28 18:00", "2026-10-20 10:00" if i % 4 == 0 else "",
             "挂起") for i in range(40)]
    cols = ["事件编号", "网格编码", "类别", "来源", "吹哨级别", "上报时间", "办结时限", "办结时间", "状态"]
    path = tmp_path / "map.csv"
    pd.DataFrame(rows, columns=cols).to_csv(path, index=False)
    voc = load_vocabulary(vocab_file)
    out = import_events(eng, str(path), vocabulary=voc)
    assert (out["imported"], out["rejected"], out["warnings"]) == (40, 0, 40)
    listed = label_overview(eng, vocab_file)
    pets = listed[listed["label"].isin(["宠物扰民", "宠物 扰民"])]
    assert set(pets["events"]) == {20} and set(pets["code"]) == {"other"} and pets["vocab_code"].isna().all()
    hung = listed[(listed["field"] == "status") & (listed["label"] == "挂起")]
    # counted from the close time: 10 closed, 30 open (待派单, the stage that claims least)
    assert hung["events"].tolist() == [40] and hung["code"].tolist() == ["reported"]

    header = vocab_file.read_text(encoding="utf-8").splitlines()[0]
    changed = map_label(eng, "category", "宠物扰民", "environment", actor="admin", path=vocab_file)
    assert changed == 40  # both spellings: they are one label
    assert _count(eng, events.c.id.like("MAP%") & (events.c.category == "environment")) == 40
    _rollup_matches_raw(eng)
    text = vocab_file.read_text(encoding="utf-8")
    assert text.splitlines()[0] == header and "宠物扰民" in text  # comments kept, alias appended
    assert load_vocabulary(vocab_file).code("category", "宠物扰民") == "environment"
    audit = recent(eng, 5, action="label_map")
    assert json.loads(audit["detail"].iloc[0]) == {"field": "category", "label": "宠物扰民", "code": "environment",
                                                   "events": 40, "vocabulary": "vocabulary.toml"}
    assert audit["username"].iloc[0] == "admin"

    # a status label: open events move to the chosen open stage; closed ones keep their close time
    assert map_label(eng, "status", "挂起", "dispatched", actor="admin", path=vocab_file) == 30
    with eng.connect() as conn:
        st = dict(conn.execute(select(events.c.status, func.count()).where(events.c.id.like("MAP%"))
                               .group_by(events.c.status)).all())
    assert st == {"dispatched": 30, "closed": 10}
    remaining = label_overview(eng, vocab_file)
    mapped = remaining[remaining["label"].isin(["宠物扰民", "宠物 扰民", "挂起"])]
    assert len(mapped) == 3 and mapped["vocab_code"].notna().all() and not mapped["pending"].any()

    again = import_events(eng, str(path), vocabulary=load_vocabulary(vocab_file))
    assert again["warnings"] == 0  # the vocabulary knows both labels now
    with eng.connect() as conn:
        raw = conn.execute(select(events.c.category_raw).where(events.c.id == "MAP001")).scalar()
    assert raw is None


def test_mapping_refuses_a_contradiction(eng, vocab_file):
    """A label the vocabulary already maps elsewhere, an unknown code: a clear error, nothing changed."""
    from data_access.errors import InvalidParameterError
    from data_access.vocab import VocabularyError

    before = vocab_file.read_bytes()
    with pytest.raises(VocabularyError, match="已对应"):
        map_label(eng, "category", "违建", "order", actor="admin", path=vocab_file)
    with pytest.raises(InvalidParameterError):
        map_label(eng, "category", "x", "nope", path=vocab_file)
    assert vocab_file.read_bytes() == before


# --- item 4: per-row validation, identical on both engines --------------------------------------------

def _edge_frame(leaf: str) -> pd.DataFrame:
    rows = [
        ("E1", leaf, "矛盾纠纷", "网格员上报", "2026-10-05 08:00", "2026-10-12", "", "待派单", "正常", "", ""),
        ("E" + "9" * 59, leaf, "矛盾纠纷", "网格员上报", "2026-10-05 08:00", "2026-10-12", "", "待派单", "长编号", "",
         ""),
        ("E3", "411602005001 <b>x</b>'; --", "矛盾纠纷", "网格员上报", "2026-10-05 08:00", "2026-10-12", "", "待派单",
         "注入", "", ""),
        ("E4", leaf, "矛盾纠纷", "网格员上报", "2026-02-30 08:00", "2026-10-12", "", "待派单", "不存在的日期", "", ""),
        ("E5", leaf, "矛盾纠纷", "网格员上报", "1900-10-05 08:00", "2026-10-12", "", "待派单", "远古", "", ""),
        ("E6", leaf, "矛盾纠纷", "网格员上报", "2026-10-05 08:00", "2206-10-12", "", "待派单", "远未来", "", ""),
        ("E7", leaf, "矛盾纠纷", "网格员上报", "2026-10-05 08:00", "2026-10-12", "", "待派单", "题" * 250, "", ""),
        ("E8", leaf, "矛盾纠纷", "网格员上报", "2026-10-05 08:00", "2026-10-12", "", "待派单", "单位过长",
         "单" * 150, "约三万"),
        ("E9", leaf, "矛" * 120, "网格员上报", "2026-10-05 08:00", "2026-10-12", "", "待派单", "标签过长", "", ""),
        ("E10", leaf, "矛盾纠纷", "网格员上报", "2026-10-05 08:00", "2026-10-12", "", "待派单", "空\x00字节", "", ""),
        ("E11", leaf, "矛盾纠纷", "网格员上报", "0019-10-05 08:00", "2026-10-12", "", "待派单", "漏打一位", "", ""),
    ]
    return pd.DataFrame(rows, columns=["事件编号", "网格编码", "类别", "来源", "上报时间", "办结时限", "办结时间",
                                       "状态", "事件标题", "责任单位", "经度"])


def test_lengths_codes_dates_are_row_rejects(eng, tmp_path):
    """A 60-character id, an injected grid code and impossible dates are rejects with reasons; long
    texts are cut with a warning; a bad number is dropped with a warning — the same on both engines."""
    path = tmp_path / "edge.csv"
    _edge_frame(_leaves(eng)[0]).to_csv(path, index=False)
    out = import_events(eng, str(path), rejects=str(tmp_path / "edge_rej.csv"))
    assert (out["read"], out["imported"], out["rejected"], out["warnings"]) == (11, 5, 6, 4)
    rej = pd.read_csv(out["rejects_file"], encoding="utf-8-sig", dtype=str).set_index("行号")["原因"]
    assert rej["3"] == "事件编号超过40个字符" and rej["4"] == "网格编码不存在"
    assert rej["5"].startswith("日期无法识别")
    assert rej["6"].startswith("日期超出范围") and rej["7"].startswith("日期超出范围")
    assert rej["12"] == "日期超出范围（2000–2099年）：reported_at=0019-10-05 08:00"  # a year pandas cannot hold
    warn = pd.read_csv(out["warnings_file"], encoding="utf-8-sig", dtype=str).set_index("编码/编号")["说明"]
    assert "标题超过200字" in warn["E7"] and "责任单位超过100字" in warn["E8"] and "经度无效" in warn["E8"]
    assert "类别超过100字" in warn["E9"] and "类别“" in warn["E9"] and "控制字符" in warn["E10"]
    with eng.connect() as conn:
        got = {r.id: r for r in conn.execute(select(events).where(events.c.id.in_(["E1", "E7", "E8", "E9", "E10"])))}
    assert len(got["E7"].title) == 200 and len(got["E8"].responsible_unit) == 100 and got["E8"].lon is None
    assert got["E9"].category == "other" and len(got["E9"].category_raw) == 100
    assert got["E10"].title == "空字节"


def _lines(leaf: str, prefix: str) -> str:
    """200 events as CSV text, titled 楼道杂物0 … 楼道杂物199."""
    lines = ["事件编号,网格编码,类别,来源,上报时间,办结时限,状态,事件标题"]
    lines += [f"{prefix}{i:03d},{leaf},环境整治,网格员上报,2026-10-0{1 + i % 9} 08:00,2026-10-20,待派单,楼道杂物{i}"
              for i in range(200)]
    return "\n".join(lines) + "\n"


def _utf8_with_bad_bytes(leaf: str) -> bytes:
    """The events in UTF-8, where one title and one id each carry a byte that is not UTF-8."""
    data = _lines(leaf, "U").encode("utf-8")
    i = data.index("楼道杂物17\n".encode())
    data = data[:i + 1] + b"\xff" + data[i + 2:]  # the middle byte of 楼
    j = data.index(b"U042")
    return data[:j + 1] + b"\xfe" + data[j + 2:]


def test_utf8_with_a_stray_byte_stays_utf8(eng, tmp_path):
    """One bad byte does not turn the whole file into GB18030 mojibake: it is read as UTF-8, the row is
    flagged (a warning for a title, a reject for an id), every other row imports correctly."""
    path = tmp_path / "stray.csv"
    path.write_bytes(_utf8_with_bad_bytes(_leaves(eng)[0]))
    out = import_events(eng, str(path), rejects=str(tmp_path / "stray_rej.csv"))
    assert out["encoding"] == "utf-8-sig"
    assert (out["read"], out["imported"], out["rejected"], out["warnings"]) == (200, 199, 1, 1)
    assert "无法解码" in open(out["rejects_file"], encoding="utf-8-sig").read()
    assert "无法解码" in open(out["warnings_file"], encoding="utf-8-sig").read()
    with eng.connect() as conn:
        titles = dict(conn.execute(select(events.c.id, events.c.title).where(events.c.id.like("U%"))).all())
    assert titles["U000"] == "楼道杂物0" and titles["U199"] == "楼道杂物199"
    assert "\ufffd" in titles["U017"] and titles["U017"].endswith("道杂物17")


def test_gbk_file_still_gbk(eng, tmp_path):
    """A GBK export is still detected as such (GB18030) and decoded correctly."""
    path = tmp_path / "gbk.csv"
    path.write_bytes(_lines(_leaves(eng)[0], "G").encode("gbk"))
    out = import_events(eng, str(path))
    assert out["encoding"] == "gb18030" and (out["imported"], out["rejected"], out["warnings"]) == (200, 0, 0)
    with eng.connect() as conn:
        assert conn.execute(select(events.c.title).where(events.c.id == "G017")).scalar() == "楼道杂物17"


def test_vocabulary_file_is_checked(tmp_path):
    """A word under two codes, an unknown code or broken TOML: a clear error naming the problem."""
    from data_access.vocab import VocabularyError, normalize_label

    assert normalize_label("（治安类）") == normalize_label("治 安") == "治安"
    assert normalize_label("１２３４５热线") == "12345热线"
    bad = tmp_path / "v.toml"
    for text, message in (('[category]\norder = ["矛盾纠纷"]\n', "同时属于 dispute 和 order"),
                          ('[category]\nroads = ["道路"]\n', "没有代码 'roads'"),
                          ('[colour]\nred = ["红"]\n', "未知的字段"),
                          ("[category\n", "无法读取词表")):
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(VocabularyError, match=message):
            load_vocabulary(bad)
    assert load_vocabulary(VOCABULARY_PATH).code("source", "市长热线") == "hotline"  # the shipped file is valid
