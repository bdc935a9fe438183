"""Create or migrate the schema with Alembic (``python -m data_access init``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from data_access.db.engine import get_engine, lift_timeouts, normalize_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at our migrations and ``url`` (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None) -> Engine:
    """Bring the database at ``url`` to the newest schema; returns its engine."""
    engine = get_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        lift_timeouts(conn)  # an index on a large table may take longer than a page query may
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return engine
