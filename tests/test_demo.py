"""Tests for the demo generator: counts, nesting, calibrated rates, determinism."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from sqlalchemy import case, func, select

from data_access.db import schema
from data_access.db.check import check
from data_access.db.engine import get_engine

from .conftest import ROOT


def test_district_check_counts_exact(district_url):
    """The district demo has exactly 1/12/138/358/1663 units and passes the integrity check."""
    out = subprocess.run([sys.executable, "-m", "data_access", "check", "--db", district_url],
                         capture_output=True, text=True, cwd=ROOT, check=False)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert out.returncode == 0, out.stderr
    assert result["units"] == {"0": 1, "1": 12, "2": 138, "3": 358, "4": 1663}
    assert result["orphans"] == 0 and result["invalid_geometries"] == 0
    assert 100_000 < result["events"] < 140_000


def test_district_rates_match_domain(district_url):
    """Calibration: grid reports ≈ 99.9 % closed, app ≈ 90 %, 三零 ≈ 95.6 % / 99.1 %, cameras ≈ 98.5 %."""
    eng = get_engine(district_url)
    e = schema.events
    with eng.connect() as conn:
        rows = conn.execute(select(e.c.source, e.c.status, e.c.reported_at)
                            .where(e.c.reported_at < "2026-09-01")).all()
        df = pd.DataFrame(rows, columns=["source", "status", "reported_at"])
        rate = df.assign(c=df["status"] == "closed").groupby("source")["c"].mean()
        assert 0.995 <= rate["grid"] <= 1.0
        assert 0.84 <= rate["app"] <= 0.95
        j, s = schema.sanling_judgements, schema.sanling_subjects
        comp = pd.DataFrame(conn.execute(select(s.c.kind, j.c.compliant).join(s, s.c.id == j.c.subject_id)).all(),
                            columns=["kind", "compliant"]).groupby("kind")["compliant"].mean()
        assert 0.93 <= comp["village"] <= 0.98
        assert 0.985 <= comp["enterprise"] <= 0.997
        cams = conn.execute(select(func.count(), func.sum(case((schema.cameras.c.online, 1), else_=0)))).one()
        assert cams[0] == 1200 and 0.975 <= cams[1] / cams[0] <= 0.992
        rooms = conn.execute(select(schema.police_rooms.c.kind, func.count()).group_by(
            schema.police_rooms.c.kind)).all()
        assert dict(rooms) == {"room": 48, "station": 40}


def test_nested_geometry(district_url):
    """Every unit lies inside its parent (the check's nesting test), none invalid."""
    result = check(get_engine(district_url))
    assert result["not_nested"] == 0 and result["bad_parents"] == 0


def test_tiny_is_deterministic(tmp_path):
    """Same seed and end date → identical event table."""
    from data_access.demo import build_demo

    from .conftest import TEST_UNTIL

    frames = []
    for i in range(2):
        url = f"sqlite:///{tmp_path / f't{i}.db'}"
        build_demo(url, scale="tiny", seed=3, until=TEST_UNTIL, log=lambda m: None)
        with get_engine(url).connect() as conn:
            frames.append(pd.DataFrame(conn.execute(select(schema.events).order_by(schema.events.c.id)).all()))
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert len(frames[0]) > 1000


def test_district_patrol_reads_like_a_working_district(district_url):
    """一日双巡 is established practice (≈ 94 % of cell-days twice), with a problem subdistrict or two below
    87 %; monthly coverage near complete but not perfect (a vacant grid head post)."""
    from data_access.filters import Scope, parse_period
    from data_access.queries import patrol
    from data_access.queries import units as un

    eng = get_engine(district_url)
    root = un.home_unit(eng, Scope.all())
    period = parse_period("2026-10")
    district = patrol.double_patrol(eng, Scope.all(), root, period)["compliance"]
    assert 0.88 <= district <= 0.97
    subs = [patrol.double_patrol(eng, Scope.all(), un.get_unit(eng, c), period)["compliance"]
            for c in un.children(eng, Scope.all(), root)["code"]]
    assert 1 <= sum(r < 0.87 for r in subs) <= 3 and sum(r >= 0.9 for r in subs) >= len(subs) - 3
    cov = patrol.patrol_coverage(eng, Scope.all(), root, period)["coverage"]
    assert 0.97 <= cov < 1.0


def test_month_in_progress_shows_todays_rounds_and_events(tmp_path):
    """A demo built mid-morning has today's events and the morning round, nothing after "now"."""
    from datetime import datetime

    from data_access.demo import build_demo

    now = datetime(2026, 10, 15, 10, 30)
    url = f"sqlite:///{tmp_path / 'live.db'}"
    build_demo(url, scale="tiny", seed=11, now=now, log=lambda m: None)
    p, e = schema.patrols, schema.events
    with get_engine(url).connect() as conn:
        today = datetime(2026, 10, 15)
        rounds = conn.execute(select(func.count()).where(p.c.team_kind == "grid", p.c.started_at >= today)).scalar()
        late = conn.execute(select(func.count()).where(p.c.started_at >= now)).scalar()
        events_today = conn.execute(select(func.count()).where(e.c.reported_at >= today)).scalar()
        ev_late = conn.execute(select(func.count()).where(e.c.reported_at > now)).scalar()
    assert rounds > 0 and events_today > 0 and late == 0 and ev_late == 0


def test_rounds_visit_every_building_of_their_compound():
    """A grid head's round checks in at each building of the compound; a vacant post makes no rounds."""
    from datetime import datetime

    import numpy as np

    from data_access.demo.facts import build_rounds

    anc = {f"l{i}_code": None for i in range(5)}
    units = pd.DataFrame([
        {**anc, "code": "C1", "name": "甲小区", "level": 3, "parent_code": "V", "l1_code": "S1"},
        {**anc, "code": "B1", "name": "1号楼", "level": 4, "parent_code": "C1", "l1_code": "S1"},
        {**anc, "code": "B2", "name": "2号楼", "level": 4, "parent_code": "C1", "l1_code": "S1"},
    ])
    patrols, visits = build_rounds(units, datetime(2026, 10, 1), datetime(2026, 10, 31), np.random.default_rng(1),
                                   first_id=100)
    assert patrols["id"].min() == 100 if len(patrols) else True
    per_patrol = visits.groupby("patrol_id")["unit_code"].apply(set)
    assert all(s == {"B1", "B2"} for s in per_patrol)
    assert set(per_patrol.index) == set(patrols["id"])
    assert (patrols["started_at"] < datetime(2026, 10, 31)).all() and set(patrols["team_kind"]) <= {"grid"}


@pytest.mark.parametrize("engine_name", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_district_by_district_build_is_one_consistent_database(engine_name, request, tmp_path, monkeypatch):
    """The province path (one district at a time; COPY on PostgreSQL) on a tiny grid of three districts:
    ids never collide, every link (judgement → subject, visit → patrol) stays inside its district, each
    district has its own events and subjects, and the integrity check passes."""
    from data_access.demo import build, build_demo

    from .conftest import TEST_UNTIL

    monkeypatch.setitem(build.SCALES, "tiny3", build.ScaleSpec(**{**build.SCALES["tiny"].__dict__, "districts": 3,
                                                                 "by_district": True}))
    url = (f"sqlite:///{tmp_path / 'p.db'}" if engine_name == "sqlite" else request.getfixturevalue("pg_scratch")())
    counts = build_demo(url, scale="tiny3", seed=5, until=TEST_UNTIL, log=lambda m: None)
    eng = get_engine(url)
    s, j, p, v, e, u = (schema.sanling_subjects, schema.sanling_judgements, schema.patrols, schema.patrol_visits,
                        schema.events, schema.units)
    with eng.connect() as conn:
        districts = conn.execute(select(u.c.code).where(u.c.level == 0).order_by(u.c.code)).scalars().all()
        per = dict(conn.execute(select(e.c.l0_code, func.count()).group_by(e.c.l0_code)).all())
        subjects = dict(conn.execute(select(s.c.l0_code, func.count()).group_by(s.c.l0_code)).all())
        cross_j = conn.execute(select(func.count()).select_from(j.outerjoin(s, s.c.id == j.c.subject_id))
                               .where(s.c.id.is_(None))).scalar()
        visit_l0 = select(func.count()).select_from(v.join(p, p.c.id == v.c.patrol_id).join(
            u, u.c.code == v.c.unit_code)).where(u.c.l0_code != p.c.l0_code)
        cross_v = conn.execute(visit_l0).scalar()
        orphan_v = conn.execute(select(func.count()).select_from(v.outerjoin(p, p.c.id == v.c.patrol_id))
                                .where(p.c.id.is_(None))).scalar()
    assert len(districts) == 3 and len(set(d[-4:] for d in districts)) == 3
    assert set(per) == set(districts) and all(3_000 < n < 5_000 for n in per.values())
    assert set(subjects) == set(districts) and sum(per.values()) == counts["events"]
    assert cross_j == 0 and cross_v == 0 and orphan_v == 0 and counts["patrol_visits"] > 0
    result = check(eng)
    assert result["bad_parents"] == 0 and result["bad_ancestors"] == 0 and result["orphans"] == 0
    if engine_name == "postgres":  # the indexes dropped for the bulk load are all back, as the migrations made them
        from data_access.db.migrate import upgrade

        fresh = request.getfixturevalue("pg_scratch")()
        upgrade(fresh)
        indexes = "select indexname, indexdef from pg_indexes where schemaname = 'public' order by 1"
        with eng.connect() as a, get_engine(fresh).connect() as b:
            assert a.exec_driver_sql(indexes).all() == b.exec_driver_sql(indexes).all()
