"""Tests for the layering: data_access, reports, geo and common import without Streamlit, and pages
hold no SQL."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_BLOCK_AND_IMPORT = """
import importlib, pkgutil, sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "streamlit" or name.startswith("streamlit."):
            raise ImportError("streamlit is blocked in this test")
        return None

sys.meta_path.insert(0, Block())
done = []
for top in ("common", "geo", "data_access", "reports"):
    pkg = importlib.import_module(top)
    for mod in pkgutil.walk_packages(pkg.__path__, top + "."):
        if ".migrations" in mod.name or mod.name.endswith("__main__"):
            continue
        importlib.import_module(mod.name)
        done.append(mod.name)
assert "streamlit" not in sys.modules
print(len(done))
"""


def test_library_packages_import_without_streamlit():
    """Every module of common, geo, data_access and reports imports with Streamlit blocked."""
    out = subprocess.run([sys.executable, "-c", _BLOCK_AND_IMPORT], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert int(out.stdout.strip().splitlines()[-1]) > 40


def test_pages_and_components_build_no_sql():
    """Pages and components never import SQLAlchemy or the schema, nor open a connection."""
    bad = []
    for folder in ("pages", "components"):
        for path in (ROOT / folder).glob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom | ast.Import):
                    names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                    bad += [f"{path.name}: import {n}" for n in names
                            if n.startswith("sqlalchemy") or n.startswith("data_access.db")]
                if isinstance(node, ast.Attribute) and node.attr in ("connect", "begin", "exec_driver_sql"):
                    bad.append(f"{path.name}: .{node.attr}")
    assert not bad, bad
