"""Tests for the thematic queries: loop funnel, 三零, patrol coverage (a tiny hand-made grid with a known
answer), safety figures and the ranking score — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
import shapely
from sqlalchemy import insert, select

from data_access.db.migrate import upgrade
from data_access.db.schema import events, patrol_visits, patrols, police_rooms, units
from data_access.filters import Scope, parse_period
from data_access.queries import loop, patrol, ranking, safety, sanling
from data_access.queries import units as un

from .conftest import DATA_AS_OF


def test_funnel_matches_raw_counts(tiny_engine):
    root = un.home_unit(tiny_engine, Scope.all())
    p = parse_period("2026-09")
    f = loop.funnel(tiny_engine, Scope.all(), root, p).set_index("stage")
    with tiny_engine.connect() as conn:
        raw = pd.DataFrame(conn.execute(select(events).where(events.c.reported_at >= p.start_dt,
                                                             events.c.reported_at < p.end_dt)).mappings().all())
    for col in ("reported_at", "dispatched_at", "handled_at", "verified_at", "closed_at"):
        assert f.loc[col, "count"] == raw[col].notna().sum()
    assert list(f["label"]) == ["上报", "派单", "处置", "核查", "办结"]
    assert (f["count"].diff().dropna() <= 0).all()  # a stage never has more events than the one before
    w = loop.whistle_stats(tiny_engine, Scope.all(), root, p, as_of=DATA_AS_OF).set_index("code")
    assert w["reported"].sum() == len(raw)


def test_sanling_breakdowns_add_up(tiny_engine):
    root = un.home_unit(tiny_engine, Scope.all())
    p = parse_period("2026-09")
    by_type = sanling.subjects_by_type(tiny_engine, Scope.all(), root, p)
    broken = sanling.broken_by_child(tiny_engine, Scope.all(), root, p)
    monthly = sanling.compliance_monthly(tiny_engine, Scope.all(), root, p)
    last = monthly[monthly["month"] == monthly["month"].max()]
    assert by_type["subjects"].sum() == last["subjects"].sum() == broken["subjects"].sum()
    assert (by_type["subjects"] - by_type["compliant"]).sum() == broken["noncompliant"].sum()
    assert set(by_type["department"]) >= {"教育局", "市场监管局"}


def _square(x0, y0, d=0.01):
    return shapely.box(x0, y0, x0 + d, y0 + d)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def grid_engine(request, tmp_path):
    """A hand-made grid: district D, subdistrict S, community C, compound K, four 1×1 km-ish buildings;
    one patrol visiting buildings B1 and B2 (twice on one day), a police room in B1."""
    url = f"sqlite:///{tmp_path / 'g.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_scratch")()
    eng = upgrade(url)
    from data_access.demo.grid import geometry_columns

    rows = [("D", 0, None, _square(114.0, 33.0, 0.02)), ("D1", 1, "D", _square(114.0, 33.0, 0.02)),
            ("D11", 2, "D1", _square(114.0, 33.0, 0.02)), ("D111", 3, "D11", _square(114.0, 33.0, 0.02))]
    rows += [(f"D111{i}", 4, "D111", _square(114.0 + 0.01 * (i % 2), 33.0 + 0.01 * (i // 2))) for i in range(4)]
    recs = []
    for code, level, parent, geom in rows:
        anc = [("D" + "1" * k if k <= level else None) for k in range(5)]
        anc[level] = code
        g = geometry_columns([geom])
        recs.append({"code": code, "name": f"单元{code}", "level": level, "parent_code": parent, "kind": "x",
                     "population": 100 if level == 4 else 400, "households": 0,
                     **{k: (v[0].item() if hasattr(v[0], "item") else v[0]) for k, v in g.items()},
                     **{f"l{k}_code": anc[k] for k in range(5)}})
    with eng.begin() as conn:
        conn.execute(insert(units), recs)
        line = shapely.LineString([(114.002, 33.002), (114.018, 33.002)])
        for pid in (1, 2):
            conn.execute(insert(patrols).values(
                id=pid, team="一队", team_kind="fulltime", unit_code="D1", l0_code="D", l1_code="D1",
                started_at=datetime(2026, 10, 8, 8 + pid), ended_at=datetime(2026, 10, 8, 9 + pid), length_km=1.5,
                track_wkb=shapely.to_wkb(line)))
            for b in ("D1110", "D1111"):
                conn.execute(insert(patrol_visits).values(patrol_id=pid, unit_code=b, visited_on=date(2026, 10, 8)))
        conn.execute(insert(police_rooms).values(id=1, name="警务室", kind="room", unit_code="D1110", l0_code="D",
                                                 l1_code="D1", l2_code="D11", l3_code="D111", l4_code="D1110",
                                                 lon=114.005, lat=33.005))
    return eng


def test_coverage_on_a_tiny_grid(grid_engine):
    """2 of 4 cells patrolled → 50 %; both patrolled twice on one day of 31 → 2 / (4 × 31)."""
    d = un.get_unit(grid_engine, "D111")
    p = parse_period("2026-10")
    kids = patrol.coverage_by_child(grid_engine, Scope.all(), d, p).set_index("code")
    assert kids["covered"].to_dict() == {"D1110": True, "D1111": True, "D1112": False, "D1113": False}
    top = patrol.coverage_by_child(grid_engine, Scope.all(), un.get_unit(grid_engine, "D"), p)
    assert top["coverage"].iloc[0] == pytest.approx(0.5)
    twice = patrol.double_patrol(grid_engine, Scope.all(), d, p)
    assert twice["cell_days_twice"] == 2 and twice["compliance"] == pytest.approx(2 / (4 * 31))
    assert patrol.coverage_by_child(grid_engine, Scope.all(), d, parse_period("2026-09"))["covered"].sum() == 0


def test_three_minute_circle_on_a_tiny_grid(grid_engine):
    """A post at the centre of cell B0 (≈ 0.93 × 1.11 km) with a 500 m reach covers its own centre only."""
    d = un.get_unit(grid_engine, "D111")
    c = patrol.three_minute_circle(grid_engine, Scope.all(), d, speed_kmh=10.0, minutes=3.0)
    assert c["radius_m"] == pytest.approx(500.0)
    assert c["building_share"] == pytest.approx(0.25) and c["population_share"] == pytest.approx(0.25)
    expected = 3.14159 * 500 ** 2 / (0.02 * 93_300 * 0.02 * 111_000)
    assert c["area_share"] == pytest.approx(expected, rel=0.08)


def test_ranking_score_is_hand_computable():
    """Two indicators: a (higher better, weight 3) and b (lower better, weight 1)."""
    m = pd.DataFrame({"code": ["x", "y", "z"], "a": [0.9, 1.0, 0.95], "b": [5.0, 1.0, 3.0]})
    out = ranking.score(m, [{"metric": "a", "better": "higher", "weight": 3},
                            {"metric": "b", "better": "lower", "weight": 1}]).set_index("code")
    assert out.loc["y", "score"] == 100.0 and out.loc["x", "score"] == 0.0
    assert out.loc["z", "score"] == pytest.approx((3 * 50 + 1 * 50) / 4)
    assert out["rank"].to_dict() == {"y": 1, "z": 2, "x": 3}
    # an indicator nobody has yet (三零 not judged in a running month) is left out, not scored 0
    m["c"] = float("nan")
    out2 = ranking.score(m, [{"metric": "a", "better": "higher", "weight": 3},
                             {"metric": "b", "better": "lower", "weight": 1},
                             {"metric": "c", "better": "higher", "weight": 4}]).set_index("code")
    assert out2["score"].to_dict() == out["score"].to_dict() and out2["c_score"].isna().all()


def test_ranking_and_safety_on_demo(tiny_engine):
    root = un.home_unit(tiny_engine, Scope.all())
    p = parse_period("2026-09")
    r = ranking.ranking(tiny_engine, Scope.all(), root, p, as_of=DATA_AS_OF)
    assert sorted(r["rank"]) == list(r["rank"]) and r["score"].between(0, 100).all()
    assert len(r) == len(un.children(tiny_engine, Scope.all(), root))
    med = safety.mediation_by_type(tiny_engine, Scope.all(), root, p)
    ins = safety.inspections(tiny_engine, Scope.all(), root, p)
    assert med["total"].sum() >= 0 and ins["hazards_rectified"] <= ins["hazards_found"]
    cs = safety.case_stats(tiny_engine, Scope.all(), root, p, as_of=DATA_AS_OF)
    assert len(cs) == len(r)


@pytest.mark.parametrize("token", ["2026-09", "2026-Q3"])
def test_pages_agree_for_the_same_unit_and_period(tiny_engine, token):
    """What the wall shows (event_kpis), the events page (funnel, closure by source/category/whistle)
    and the map's child table (child_event_kpis) are the same events counted different ways."""
    from data_access.queries.events import child_event_kpis, closure_by, event_kpis

    root = un.home_unit(tiny_engine, Scope.all())
    p = parse_period(token)
    k = event_kpis(tiny_engine, Scope.all(), root, p, as_of=DATA_AS_OF)
    f = loop.funnel(tiny_engine, Scope.all(), root, p).set_index("stage")
    assert k["reported"] > 0 and f.loc["reported_at", "count"] == k["reported"]
    for by in ("source", "category", "whistle"):
        c = closure_by(tiny_engine, Scope.all(), root, p, by, as_of=DATA_AS_OF)
        assert (c["reported"].sum(), c["closed"].sum(), c["overdue"].sum()) == \
            (k["reported"], k["closed"], k["overdue"]), by
    kids = child_event_kpis(tiny_engine, Scope.all(), root, p, as_of=DATA_AS_OF)
    assert (kids["reported"].sum(), kids["closed"].sum()) == (k["reported"], k["closed"])
    raw = event_kpis(tiny_engine, Scope.all(), root, p, as_of=DATA_AS_OF, use_rollup=False)
    keys = ("reported", "closed", "overdue")
    assert {x: raw[x] for x in keys} == {x: k[x] for x in keys}


def test_petition_month_in_progress_compares_same_days(tiny_engine):
    """The running month's 上年同期 counts only the days elapsed so far a year before."""
    from data_access.db.schema import petitions

    root = un.home_unit(tiny_engine, Scope.all())
    def monthly(as_of):
        return safety.petition_monthly(tiny_engine, Scope.all(), root, parse_period("2026-10"), as_of=as_of)

    pm = monthly(datetime(2026, 10, 10, 12)).set_index("month")
    full = monthly(datetime(2026, 11, 24)).set_index("month")
    with tiny_engine.connect() as conn:
        raw = conn.execute(select(petitions.c.received_at).where(petitions.c.received_at >= datetime(2025, 10, 1),
                                                                 petitions.c.received_at < datetime(2025, 11, 1))).all()
    assert full.loc["2026-10", "total_prev_year"] == len(raw)
    assert pm.loc["2026-10", "total_prev_year"] == sum(1 for (t,) in raw if t < datetime(2025, 10, 11))
    assert pm.loc["2026-09", "total_prev_year"] == full.loc["2026-09", "total_prev_year"]
