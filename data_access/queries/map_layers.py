"""Point and line layers for the grid map: events, patrol tracks, cameras, police rooms."""

from __future__ import annotations

import pandas as pd
import shapely
from sqlalchemy import Engine, select

from data_access.db.connection import connect
from data_access.db.schema import cameras, events, patrols, police_rooms
from data_access.filters import EventFilter, Period, Scope, Unit, _apply_event_filter, _apply_scope


def event_points(engine: Engine, scope: Scope, unit: Unit, period: Period, flt: EventFilter | None = None,
                 limit: int = 20_000) -> pd.DataFrame:
    """Events reported in ``period`` under ``unit``: lon, lat (WGS84), status, category, whistle, closed (bool).

    At most ``limit`` rows (newest first) so that the browser payload stays bounded.
    """
    q = select(events.c.lon, events.c.lat, events.c.status, events.c.category, events.c.whistle).where(
        events.c.reported_at >= period.start_dt, events.c.reported_at < period.end_dt, events.c.lon.is_not(None))
    q = _apply_event_filter(_apply_scope(q, events, scope, unit), events, flt)
    q = q.order_by(events.c.reported_at.desc()).limit(int(limit))
    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(q).all(), columns=["lon", "lat", "status", "category", "whistle"])
    df["closed"] = df["status"] == "closed"
    return df


def patrol_tracks(engine: Engine, scope: Scope, unit: Unit, period: Period, limit: int = 400) -> pd.DataFrame:
    """Patrol tracks of teams under ``unit`` (subdistrict or above) started in ``period``, newest first.

    Columns: team, team_kind, started_at, length_km, path (list of [lon, lat]).
    """
    q = select(patrols.c.team, patrols.c.team_kind, patrols.c.started_at, patrols.c.length_km,
               patrols.c.track_wkb).where(patrols.c.track_wkb.is_not(None),  # rounds are check-ins: no track
                                          patrols.c.started_at >= period.start_dt,
                                          patrols.c.started_at < period.end_dt)
    # Patrols belong to a subdistrict; below that level show the subdistrict's patrols. A caller
    # scoped below subdistrict level sees none (patrols carry no finer ancestor codes).
    focus = unit if unit.level <= 1 else Unit(unit.ancestors[1], "", 1, None, "", unit.ancestors[:2] + (None,) * 3)
    q = _apply_scope(q, patrols, scope, focus).order_by(patrols.c.started_at.desc()).limit(int(limit))
    with connect(engine) as conn:
        rows = conn.execute(q).all()
    df = pd.DataFrame(rows, columns=["team", "team_kind", "started_at", "length_km", "track_wkb"])
    geoms = shapely.from_wkb(df.pop("track_wkb").to_numpy()) if len(df) else []
    df["path"] = [shapely.get_coordinates(g).round(5).tolist() for g in geoms]
    return df


def camera_points(engine: Engine, scope: Scope, unit: Unit) -> pd.DataFrame:
    """Cameras under ``unit``: name, lon, lat, online (bool)."""
    q = _apply_scope(select(cameras.c.name, cameras.c.lon, cameras.c.lat, cameras.c.online), cameras, scope, unit)
    with connect(engine) as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["name", "lon", "lat", "online"])


def police_room_points(engine: Engine, scope: Scope, unit: Unit) -> pd.DataFrame:
    """Police rooms (警务室) and stations under ``unit``: name, kind (room|station), lon, lat."""
    q = _apply_scope(select(police_rooms.c.name, police_rooms.c.kind, police_rooms.c.lon, police_rooms.c.lat),
                     police_rooms, scope, unit)
    with connect(engine) as conn:
        return pd.DataFrame(conn.execute(q).all(), columns=["name", "kind", "lon", "lat"])
