"""The "foreign units removed" database the scope tests compare against.

:func:`build_subtree_only` builds the tiny demo with the same generator and seed as the shared
``tiny_url`` fixture and then deletes everything outside one unit's subtree: the other units (its
ancestors included), their facts, and the rollup rows, which are then rebuilt from what is left.
A query that applies the caller's scope must answer the same on this database as on the full one.

Every table must be handled here: a new table that is neither pruned by its ``l{level}_code``
columns, nor by a rule below, nor listed as holding no unit data fails loudly, so the comparison
cannot silently keep foreign rows.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, exists, or_, select

from data_access.db import rollups
from data_access.db.engine import get_engine
from data_access.db.schema import metadata, patrol_visits, patrols, sanling_judgements, sanling_subjects
from data_access.db.schema import units as units_t
from data_access.demo import build_demo

# Tables without unit data: accounts, login throttling, audit trail, district-wide targets, data-source metadata.
NO_UNIT_DATA = {"users", "auth_sessions", "audit_log", "targets", "meta", "login_throttle",
                "api_keys", "ingest_feeds", "ingest_batches"}  # keys, feed freshness and batch counts
# Pruned through the table they belong to (see build_subtree_only), not by ancestor columns.
BY_RULE = {"sanling_judgements", "patrol_visits", "event_rollup", "patrols"}


def _outside(table, level: int, code: str):
    col = table.c[f"l{level}_code"]
    return or_(col.is_(None), col != code)


def build_subtree_only(url: str, code: str, level: int, *, seed: int, until: date) -> str:
    """Build the tiny demo at ``url`` and keep only the subtree of unit ``code`` (at ``level``)."""
    build_demo(url, scale="tiny", seed=seed, until=until, log=lambda _m: None)
    anc = f"l{level}_code"
    unknown = [t.name for t in metadata.sorted_tables
               if t.name not in NO_UNIT_DATA | BY_RULE and anc not in t.c]
    if unknown:
        raise AssertionError(f"tables the scope test does not know how to prune: {unknown}")
    kept_units = select(units_t.c.code).where(units_t.c[anc] == code)
    with get_engine(url).begin() as conn:
        conn.execute(delete(sanling_judgements).where(sanling_judgements.c.subject_id.not_in(
            select(sanling_subjects.c.id).where(sanling_subjects.c[anc] == code))))
        # A visit records that a grid cell was patrolled: it belongs to the cell, whoever patrolled.
        # A foreign patrol that passed one of our cells is kept for its visit (foreign key); the
        # queries scope patrols by the patrol's own unit, so it is still foreign to them.
        conn.execute(delete(patrol_visits).where(patrol_visits.c.unit_code.not_in(kept_units)))
        conn.execute(delete(patrols).where(_outside(patrols, level, code), ~exists().where(
            patrol_visits.c.patrol_id == patrols.c.id)))
        for table in reversed(metadata.sorted_tables):
            if table.name not in NO_UNIT_DATA | BY_RULE:
                conn.execute(delete(table).where(_outside(table, level, code)))
        rollups.rebuild(conn)  # the district rows summed the foreign events too
    return url
