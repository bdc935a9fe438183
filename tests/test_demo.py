"""Tests for the demo generator: counts, nesting, calibrated rates, determinism."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
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
