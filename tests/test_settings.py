"""Tests for the settings registry: the README's table and the declarations agree, no code reads the
environment behind the registry's back, and the database URL is resolved once for app and tools."""

from __future__ import annotations

import ast
import re

import pytest

from common import settings

from .conftest import ROOT

PRODUCT = ["app.py", "asgi.py", "serve.py", "common", "components", "data_access", "geo", "pages", "reports",
           "server"]


def _readme_table() -> dict[str, str]:
    """Setting name -> its README table row (rows that name settings in their first column)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", first):
                rows[name] = line
    return rows


def _shown(default) -> str:
    if isinstance(default, bool) or default is None:
        return ""
    if isinstance(default, int):
        return f"{default:,}"
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)


def test_readme_table_lists_exactly_the_declared_settings():
    rows = _readme_table()
    declared = {s.name for s in settings.SETTINGS}
    assert declared - rows.keys() == set(), "declared but missing from the README's configuration table"
    assert rows.keys() - declared == set(), "in the README's table but not declared in common/settings.py"
    for s in settings.SETTINGS:
        assert _shown(s.default) in rows[s.name], f"{s.name}: README default differs from {s.default!r}"


def _env_reads(path) -> list[str]:
    """``os.environ.get(...)``, ``os.environ[...]`` (read), ``os.getenv(...)`` in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func
            if target.attr in ("get", "setdefault") and ast.unparse(target.value) == "os.environ":
                found.append(f"{path}:{node.lineno}")
            elif ast.unparse(target) in ("os.getenv", "os.environ.__getitem__"):
                found.append(f"{path}:{node.lineno}")
        elif (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
              and ast.unparse(node.value) == "os.environ"):
            found.append(f"{path}:{node.lineno}")
    return found


def test_no_code_reads_the_environment_behind_the_registry():
    """Settings are read with ``settings.get(NAME)`` only (a child process may inherit ``{**os.environ}``)."""
    files = [p for entry in PRODUCT for p in ((ROOT / entry).rglob("*.py") if (ROOT / entry).is_dir()
                                              else [ROOT / entry])]
    reads = [hit for p in files if p != ROOT / "common" / "settings.py" for hit in _env_reads(p)]
    assert reads == []


def test_env_reads_are_found(tmp_path):
    """The scan above can fail: it sees each form of reading the environment."""
    probe = tmp_path / "probe.py"
    probe.write_text('import os\na = os.environ.get("X")\nb = os.environ["Y"]\nc = os.getenv("Z")\n'
                     'd = {**os.environ, "W": "1"}\n', encoding="utf-8")
    assert len(_env_reads(probe)) == 3


def test_bad_value_names_the_setting(monkeypatch):
    monkeypatch.setenv("DB_POOL_SIZE", "many")
    with pytest.raises(settings.SettingError, match="DB_POOL_SIZE"):
        settings.get("DB_POOL_SIZE")
    monkeypatch.setenv("DB_POOL_SIZE", " ")
    assert settings.get("DB_POOL_SIZE") == 5


def test_one_database_url_resolution(monkeypatch, tmp_path):
    """Environment, then .streamlit/secrets.toml, then the demo file — the app asks the same function."""
    from components.data import db_url
    from data_access.db import engine

    secrets = tmp_path / "secrets.toml"
    monkeypatch.setattr(engine, "SECRETS_FILE", secrets)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert engine.default_url() == db_url() == f"sqlite:///{engine.DEFAULT_SQLITE_PATH}"
    secrets.write_text('DATABASE_URL = "postgresql://reader@db.intranet/sanling"\n', encoding="utf-8")
    assert engine.default_url() == db_url() == "postgresql://reader@db.intranet/sanling"
    monkeypatch.setenv("DATABASE_URL", "sqlite:////srv/other.db")
    assert engine.default_url() == db_url() == "sqlite:////srv/other.db"
    monkeypatch.delenv("DATABASE_URL")
    secrets.write_text("DATABASE_URL = [broken\n", encoding="utf-8")
    with pytest.raises(settings.SettingError, match="secrets.toml"):
        engine.default_url()


def test_cli_takes_the_url_from_secrets(monkeypatch, tmp_path):
    """``python -m data_access`` without --db and without DATABASE_URL uses secrets.toml's URL."""
    from data_access import cli
    from data_access.db import engine

    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'DATABASE_URL = "sqlite:///{tmp_path / "from-secrets.db"}"\n', encoding="utf-8")
    monkeypatch.setattr(engine, "SECRETS_FILE", secrets)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert cli.main(["init"]) == 0
    assert (tmp_path / "from-secrets.db").exists()
