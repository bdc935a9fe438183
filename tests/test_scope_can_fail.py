"""Tests for the scope test itself: with the scope filter removed it must fail, for every function.

Runs ``tests/test_scope.py`` in a subprocess with ``SCOPE_TEST_WITHOUT_SCOPE=1`` (``_apply_scope``
keeps only the focus filter, ``Unit.within`` accepts every unit) and reads the JUnit report: the case
of every scoped function must fail, except the few whose scope never goes through either (listed in
``SCOPE_WITHOUT_FILTER`` with the reason), which must still pass. SQLite only: the filter is the same
Python code on both engines, and the scope suite itself runs on both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests import test_scope as ts

ROOT = Path(__file__).resolve().parent.parent
CASE = "test_answers_as_if_nothing_outside_the_scope_existed[sqlite-{}]"


def test_scope_suite_fails_for_every_function_without_the_filter(tmp_path):
    report = tmp_path / "junit.xml"
    env = {**os.environ, "SCOPE_TEST_WITHOUT_SCOPE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_scope.py", "-m", "not postgres", "-q", "-p", "no:cacheprovider",
         f"--junitxml={report}", f"--basetemp={tmp_path / 'base'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert report.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    outcome = {}
    for case in ET.parse(report).iter("testcase"):
        kids = {c.tag for c in case}
        outcome[case.get("name")] = ("failed" if "failure" in kids else "error" if "error" in kids
                                     else "skipped" if "skipped" in kids else "passed")
    expected = {CASE.format(n): ("passed" if n in ts.SCOPE_WITHOUT_FILTER else "failed") for n in ts._CASES}
    expected |= {"test_foreign_focus_is_refused[sqlite]": "failed",
                 "test_peer_benchmark_returns_aggregates_only[sqlite]": "failed",
                 "test_every_query_function_is_covered": "passed"}
    wrong = {k: (outcome.get(k, "missing"), v) for k, v in expected.items() if outcome.get(k) != v}
    assert not wrong, f"(got, expected) without the scope filter: {wrong}\n{proc.stdout[-2000:]}"
    assert len(ts._CASES) >= 50
