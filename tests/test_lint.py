"""Lint: ruff and vulture (dead code) pass on the whole tree (the checks run with the tests, not only in editors)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff not installed")
    out = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]


def test_no_dead_code():
    """vulture finds nothing unused beyond vulture_whitelist.py (names used implicitly); same flags as make lint."""
    vulture = Path(sys.executable).parent / "vulture"
    if not vulture.exists():
        pytest.skip("vulture not installed")
    args = [a for a in (ROOT / "Makefile").read_text().split("VULTURE_ARGS := ", 1)[1].splitlines()[0].split(" ")]
    args = [a.strip('"') for a in args]
    out = subprocess.run([str(vulture), ".", *args], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]
