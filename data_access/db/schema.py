"""All tables of the command center, on one ``MetaData``.

Types are chosen to work unchanged on SQLite (embedded default) and PostgreSQL:
geometries are WKB bytes plus a bounding box (no PostGIS needed), timestamps are
naive local time (Asia/Shanghai), enumerations are short English codes whose
Chinese labels live in :mod:`data_access.vocab`.

Every fact table carries the codes of its unit's ancestors (``l0_code`` …
``l4_code``, the unit's own code at its own level) so that scoping a query to a
subtree and grouping by any level are one indexed equality, on both engines.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

LEVELS = (0, 1, 2, 3, 4)
RAW_LABEL_FIELDS = ("category", "source", "whistle", "status")
RAW_LABEL_LENGTH = 100


def _ancestor_columns() -> list[Column]:
    """``l0_code`` … ``l4_code``: the ancestor at each level (own code at own level)."""
    return [Column(f"l{lv}_code", String(40), nullable=True) for lv in LEVELS]


def _ancestor_indexes(table: str) -> list[Index]:
    return [Index(f"ix_{table}_l{lv}", f"l{lv}_code") for lv in LEVELS]


units = Table(
    "units",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("level", Integer, nullable=False),
    Column("parent_code", String(40), nullable=True),
    # community | village (level 2); compound | natural_village (3);
    # building | village_group (4); district (0); subdistrict | township (1)
    Column("kind", String(30), nullable=False),
    Column("geom_wkb", LargeBinary, nullable=True),
    Column("min_lon", Float),
    Column("min_lat", Float),
    Column("max_lon", Float),
    Column("max_lat", Float),
    Column("center_lon", Float),
    Column("center_lat", Float),
    Column("area_km2", Float),
    Column("population", Integer, nullable=False, default=0),
    Column("households", Integer, nullable=False, default=0),
    Column("grid_worker", String(100), nullable=True),
    Column("grid_worker_phone", String(30), nullable=True),
    *_ancestor_columns(),
    Index("ix_units_parent", "parent_code"),
    Index("ix_units_level", "level"),
    *_ancestor_indexes("units"),
)

events = Table(
    "events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("unit_code", String(40), nullable=False),
    *_ancestor_columns(),
    Column("title", String(200), nullable=False, default=""),
    Column("category", String(20), nullable=False),
    Column("source", String(20), nullable=False),
    Column("whistle", String(10), nullable=False, default="routine"),
    Column("status", String(12), nullable=False),
    Column("reported_at", DateTime, nullable=False),
    Column("dispatched_at", DateTime),
    Column("handled_at", DateTime),
    Column("verified_at", DateTime),
    Column("closed_at", DateTime),
    Column("deadline", DateTime, nullable=False),
    Column("responsible_unit", String(100)),
    Column("lon", Float),
    Column("lat", Float),
    # A label the vocabulary did not know at import time, as the file wrote it (the event is counted
    # under a safe default: category/source other, whistle routine, status from its 办结时间); NULL when
    # the label was known. Kept after an admin maps it, so a mapping can be corrected later.
    *[Column(f"{f}_raw", String(RAW_LABEL_LENGTH)) for f in RAW_LABEL_FIELDS],
    Index("ix_events_reported", "reported_at"),
    Index("ix_events_status_deadline", "status", "deadline"),
    Index("ix_events_unit", "unit_code"),
    # (ancestor, reported_at): a scoped KPI for a period is one index range scan.
    *[Index(f"ix_events_l{lv}_reported", f"l{lv}_code", "reported_at") for lv in LEVELS],
    # "closed per day" for a district reads a range instead of the district's whole year
    Index("ix_events_l0_closed", "l0_code", "closed_at"),
)

# Open events only (≈1 % of all): counting what is overdue right now reads this small index
# instead of every event of the period. Partial indexes work on SQLite and PostgreSQL.
for _lv in (0, 1, 2):
    Index(f"ix_events_open_l{_lv}", events.c[f"l{_lv}_code"], events.c.reported_at,
          sqlite_where=events.c.closed_at.is_(None), postgresql_where=events.c.closed_at.is_(None))

# Unmapped labels are few: partial indexes keep listing and re-mapping them off the full table.
for _f in RAW_LABEL_FIELDS:
    Index(f"ix_events_{_f}_raw", events.c[f"{_f}_raw"], sqlite_where=events.c[f"{_f}_raw"].is_not(None),
          postgresql_where=events.c[f"{_f}_raw"].is_not(None))

# Pre-aggregated event counts for units of levels 0–2 by month × category × source × whistle
# (a district-month KPI reads a few dozen rows instead of ~10k events). Buildings and
# compounds use the indexed events table directly. Kept current by data_access.db.rollups.
event_rollup = Table(
    "event_rollup",
    metadata,
    Column("unit_code", String(40), primary_key=True),
    Column("month", String(7), primary_key=True),  # 'YYYY-MM' of reported_at
    Column("category", String(20), primary_key=True),
    Column("source", String(20), primary_key=True),
    Column("whistle", String(10), primary_key=True),
    Column("level", Integer, nullable=False),
    *_ancestor_columns(),
    Column("reported", Integer, nullable=False),
    Column("closed", Integer, nullable=False),
    Column("closed_late", Integer, nullable=False),  # closed after the deadline
    Index("ix_event_rollup_l0_month", "l0_code", "month"),
    Index("ix_event_rollup_l1_month", "l1_code", "month"),
    Index("ix_event_rollup_l2_month", "l2_code", "month"),
)

sanling_subjects = Table(
    "sanling_subjects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("kind", String(12), nullable=False),  # village | enterprise
    Column("subject_type", String(20), nullable=False),  # see vocab.SUBJECT_TYPES
    Column("department", String(40), nullable=False),
    Column("unit_code", String(40), nullable=False),
    *_ancestor_columns(),
    *_ancestor_indexes("sanling_subjects"),
)

sanling_judgements = Table(
    "sanling_judgements",
    metadata,
    Column("subject_id", Integer, ForeignKey("sanling_subjects.id"), primary_key=True),
    Column("month", Date, primary_key=True),  # first day of the month judged
    Column("compliant", Boolean, nullable=False),
    Column("broke_petition", Boolean, nullable=False, default=False),
    Column("broke_accident", Boolean, nullable=False, default=False),
    Column("broke_case", Boolean, nullable=False, default=False),
    Column("note", String(200)),
    Index("ix_sanling_judgements_month", "month"),
)

patrols = Table(
    "patrols",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("team", String(60), nullable=False),
    Column("team_kind", String(12), nullable=False),  # fulltime | volunteer | police
    Column("unit_code", String(40), nullable=False),  # the unit the patrol belongs to
    *_ancestor_columns(),
    Column("started_at", DateTime, nullable=False),
    Column("ended_at", DateTime, nullable=False),
    Column("length_km", Float, nullable=False, default=0.0),
    Column("track_wkb", LargeBinary),  # LineString, WGS84
    Index("ix_patrols_started", "started_at"),
    *_ancestor_indexes("patrols"),
)

# Grid cells (level-4 units) a patrol track passed through, derived from the track when it
# is stored, so that coverage is an indexed count instead of a geometry join at page time.
# Scope is applied through a join to ``units`` (no ancestor columns: this table is large).
patrol_visits = Table(
    "patrol_visits",
    metadata,
    Column("patrol_id", Integer, ForeignKey("patrols.id"), primary_key=True),
    Column("unit_code", String(40), primary_key=True),
    Column("visited_on", Date, nullable=False),
    Index("ix_patrol_visits_day_unit", "visited_on", "unit_code"),
    # "was this cell visited in the period?" as an index probe per cell (coverage KPIs)
    Index("ix_patrol_visits_unit_day", "unit_code", "visited_on"),
)

cameras = Table(
    "cameras",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("unit_code", String(40), nullable=False),
    *_ancestor_columns(),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("online", Boolean, nullable=False),
    *_ancestor_indexes("cameras"),
)

police_rooms = Table(
    "police_rooms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("kind", String(12), nullable=False),  # room | station
    Column("unit_code", String(40), nullable=False),
    *_ancestor_columns(),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    *_ancestor_indexes("police_rooms"),
)

mediation_cases = Table(
    "mediation_cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("unit_code", String(40), nullable=False),
    *_ancestor_columns(),
    Column("dispute_type", String(20), nullable=False),
    Column("received_at", DateTime, nullable=False),
    Column("status", String(12), nullable=False),  # screened | mediating | settled | failed
    Column("settled_at", DateTime),
    Index("ix_mediation_received", "received_at"),
    *_ancestor_indexes("mediation_cases"),
)

petitions = Table(
    "petitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("unit_code", String(40), nullable=False),
    *_ancestor_columns(),
    Column("channel", String(10), nullable=False),  # visit | online | letter
    Column("persons", Integer, nullable=False, default=1),
    Column("received_at", DateTime, nullable=False),
    Column("resolved", Boolean, nullable=False, default=False),
    Index("ix_petitions_received", "received_at"),
    *_ancestor_indexes("petitions"),
)

criminal_cases = Table(
    "criminal_cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("unit_code", String(40), nullable=False),
    *_ancestor_columns(),
    Column("case_type", String(20), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Column("solved", Boolean, nullable=False, default=False),
    Index("ix_criminal_occurred", "occurred_at"),
    *_ancestor_indexes("criminal_cases"),
)

safety_inspections = Table(
    "safety_inspections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("unit_code", String(40), nullable=False),
    *_ancestor_columns(),
    Column("inspected_on", Date, nullable=False),
    Column("hazards_found", Integer, nullable=False, default=0),
    Column("hazards_rectified", Integer, nullable=False, default=0),
    Index("ix_safety_inspected", "inspected_on"),
    *_ancestor_indexes("safety_inspections"),
)

targets = Table(
    "targets",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Float, nullable=False),
    Column("label", String(100), nullable=False),
    Column("source", String(100)),  # e.g. 省定目标 / 市定目标
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("username", String(60), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(10), nullable=False),  # leader | staff | display | admin
    Column("unit_code", String(40)),  # scope root for staff/display; NULL = whole
    Column("display_name", String(100)),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime),
    Column("created_at", DateTime),
)

# Login sessions and wall-display tokens. Only a SHA-256 of the token is stored, so a database
# dump cannot be replayed; revoking or expiring a row ends the session everywhere.
auth_sessions = Table(
    "auth_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(60), nullable=False),
    Column("kind", String(10), nullable=False),  # login | display
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("note", String(100)),
    Index("ix_auth_sessions_user", "username"),
)

# Login throttling (data_access.accounts.throttle): one row per throttle key — "client:<ip>",
# "account:<username>" (any submitted name, existing or not) and "trust:<username>|<ip>" (a client
# that logged in as that user). Kept in the database so the limits hold across app replicas.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(120), primary_key=True),
    Column("attempts", Integer, nullable=False, default=0),  # attempts counted since the window restarted
    Column("updated_at", DateTime, nullable=False),  # last counted attempt (trust: last good login)
    Column("next_at", DateTime),  # no attempt is let through before this
    Index("ix_login_throttle_updated", "updated_at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("username", String(60)),
    Column("action", String(30), nullable=False),  # login_ok | login_fail | export | import | user_change
    Column("detail", Text),
    Index("ix_audit_at", "at"),
)

# Live data (data_access.ingest): API keys of the systems that push events, and one row per feed
# (an API key or a pull source) with its freshness and, for pull sources, the sync cursor.
# Only a SHA-256 of a key is stored: keys are 256-bit random, so a fast hash is enough.
api_keys = Table(
    "api_keys",
    metadata,
    Column("name", String(60), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("role", String(10), nullable=False),  # source (writes events) | reader (reads figures)
    Column("unit_code", String(40), nullable=False),  # the subtree the key may write or read
    Column("note", String(100)),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
)

ingest_feeds = Table(
    "ingest_feeds",
    metadata,
    Column("name", String(60), primary_key=True),  # the API key's name or the sync source's name
    Column("kind", String(10), nullable=False),  # api | sync
    Column("cursor", Text),  # sync: the largest cursor value committed, JSON ({"t": type, "v": value})
    Column("last_event_at", DateTime),  # newest reported_at/closed_at the feed delivered
    Column("last_success_at", DateTime),
    Column("last_error_at", DateTime),
    Column("last_error", String(500)),
    Column("imported", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
)

# One row per batch a feed delivered (or failed to): the data-health chart's rows per hour.
ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("feed", String(60), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("read", Integer, nullable=False, default=0),
    Column("imported", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("error", String(500)),
    Index("ix_ingest_batches_at", "at"),
)

# The archive of generated 通报 (one row per unit × period × run): where its files lie, when and by
# what they were made. Ancestor columns let data_access scope the archive like any unit data.
bulletins = Table(
    "bulletins",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("unit_code", String(40), nullable=False),
    Column("unit_name", String(100), nullable=False),
    *_ancestor_columns(),
    Column("period", String(40), nullable=False),  # period token, e.g. 2026-09
    Column("generated_at", DateTime, nullable=False),
    Column("generated_by", String(100), nullable=False),  # 'schedule', 'root@cli', an account
    Column("pdf_path", String(500)),
    Column("xlsx_path", String(500)),
    Column("incomplete", String(300)),  # why the month's data was incomplete at generation; NULL: complete
    Index("ix_bulletins_period", "period", "unit_code"),
    Index("ix_bulletins_l1", "l1_code"),
)

# Alerts: a unit turned red/orange, or a 重点哨 event passed its deadline. One open row per
# (kind, key) until the condition clears (cleared_at set); a new occurrence after that is a new row.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),  # warning | key_overdue
    Column("key", String(80), nullable=False),  # unit code or event id
    Column("unit_code", String(40), nullable=False),
    Column("unit_name", String(100)),
    *_ancestor_columns(),
    Column("level", String(10), nullable=False),  # red | orange (key_overdue: red)
    Column("message", String(500), nullable=False),
    Column("raised_at", DateTime, nullable=False),
    Column("cleared_at", DateTime),
    Column("posted", String(12), nullable=False, default="no"),  # no | sent | dead (webhook)
    Index("ix_alerts_open", "kind", "key", "cleared_at"),
    Index("ix_alerts_raised", "raised_at"),
    Index("ix_alerts_l1", "l1_code"),
)
