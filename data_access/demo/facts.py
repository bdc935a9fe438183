"""Generated facts for the demo: events, 三零 judgements, patrols, cameras and the rest.

Rates are calibrated on the seed reports (see ../shared/DOMAIN.md): grid-worker reports
≈ 99.9 % closed, citizen-app disputes ≈ 90 %, villages ≈ 95.6 % and enterprises ≈ 99.1 %
三零-compliant, cameras ≈ 98.5 % online. A latent risk per community (level 2) makes
overdue events, broken zeros, petitions and cases cluster in the same places, as they do.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import shapely

from data_access.demo.names import EVENT_TITLES, KEY_DEPARTMENTS, NameMaker
from data_access.vocab import CASE_TYPES, CATEGORIES, DISPUTE_TYPES, SUBJECT_TYPES
from data_access.workdays import add_workdays

ANC = [f"l{i}_code" for i in range(5)]

# source: (share of events, closure probability for a finished event)
SOURCE_MIX = {"grid": (0.915, 0.999), "app": (0.010, 0.90), "hotline": (0.045, 0.97),
              "petition": (0.010, 0.93), "video": (0.020, 0.995)}
CATEGORY_MIX = {"dispute": 0.22, "safety": 0.24, "order": 0.12, "environment": 0.20, "building": 0.07,
                "livelihood": 0.15}
# working days allowed by category (routine whistle); key whistle gets 2.
DEADLINE_WORKDAYS = {"dispute": 5, "safety": 3, "order": 3, "environment": 5, "building": 10, "livelihood": 7}


def _risk(units: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """Latent risk per level-2 unit (mean 1, a few hot spots), looked up by l2_code."""
    l2 = units.loc[units["level"] == 2, "code"].to_numpy()
    r = rng.lognormal(0, 0.45, len(l2))
    hot = rng.random(len(l2)) < 0.06
    r[hot] *= 3.0
    return pd.Series(r / r.mean(), index=l2)


def _points_in(geoms: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One random point inside each geometry (falls back to a point on surface)."""
    b = shapely.bounds(geoms)
    lon = b[:, 0] + rng.random(len(geoms)) * (b[:, 2] - b[:, 0])
    lat = b[:, 1] + rng.random(len(geoms)) * (b[:, 3] - b[:, 1])
    inside = shapely.contains_xy(geoms, lon, lat)
    if (~inside).any():
        pos = shapely.point_on_surface(geoms[~inside])
        lon[~inside], lat[~inside] = shapely.get_x(pos), shapely.get_y(pos)
    return lon, lat


def _workday_table(start: date, end: date, max_n: int = 12) -> dict[date, list[date]]:
    """``table[d][n]`` = the date ``n`` working days after ``d`` for every d in [start, end]."""
    out = {}
    d = start
    while d <= end:
        out[d] = [add_workdays(d, n) for n in range(max_n + 1)]
        d += timedelta(days=1)
    return out


def build_events(units: pd.DataFrame, n: int, start: datetime, as_of: datetime, rng: np.random.Generator,
                 risk: pd.Series) -> pd.DataFrame:
    """``n`` events reported in ``[start, as_of)`` with the closed loop played up to ``as_of``."""
    leaves = units[units["level"] == 4].reset_index(drop=True)
    w = leaves["population"].to_numpy(float) * leaves["l2_code"].map(risk).to_numpy()
    idx = rng.choice(len(leaves), n, p=w / w.sum())
    unit_rows = leaves.iloc[idx].reset_index(drop=True)
    unit_risk = unit_rows["l2_code"].map(risk).to_numpy()

    span_s = (as_of - start).total_seconds()
    # Reports: slightly more recently (growth), more on weekdays and in daytime.
    t = np.sort(rng.power(1.15, n)) * span_s
    hour_shift = (rng.normal(11.5, 3.5, n) % 24) * 3600
    reported = np.array([start + timedelta(seconds=float(s)) for s in t], dtype="datetime64[s]")
    day = reported.astype("datetime64[D]")
    reported = day + hour_shift.astype("timedelta64[s]")
    reported = np.minimum(reported, np.datetime64(as_of) - np.timedelta64(60, "s"))
    reported = np.maximum(reported, np.datetime64(start))

    src_keys = list(SOURCE_MIX)
    source = rng.choice(src_keys, n, p=[SOURCE_MIX[s][0] for s in src_keys])
    cat_keys = list(CATEGORY_MIX)
    category = rng.choice(cat_keys, n, p=list(CATEGORY_MIX.values()))
    category = np.where(source == "app", "dispute", category)  # the app's module is for disputes
    whistle = np.where(rng.random(n) < 0.03 * np.clip(unit_risk, 0.5, 3), "key", "routine")

    # Deadlines: N working days after the report day, end of that day.
    table = _workday_table(start.date(), as_of.date())
    wd = np.where(whistle == "key", 2, [DEADLINE_WORKDAYS[c] for c in category])
    rep_dates = pd.to_datetime(reported).date
    deadline = np.array([np.datetime64(table[d][k]) for d, k in zip(rep_dates, wd)], dtype="datetime64[s]")
    deadline = deadline + np.timedelta64(18 * 3600, "s")

    # Stage durations (hours); riskier places and key whistles are slower.
    slow = np.clip(unit_risk, 0.6, 3.0)
    h_dispatch = rng.exponential(1.2, n) * slow
    allowed_h = (deadline - reported) / np.timedelta64(1, "h")
    h_handle = allowed_h * np.clip(rng.beta(2.0, 3.4, n) * slow * 0.75, 0.02, 1.6)
    h_verify = rng.exponential(4.0, n)
    h_close = rng.exponential(1.5, n)
    hrs = lambda h: (h * 3600).astype("timedelta64[s]")  # noqa: E731
    dispatched = reported + hrs(h_dispatch)
    handled = dispatched + hrs(h_handle)
    verified = handled + hrs(h_verify)
    closed = verified + hrs(h_close)

    # Some events never finish: stuck at a random stage.
    p_close = np.array([SOURCE_MIX[s][1] for s in source]) ** np.clip(unit_risk, 0.7, 2.5)
    stuck = rng.random(n) > p_close
    stuck_stage = rng.integers(1, 4, n)  # 1: never dispatched, 2: never handled, 3: never verified
    asof = np.datetime64(as_of)
    nat = np.datetime64("NaT")
    dispatched = np.where((dispatched <= asof) & ~(stuck & (stuck_stage == 1)), dispatched, nat)
    handled = np.where(~np.isnat(dispatched) & (handled <= asof) & ~(stuck & (stuck_stage <= 2)), handled, nat)
    verified = np.where(~np.isnat(handled) & (verified <= asof) & ~stuck, verified, nat)
    closed = np.where(~np.isnat(verified) & (closed <= asof), closed, nat)
    status = np.select(
        [~np.isnat(closed), ~np.isnat(handled), ~np.isnat(dispatched)], ["closed", "handled", "dispatched"],
        "reported")

    lon, lat = _points_in(unit_rows["geometry"].to_numpy(), rng)
    sub_names = units.set_index("code")["name"]
    titles = [rng.choice(EVENT_TITLES[c]) for c in category]
    responsible = np.where(whistle == "key", [KEY_DEPARTMENTS[c] for c in category],
                           unit_rows["l1_code"].map(sub_names).to_numpy())
    order = np.argsort(reported, kind="stable")
    prefix = "E" + unit_rows["l0_code"].str[-4:].to_numpy()
    df = pd.DataFrame({
        "unit_code": unit_rows["code"].to_numpy(), **{a: unit_rows[a].to_numpy() for a in ANC},
        "title": titles,
        "category": category, "source": source, "whistle": whistle, "status": status,
        "reported_at": reported, "dispatched_at": dispatched, "handled_at": handled, "verified_at": verified,
        "closed_at": closed, "deadline": deadline, "responsible_unit": responsible,
        "lon": lon.round(6), "lat": lat.round(6), "_prefix": prefix,
    }).iloc[order].reset_index(drop=True)
    day_str = pd.to_datetime(df["reported_at"]).dt.strftime("%Y%m%d")
    seq = df.groupby([df["_prefix"], day_str]).cumcount() + 1
    df.insert(0, "id", df["_prefix"] + day_str + seq.map("{:05d}".format))
    return df.drop(columns="_prefix")


def build_subjects(units: pd.DataFrame, n_enterprises: int, rng: np.random.Generator) -> pd.DataFrame:
    """三零 creation subjects: every village/community plus ``n_enterprises`` enterprises/institutions.

    Columns: id, name, kind, subject_type, department, unit_code, l0_code … l4_code.
    """
    names = NameMaker(rng)
    l2 = units[units["level"] == 2]
    l1_names = units.set_index("code")["name"]
    rows = []
    for _, u in l2.iterrows():
        st = "community" if u["kind"] == "community" else "village"
        rows.append({"name": u["name"], "kind": "village", "subject_type": st, "department": l1_names[u["l1_code"]],
                     "unit_code": u["code"], **{a: u[a] for a in ANC}})
    ent_types = [k for k in SUBJECT_TYPES if k not in ("village", "community")]
    w = np.array([6, 2, 5, 1, 3, 3, 2, 2, 8, 14, 5], float)
    l3 = units[units["level"] == 3].reset_index(drop=True)
    where = rng.choice(len(l3), n_enterprises, p=(l3["population"] / l3["population"].sum()).to_numpy())
    types = rng.choice(ent_types, n_enterprises, p=w / w.sum())
    suffix = {"school": "学校", "hospital": "医院", "market": "农贸市场", "scenic": "景区", "entertainment": "KTV",
              "netcafe": "网咖", "mall": "购物中心", "station": "客运站", "pharmacy": "大药房", "restaurant": "饭店",
              "factory": "有限公司"}
    for i, t in zip(where, types):
        u = l3.iloc[i]
        stem = u["name"].replace("小区", "").replace("家园", "").replace("花园", "")[:2]
        name = names._unique(lambda: stem + names.person()[-1] + suffix[t])  # noqa: B023
        dept = "所在乡镇(街道)" if t in ("village", "community") else SUBJECT_TYPES[t][1]
        rows.append({"name": name, "kind": "enterprise", "subject_type": t, "department": dept,
                     "unit_code": u["code"], **{a: u[a] for a in ANC}})
    df = pd.DataFrame(rows)
    df.insert(0, "id", np.arange(1, len(df) + 1))
    return df


def build_judgements(subjects: pd.DataFrame, months: list[date], rng: np.random.Generator,
                     risk: pd.Series) -> pd.DataFrame:
    """Monthly 三零 judgements: villages ≈ 95.6 %, enterprises ≈ 99.1 % compliant.

    Columns: subject_id, month, compliant, broke_petition, broke_accident, broke_case, note.
    """
    n, m = len(subjects), len(months)
    base = np.where(subjects["kind"] == "village", 0.044, 0.009)
    r = subjects["l2_code"].map(risk).fillna(1.0).to_numpy()
    p_break = np.clip(base * r, 0, 0.5)
    broke = rng.random((m, n)) < p_break[None, :]
    which = rng.choice(3, (m, n), p=[0.4, 0.25, 0.35])
    labels = np.array(["发生越级上访", "发生安全生产事故", "发生刑事案件"])
    df = pd.DataFrame({
        "subject_id": np.tile(subjects["id"].to_numpy(), m),
        "month": np.repeat(np.array(months, dtype=object), n),
        "compliant": ~broke.ravel(),
        "broke_petition": (broke & (which == 0)).ravel(),
        "broke_accident": (broke & (which == 1)).ravel(),
        "broke_case": (broke & (which == 2)).ravel(),
    })
    df["note"] = np.where(broke.ravel(), labels[which.ravel()], None)
    return df


def build_cameras(units: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` cameras in buildings weighted by population, ≈ 98.5 % online (offline ones clustered)."""
    leaves = units[units["level"] == 4].reset_index(drop=True)
    idx = rng.choice(len(leaves), n, p=(leaves["population"] / leaves["population"].sum()).to_numpy())
    u = leaves.iloc[idx].reset_index(drop=True)
    lon, lat = _points_in(u["geometry"].to_numpy(), rng)
    bad_l2 = set(rng.choice(units.loc[units["level"] == 2, "code"], max(1, len(leaves) // 400), replace=False))
    p_off = np.where(u["l2_code"].isin(bad_l2), 0.12, 0.01)
    return pd.DataFrame({
        "id": np.arange(1, n + 1), "name": [f"{u['name'].iat[i]}监控{i + 1:04d}" for i in range(n)],
        "unit_code": u["code"], **{a: u[a] for a in ANC}, "lon": lon.round(6), "lat": lat.round(6),
        "online": rng.random(n) >= p_off,
    })


def build_police_rooms(units: pd.DataFrame, n_rooms: int, n_stations: int, rng: np.random.Generator
                       ) -> pd.DataFrame:
    """Police rooms (警务室) and work stations at village/community centres (level 2)."""
    l2 = units[units["level"] == 2].reset_index(drop=True)
    k = min(len(l2), n_rooms + n_stations)
    pick = np.sort(rng.choice(len(l2), k, replace=False))
    u = l2.iloc[pick].reset_index(drop=True)
    pts = shapely.point_on_surface(u["geometry"].to_numpy())
    kind = np.where(np.arange(k) < min(n_rooms, k), "room", "station")
    rng.shuffle(kind)
    return pd.DataFrame({
        "id": np.arange(1, k + 1),
        "name": [f"{u['name'].iat[i]}{'警务室' if kind[i] == 'room' else '警务工作站'}" for i in range(k)],
        "kind": kind, "unit_code": u["code"], **{a: u[a] for a in ANC},
        "lon": shapely.get_x(pts).round(6), "lat": shapely.get_y(pts).round(6),
    })


def build_patrols(units: pd.DataFrame, start: datetime, as_of: datetime, rng: np.random.Generator,
                  teams_per_sub: int = 2, volunteer_teams_per_sub: int = 6) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Patrol tracks and the building cells each passes through.

    Full-time teams patrol twice a day (一日双巡) near their home compound, volunteer teams
    about every third day. A track is a line through 3–6 neighbouring compounds.
    Returns (patrols, visits): patrols has ``track`` (shapely LineString, WGS84) and
    length_km; visits has patrol_id, unit_code (a level-4 unit), visited_on.
    """
    from geo import metric_crs, to_metric

    l3 = units[units["level"] == 3].reset_index(drop=True)
    l4 = units[units["level"] == 4].reset_index(drop=True)
    names = NameMaker(rng)
    n_days = max(1, (as_of.date() - start.date()).days)
    specs, coords = [], []
    for l1_code, sub3 in l3.groupby("l1_code", sort=True):
        pts = shapely.point_on_surface(sub3["geometry"].to_numpy())
        xy = np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])
        anc = [sub3[a].iat[0] if i <= 1 else None for i, a in enumerate(ANC)]
        sub_name = units.loc[units["code"] == l1_code, "name"].iat[0]
        teams = [(f"{sub_name}专职巡防{k + 1}队", "fulltime", 2.0) for k in range(teams_per_sub)]
        teams += [(f"{sub_name}{names.person()[0]}家志愿巡逻队", "volunteer", 0.3)
                  for _ in range(volunteer_teams_per_sub)]
        for team, kind, per_day in teams:
            home = rng.integers(len(xy))
            near = np.argsort(np.hypot(*(xy - xy[home]).T))[: min(len(xy), 8)]
            for d in np.sort(rng.integers(0, n_days, rng.poisson(per_day * n_days))):
                k = int(rng.integers(2, min(6, len(near)) + 1)) if len(near) >= 2 else 1
                stops = xy[rng.choice(near, k, replace=False)] + rng.normal(0, 0.0006, (k, 2))
                if k == 1:
                    stops = np.vstack([stops, stops + 0.0008])
                t0 = start + timedelta(days=int(d), hours=8 if rng.random() < 0.5 else 19,
                                       minutes=int(rng.integers(0, 90)))
                if t0 < as_of:
                    specs.append((team, kind, l1_code, anc, t0))
                    coords.append(stops)
    tracks = shapely.linestrings(np.vstack(coords), indices=np.repeat(np.arange(len(coords)),
                                                                      [len(c) for c in coords])) \
        if coords else np.array([], dtype=object)
    c = units.loc[units["level"] == 0, "geometry"].iat[0].centroid
    lengths = shapely.length(to_metric(tracks, metric_crs(c.x, c.y))) if len(tracks) else np.array([])
    rows = []
    for i, ((team, kind, l1_code, anc, t0), km) in enumerate(zip(specs, lengths / 1000)):
        rows.append({"id": i + 1, "team": team, "team_kind": kind, "unit_code": l1_code,
                     **dict(zip(ANC, anc)), "started_at": t0,
                     "ended_at": min(t0 + timedelta(minutes=int(20 + km * 15)), as_of),
                     "length_km": round(float(km), 3), "track": tracks[i]})
    patrols = pd.DataFrame(rows)
    tree = shapely.STRtree(l4["geometry"].to_numpy())
    hit_track, hit_unit = tree.query(tracks, predicate="intersects") if len(tracks) else ([], [])
    visits = pd.DataFrame({"patrol_id": np.asarray(hit_track) + 1,
                           "unit_code": l4["code"].to_numpy()[np.asarray(hit_unit, dtype=int)],
                           "visited_on": patrols["started_at"].dt.date.to_numpy()[np.asarray(hit_track, dtype=int)]
                           if len(patrols) else []})
    return patrols, visits


def build_rounds(units: pd.DataFrame, start: datetime, as_of: datetime, rng: np.random.Generator, first_id: int,
                 problem_share: float = 0.06) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The grid heads' rounds (一日双巡): each compound (level 3) walked in the morning and the afternoon.

    A round is a check-in in the grid workers' app, not a GPS track (``track_wkb`` empty); it visits every
    building (level-4 cell) of its compound. Most compounds keep the practice (both rounds on 90–97 % of
    days); ``problem_share`` of them are lax (45–65 %), more so in one subdistrict in six where the practice
    has slipped (40 % lax, and a few compounds with no grid head: no rounds). Returns
    (patrols, visits) shaped as :func:`build_patrols`' with ids from ``first_id``.
    """
    l3 = units[units["level"] == 3].reset_index(drop=True)
    l4 = units[units["level"] == 4]
    if l3.empty:
        return pd.DataFrame(), pd.DataFrame(columns=["patrol_id", "unit_code", "visited_on"])
    cells = l4.groupby("parent_code")["code"].apply(list)
    n_days = max(1, (as_of.date() - start.date()).days + 1)
    # one subdistrict in six (at least one) is where the practice has slipped: many lax compounds there,
    # and a compound or two whose grid head post is vacant (no rounds at all)
    subs = np.sort(l3["l1_code"].unique())
    weak = set(rng.choice(subs, max(1, round(len(subs) / 6)), replace=False))
    in_weak = l3["l1_code"].isin(weak).to_numpy()
    lax = rng.random(len(l3)) < np.where(in_weak, 0.4, problem_share / 2)
    vacant = in_weak & (rng.random(len(l3)) < 0.08)
    p_twice = np.where(lax, rng.uniform(0.45, 0.65, len(l3)), rng.uniform(0.9, 0.97, len(l3)))
    day0 = datetime.combine(start.date(), datetime.min.time())
    rows, visits_p, visits_u, visits_d = [], [], [], []
    pid = first_id
    for i, u in enumerate(l3.itertuples(index=False)):
        draw = rng.random((n_days, 2))
        twice = draw[:, 0] < p_twice[i]
        once = ~twice & (draw[:, 1] < 0.75)  # a missed round is usually one of the two
        mins = rng.integers(0, 90, (n_days, 2))
        kids = cells.get(u.code, [])
        if vacant[i]:
            continue
        anc = {a: getattr(u, a) for a in ANC}
        for d in np.flatnonzero(twice | once):
            day = day0 + timedelta(days=int(d))
            for k, hour in enumerate((8, 15) if twice[d] else ((8, 15)[int(draw[d, 1] * 2) % 2],)):
                t0 = day + timedelta(hours=hour, minutes=int(mins[d, k]))
                if t0 >= as_of:
                    continue
                rows.append((pid, f"{u.name}网格长", "grid", u.code, *anc.values(), t0,
                             min(t0 + timedelta(minutes=40), as_of), 1.2))
                visits_p += [pid] * len(kids)
                visits_u += kids
                visits_d += [t0.date()] * len(kids)
                pid += 1
    patrols = pd.DataFrame(rows, columns=["id", "team", "team_kind", "unit_code", *ANC, "started_at", "ended_at",
                                          "length_km"])
    visits = pd.DataFrame({"patrol_id": visits_p, "unit_code": visits_u, "visited_on": visits_d})
    return patrols, visits


def _spread(units: pd.DataFrame, n: int, start: datetime, end: datetime, rng: np.random.Generator,
            risk: pd.Series, trend: float = 0.0) -> pd.DataFrame:
    """``n`` timestamps in [start, end) on level-4 units weighted by population × risk.
    ``trend`` < 0 makes the later half sparser (e.g. −0.1 ≈ 10 % fewer per year)."""
    leaves = units[units["level"] == 4].reset_index(drop=True)
    w = leaves["population"].to_numpy(float) * leaves["l2_code"].map(risk).to_numpy() ** 1.5
    idx = rng.choice(len(leaves), n, p=w / w.sum())
    u = leaves.iloc[idx].reset_index(drop=True)
    span = (end - start).total_seconds()
    years = span / (365 * 86400)
    # Inverse-CDF sampling of a linear density a + b x so the rate changes by ``trend`` per year.
    b = trend * years
    x = rng.random(n)
    t = x if abs(b) < 1e-9 else (np.sqrt((1) ** 2 + 2 * b * (1 + b / 2) * x * 1) - 1) / b
    t = np.clip(t, 0, 1 - 1e-9)
    ts = pd.to_datetime(start) + pd.to_timedelta(t * span, unit="s")
    return pd.DataFrame({"unit_code": u["code"].to_numpy(), **{a: u[a].to_numpy() for a in ANC},
                         "at": ts.floor("min")})


def build_mediation(units, n, start, as_of, rng, risk) -> pd.DataFrame:
    """Mediation cases: ≈ 99 % of finished ones settled (588 disputes, 581 settled)."""
    df = _spread(units, n, start, as_of, rng, risk)
    age_days = (pd.Timestamp(as_of) - df["at"]).dt.days.to_numpy()
    r = rng.random(n)
    status = np.where(age_days < 7, np.where(r < 0.5, "screened", "mediating"),
                      np.where(r < 0.988, "settled", "failed"))
    settled = np.where(status == "settled", df["at"] + pd.to_timedelta(rng.exponential(4, n) + 0.5, unit="D"), pd.NaT)
    settled = pd.to_datetime(settled).where(pd.to_datetime(settled) <= pd.Timestamp(as_of), pd.Timestamp(as_of))
    settled = settled.where(status == "settled")
    return pd.DataFrame({"id": np.arange(1, n + 1), "unit_code": df["unit_code"], **{a: df[a] for a in ANC},
                         "dispute_type": rng.choice(list(DISPUTE_TYPES), n, p=[.2, .25, .15, .15, .15, .1]),
                         "received_at": df["at"], "status": status, "settled_at": settled})


def build_petitions(units, n, start, as_of, rng, risk) -> pd.DataFrame:
    """Petitions over two years, ≈ 8.5 % fewer in the second (visits carry ≈ 9.5 persons)."""
    df = _spread(units, n, start, as_of, rng, risk, trend=-0.09)
    channel = rng.choice(["visit", "online", "letter"], n, p=[0.52, 0.38, 0.10])
    persons = np.where(channel == "visit", 1 + rng.poisson(8.5, n), 1)
    return pd.DataFrame({"id": np.arange(1, n + 1), "unit_code": df["unit_code"], **{a: df[a] for a in ANC},
                         "channel": channel, "persons": persons, "received_at": df["at"],
                         "resolved": rng.random(n) < 0.96})


def build_criminal_cases(units, n, start, as_of, rng, risk) -> pd.DataFrame:
    """Criminal cases over two years, ≈ 10.6 % fewer in the second."""
    df = _spread(units, n, start, as_of, rng, risk, trend=-0.11)
    return pd.DataFrame({"id": np.arange(1, n + 1), "unit_code": df["unit_code"], **{a: df[a] for a in ANC},
                         "case_type": rng.choice(list(CASE_TYPES), n, p=[.42, .28, .15, .03, .12]),
                         "occurred_at": df["at"], "solved": rng.random(n) < 0.7})


def build_inspections(units, n, start, as_of, rng, risk) -> pd.DataFrame:
    """Safety inspections (≈ 0.41 hazards each), all rectified but the most recent few."""
    df = _spread(units, n, start, as_of, rng, risk)
    found = rng.poisson(0.41, n)
    recent = (pd.Timestamp(as_of) - df["at"]).dt.days.to_numpy() < 10
    rectified = np.where(recent, np.minimum(found, rng.binomial(found, 0.5)), found)
    return pd.DataFrame({"id": np.arange(1, n + 1), "unit_code": df["unit_code"], **{a: df[a] for a in ANC},
                         "inspected_on": df["at"].dt.date, "hazards_found": found, "hazards_rectified": rectified})


__all__ = ["build_events", "build_subjects", "build_judgements", "build_cameras", "build_police_rooms",
           "build_patrols", "build_rounds", "build_mediation", "build_petitions", "build_criminal_cases",
           "build_inspections",
           "CATEGORIES"]
