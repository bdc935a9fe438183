"""Build the deterministic demo database (``python -m data_access demo``).

The same code builds the embedded demo, the city-scale benchmark database and the
test fixtures (``scale="tiny"``), so tests run on the data users see.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, Integer, LargeBinary, Table, delete, insert

from data_access.accounts import user_row
from data_access.db import rollups, schema
from data_access.db.connection import begin, connect
from data_access.db.engine import lift_timeouts
from data_access.db.migrate import upgrade
from data_access.db.version import initial_data_version
from data_access.demo.facts import (
    _risk,
    build_cameras,
    build_criminal_cases,
    build_events,
    build_inspections,
    build_judgements,
    build_mediation,
    build_patrols,
    build_petitions,
    build_police_rooms,
    build_rounds,
    build_subjects,
)
from data_access.demo.grid import GridSpec, build_units, geometry_columns
from data_access.queries.targets import default_target_rows


@dataclass(frozen=True)
class ScaleSpec:
    """How much to generate. Counts are per district; ``districts`` districts are made."""

    districts: int
    grid: GridSpec
    events_per_year: int
    enterprises: int
    cameras: int
    police_rooms: int
    police_stations: int
    mediation_per_year: int
    petitions_per_year: int
    cases_per_year: int
    inspections_per_year: int
    patrol_teams: int = 2
    volunteer_teams: int = 6
    by_district: bool = False  # generate and write one district at a time (memory bounded by one district)


DISTRICT = ScaleSpec(
    districts=1, grid=GridSpec(), events_per_year=120_000, enterprises=1_700, cameras=1_200, police_rooms=48,
    police_stations=40, mediation_per_year=1_200, petitions_per_year=4_400, cases_per_year=1_600,
    inspections_per_year=11_385)
SCALES: dict[str, ScaleSpec] = {
    "district": DISTRICT,
    "city": ScaleSpec(**{**DISTRICT.__dict__, "districts": 10}),
    # ≈ 100 districts, 12 M events a year: built district by district and, on PostgreSQL, loaded with COPY.
    "province": ScaleSpec(**{**DISTRICT.__dict__, "districts": 100, "by_district": True}),
    # For tests: the whole pipeline on a small grid in a second or two.
    "tiny": ScaleSpec(
        districts=1, grid=GridSpec(subdistricts=3, communities=7, compounds=14, buildings=30, population=40_000),
        events_per_year=4_000, enterprises=60, cameras=80, police_rooms=3, police_stations=2,
        mediation_per_year=80, petitions_per_year=200, cases_per_year=120, inspections_per_year=300,
        patrol_teams=1, volunteer_teams=1),
}

ANC = [f"l{i}_code" for i in range(5)]
DEMO_USERS = [("leader", "leader", None, "区委政法委领导"), ("staff", "staff", "first_l1", "街道综治中心科员"),
              ("display", "display", None, "指挥中心大屏"), ("admin", "admin", None, "系统管理员")]


def _column_values(col: pd.Series) -> list:
    """Plain Python values for one column, NULL (None) for NaN/NaT."""
    missing = col.isna().to_numpy()
    kind = col.dtype.kind
    if kind == "M":
        vals = [v.to_pydatetime() for v in pd.to_datetime(col).dt.floor("s").fillna(pd.Timestamp(0))]
    elif kind in "iubf":
        vals = col.fillna(0).to_numpy().tolist() if kind == "f" else col.to_numpy().tolist()
    else:
        vals = col.tolist()
    return [None if m else v for v, m in zip(vals, missing)]


def _insert(engine: Engine, table, df: pd.DataFrame, chunk: int = 20_000) -> int:
    """Insert a DataFrame (NaN/NaT → NULL, numpy → Python scalars) in chunks; returns rows."""
    if df.empty:
        return 0
    cols = [c.name for c in table.columns if c.name in df.columns]
    columns = [_column_values(df[c]) for c in cols]
    records = [dict(zip(cols, row)) for row in zip(*columns)]
    with begin(engine) as conn:
        lift_timeouts(conn)
        for i in range(0, len(records), chunk):
            conn.execute(insert(table), records[i : i + chunk])
    return len(records)


def _copy(engine: Engine, table, df: pd.DataFrame) -> int:
    """PostgreSQL's bulk path: the DataFrame as CSV (pandas' C writer) through ``COPY … FROM STDIN``,
    ``\\N`` for NULL; returns rows."""
    if df.empty:
        return 0
    cols = [c.name for c in table.columns if c.name in df.columns]
    out = {}
    for name in cols:
        col, typ = df[name], table.c[name].type
        if isinstance(typ, LargeBinary):  # bytea's hex input format
            col = pd.Series(["\\x" + bytes(v).hex() if isinstance(v, (bytes, bytearray, memoryview)) else None
                             for v in col], dtype=object)
        elif isinstance(typ, Integer) and col.dtype.kind == "f":  # an integer column that held NaN
            col = col.astype("Int64")
        elif col.dtype.kind == "M":
            col = col.dt.floor("s")
        out[name] = col.reset_index(drop=True)
    buf = io.StringIO()
    pd.DataFrame(out).to_csv(buf, header=False, index=False, na_rep="\\N")
    with begin(engine) as conn:
        lift_timeouts(conn)
        q = conn.dialect.identifier_preparer.quote
        cursor = conn.connection.driver_connection.cursor()  # psycopg, inside this transaction
        with cursor.copy(f"COPY {q(table.name)} ({', '.join(q(c) for c in cols)}) FROM STDIN "
                         "(FORMAT csv, NULL '\\N')") as copy:
            copy.write(buf.getvalue())
    return len(df)


def _secondary_indexes(engine: Engine, drop: bool) -> None:
    """Drop (``drop``) or create the non-unique indexes of the generated fact tables on PostgreSQL,
    for a bulk load; primary keys and unique constraints stay, so the load is still checked."""
    if engine.dialect.name != "postgresql":
        return
    with begin(engine) as conn:
        lift_timeouts(conn)
        if not drop:  # a province's sorts (~10^8 keys) spill to disk at the 64 MB default
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '1GB'")
        for table in _FACT_TABLES:
            for index in sorted(table.indexes, key=lambda i: i.name):
                if not index.unique:
                    (index.drop if drop else index.create)(conn, checkfirst=True)


def write(engine: Engine, table, df: pd.DataFrame) -> int:
    """Store generated rows: ``COPY`` on PostgreSQL, batched INSERTs elsewhere; returns rows."""
    return (_copy if engine.dialect.name == "postgresql" else _insert)(engine, table, df)


def clear(engine: Engine) -> None:
    """Delete every row of every table (children first)."""
    with begin(engine) as conn:
        for table in reversed(schema.metadata.sorted_tables):
            conn.execute(delete(table))


def build_demo(url: str | None = None, scale: str = "district", seed: int = 20241, until: date | None = None,
               demo_password: str | None = None, log: Callable[[str], None] = print,
               now: datetime | None = None) -> dict:
    """Create (or replace) the demo database at ``url``; returns counts per table and seconds taken.

    The year of data ends at ``until`` (default: the day of ``now``), played up to the end of that
    day or up to ``now``, whichever is first; petitions and criminal cases go back two years so that
    year-on-year figures exist. The caller reads the clock (``now``); without it the data runs to the
    end of ``until``. Same ``seed`` and ``until`` (and ``now``) → same database.
    """
    t_start = time.perf_counter()
    spec = SCALES[scale]
    rng = np.random.default_rng(seed)
    if until is None and now is None:
        raise ValueError("build_demo needs until or now")
    until = until or now.date()
    end_of_until = datetime.combine(until, datetime.min.time()) + timedelta(days=1)
    as_of = end_of_until if now is None else min(end_of_until, now.replace(second=0, microsecond=0))
    start = datetime.combine(until - timedelta(days=365), datetime.min.time())
    start2 = datetime.combine(until - timedelta(days=730), datetime.min.time())

    engine = upgrade(url)
    clear(engine)
    counts: dict[str, int] = {}

    log(f"grid: {spec.districts} district(s) …")
    units = build_units(spec.grid, spec.districts, rng)
    geo_cols = geometry_columns(units["geometry"].to_numpy())
    units_db = units.drop(columns=["geometry", "urban"]).assign(**geo_cols)
    counts["units"] = write(engine, schema.units, units_db)
    risk = _risk(units, rng)
    nd = spec.districts

    if not spec.by_district:  # the whole grid at once (the demo, the tests and the city benchmark)
        log("events, 三零 subjects, patrols, cases …")
        for table, df in _facts(units, spec, nd, start, start2, as_of, until, rng, np.random.default_rng([seed, 19]),
                                risk):
            counts[table.name] = counts.get(table.name, 0) + write(engine, table, df)
    else:  # a province: one district at a time, so memory holds one district's rows
        codes = units.loc[units["level"] == 0, "code"].tolist()
        base: dict[str, int] = {}
        _secondary_indexes(engine, drop=True)  # rebuilt once below: cheaper than maintained per row
        for i, code in enumerate(codes):
            log(f"district {i + 1}/{len(codes)} …")
            top = dict(base)
            for table, df in _facts(units[units["l0_code"] == code], spec, 1, start, start2, as_of, until,
                                    np.random.default_rng([seed, 7, i]), np.random.default_rng([seed, 19, i]), risk):
                df = _shift_ids(table.name, df, base)
                if "id" in df.columns and table.name in _INT_IDS and len(df):
                    top[table.name] = max(top.get(table.name, 0), int(df["id"].max()))
                counts[table.name] = counts.get(table.name, 0) + write(engine, table, df)
            base = top
        log("indexes …")
        _secondary_indexes(engine, drop=False)
    with begin(engine) as conn:
        lift_timeouts(conn)
        counts["event_rollup"] = rollups.rebuild(conn)
    counts["targets"] = write(engine, schema.targets, pd.DataFrame(default_target_rows()))

    first_l1 = units.loc[units["level"] == 1, "code"].min()
    users = [user_row(name, demo_password or f"{name}123", role, first_l1 if unit == "first_l1" else unit, label)
             for name, role, unit, label in DEMO_USERS]
    counts["users"] = write(engine, schema.users, pd.DataFrame(users))
    meta = {"scale": scale, "seed": str(seed), "until": until.isoformat(), "as_of": as_of.isoformat(),
            "generated_at": (now or as_of).replace(microsecond=0).isoformat(), "source": "演示数据(自动生成)",
            "data_version": initial_data_version()}
    write(engine, schema.meta, pd.DataFrame({"key": list(meta), "value": list(meta.values())}))
    log("alerts …")  # what a running system would have raised by now: the wall's ticker shows them
    from data_access import alerts

    counts["alerts"] = len(alerts.evaluate(engine, as_of=as_of))  # after meta: it bumps the data version
    if engine.dialect.name == "sqlite":
        with begin(engine) as conn:
            conn.exec_driver_sql("ANALYZE")
    else:  # VACUUM too: a bulk load leaves the visibility map empty, so index-only scans read the heap
        with connect(engine) as conn:  # (三零 compliance at province size: 40 ms → 15 ms)
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM runs outside a transaction
            conn.exec_driver_sql("SET statement_timeout = 0")  # minutes for a province
            conn.connection.dbapi_connection.deadline_s = None  # restored when the connection goes back
            try:
                conn.exec_driver_sql("VACUUM (ANALYZE)")
            finally:
                conn.exec_driver_sql("RESET statement_timeout")  # the engine's own, from the connect options
    counts["seconds"] = round(time.perf_counter() - t_start, 1)
    log(f"done in {counts['seconds']} s")
    return counts


_FACT_TABLES = (schema.events, schema.sanling_subjects, schema.sanling_judgements, schema.cameras,
                schema.police_rooms, schema.patrols, schema.patrol_visits, schema.mediation_cases, schema.petitions,
                schema.criminal_cases, schema.safety_inspections)
# Tables whose generated ids count from 1 per call of _facts, and the columns that point at them.
_INT_IDS = {"sanling_subjects", "cameras", "police_rooms", "patrols", "mediation_cases", "petitions",
            "criminal_cases", "safety_inspections"}
_ID_LINKS = {"sanling_judgements": ("subject_id", "sanling_subjects"), "patrol_visits": ("patrol_id", "patrols")}


def _shift_ids(name: str, df: pd.DataFrame, base: dict[str, int]) -> pd.DataFrame:
    """A district's rows with ids moved past the districts already written (``base``: last id per table)."""
    if name in _INT_IDS and "id" in df.columns:
        df = df.assign(id=df["id"] + base.get(name, 0))
    if name in _ID_LINKS:
        col, target = _ID_LINKS[name]
        df = df.assign(**{col: df[col] + base.get(target, 0)})
    return df


def _facts(units: pd.DataFrame, spec: ScaleSpec, nd: int, start: datetime, start2: datetime, as_of: datetime,
           until: date, rng: np.random.Generator, rounds_rng: np.random.Generator,
           risk: pd.Series) -> Iterator[tuple[Table, pd.DataFrame]]:
    """Every generated fact table for ``units`` (``nd`` districts' worth), as (table, rows) pairs in the
    order they are drawn from ``rng``; integer ids count from 1."""
    yield schema.events, build_events(units, spec.events_per_year * nd, start, as_of, rng, risk)
    subjects = build_subjects(units, spec.enterprises * nd, rng)
    yield schema.sanling_subjects, subjects
    # judged months: every month of the year of data before until's (the current month is judged next month)
    judged = list(pd.date_range(date(start.year, start.month, 1), date(until.year, until.month, 1), freq="MS",
                                inclusive="left").date)
    yield schema.sanling_judgements, build_judgements(subjects, judged, rng, risk)
    yield schema.cameras, build_cameras(units, spec.cameras * nd, rng)
    yield schema.police_rooms, build_police_rooms(units, spec.police_rooms * nd, spec.police_stations * nd, rng)
    patrols, visits = build_patrols(units, start, as_of, rng, spec.patrol_teams, spec.volunteer_teams)
    if not patrols.empty:
        patrols["track_wkb"] = shapely.to_wkb(shapely.set_precision(patrols.pop("track").to_numpy(), 1e-6))
    # grid heads' rounds from their own random stream: adding them leaves every other generated table as it was
    rounds, round_visits = build_rounds(units, start, as_of, rounds_rng, first_id=len(patrols) + 1)
    yield schema.patrols, patrols
    yield schema.patrols, rounds
    yield schema.patrol_visits, visits
    yield schema.patrol_visits, round_visits
    yield schema.mediation_cases, build_mediation(units, spec.mediation_per_year * nd, start, as_of, rng, risk)
    yield schema.petitions, build_petitions(units, 2 * spec.petitions_per_year * nd, start2, as_of, rng, risk)
    yield schema.criminal_cases, build_criminal_cases(units, 2 * spec.cases_per_year * nd, start2, as_of, rng, risk)
    yield schema.safety_inspections, build_inspections(units, spec.inspections_per_year * nd, start, as_of, rng,
                                                       risk)
