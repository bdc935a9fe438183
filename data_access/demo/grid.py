"""The generated grid: districts split into the four nested levels with names and people."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from data_access.demo.names import SUBDISTRICTS, URBAN_SUBDISTRICTS, NameMaker, district
from geo import city_layout, load_district_outline, partition


@dataclass(frozen=True)
class GridSpec:
    """Units per district at levels 1–4, residents per district."""

    subdistricts: int = 12
    communities: int = 138  # level 2: 83 communities + 55 villages
    compounds: int = 358
    buildings: int = 1663
    population: int = 758_000


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into ``len(weights)`` integer parts ≥ 1 proportional to ``weights``
    (largest remainder)."""
    k = len(weights)
    if total < k:
        raise ValueError(f"cannot give {k} parents at least one child each from {total}")
    share = weights / weights.sum() * (total - k)
    base = np.floor(share).astype(int)
    rest = total - k - base.sum()
    base[np.argsort(-(share - base), kind="stable")[:rest]] += 1
    return base + 1


def _split(poly, n: int, rng: np.random.Generator) -> list:
    return [poly] if n == 1 else partition(poly, n, rng)


def build_units(spec: GridSpec, n_districts: int, rng: np.random.Generator) -> pd.DataFrame:
    """All units of ``n_districts`` districts.

    Columns: code, name, level, parent_code, kind, geometry (shapely, WGS84), population,
    households, grid_worker, grid_worker_phone, urban (bool), l0_code … l4_code.
    Codes: district code (6 digits) + 3 digits per level below it.
    """
    outlines = city_layout(load_district_outline(), n_districts) if n_districts > 1 else [load_district_outline()]
    names = NameMaker(rng)
    rows: list[dict] = []

    def add(code, name, level, parent, kind, geom, urban, anc):
        anc = anc + [code]
        rows.append({"code": code, "name": name, "level": level, "parent_code": parent, "kind": kind,
                     "geometry": geom, "urban": urban, **{f"l{i}_code": (anc[i] if i < len(anc) else None)
                                                           for i in range(5)}})
        return anc

    n_sub = spec.subdistricts
    n_urban_sub = round(n_sub * URBAN_SUBDISTRICTS / 12)
    for d_idx, outline in enumerate(outlines):
        d_code, d_name = district(d_idx)
        names.next_district()
        anc0 = add(d_code, d_name, 0, None, "district", outline, True, [])
        subs = _split(outline, n_sub, rng)
        # The pieces nearest the district centre are the urban subdistricts.
        c = outline.centroid
        order = np.argsort([p.centroid.distance(c) for p in subs], kind="stable")
        subs = [subs[i] for i in order]
        w2 = np.where(np.arange(n_sub) < n_urban_sub, 1.0, 2.0) * rng.uniform(0.8, 1.2, n_sub)
        n2 = allocate(spec.communities, w2)
        sub_names = SUBDISTRICTS if d_idx == 0 else [f"{d_name[:-1]}{s}" for s in SUBDISTRICTS]
        l2_units = []
        for i, (geom1, k2) in enumerate(zip(subs, n2)):
            urban = bool(i < n_urban_sub)
            code1 = f"{d_code}{i + 1:03d}"
            anc1 = add(code1, sub_names[i % len(sub_names)], 1, d_code, "subdistrict" if urban else "township",
                       geom1, urban, anc0)
            for j, geom2 in enumerate(_split(geom1, int(k2), rng)):
                code2 = f"{code1}{j + 1:03d}"
                name2 = names.community() if urban else names.village()
                anc2 = add(code2, name2, 2, code1, "community" if urban else "village", geom2, urban, anc1)
                l2_units.append((code2, geom2, urban, anc2, name2))
        n3 = allocate(spec.compounds, rng.uniform(0.7, 1.3, len(l2_units)))
        l3_units = []
        for (code2, geom2, urban, anc2, name2), k3 in zip(l2_units, n3):
            for j, geom3 in enumerate(_split(geom2, int(k3), rng)):
                code3 = f"{code2}{j + 1:03d}"
                name3 = names.compound(name2) if urban else names.natural_village()
                anc3 = add(code3, name3, 3, code2, "compound" if urban else "natural_village", geom3, urban, anc2)
                l3_units.append((code3, geom3, urban, anc3))
        n4 = allocate(spec.buildings, rng.uniform(0.7, 1.3, len(l3_units)))
        for (code3, geom3, urban, anc3), k4 in zip(l3_units, n4):
            for j, geom4 in enumerate(_split(geom3, int(k4), rng)):
                name4 = f"{j + 1}号楼" if urban else f"第{j + 1}村民小组"
                add(f"{code3}{j + 1:03d}", name4, 4, code3, "building" if urban else "village_group",
                    geom4, urban, anc3)

    df = pd.DataFrame(rows)
    _assign_people(df, spec, rng, names)
    return df


def _assign_people(df: pd.DataFrame, spec: GridSpec, rng: np.random.Generator, names: NameMaker) -> None:
    """Population on buildings (urban denser), summed up the tree; grid workers on levels 3–4."""
    leaf = df["level"] == 4
    weight = np.where(df.loc[leaf, "urban"], 4.0, 1.0) * rng.lognormal(0, 0.35, leaf.sum())
    n_districts = int((df["level"] == 0).sum())
    pop = np.zeros(len(df), dtype=np.int64)
    pop[leaf.to_numpy()] = allocate(spec.population * n_districts, weight)
    df["population"] = pop
    for lv in (3, 2, 1, 0):
        sums = df.loc[df["level"] == lv + 1].groupby("parent_code")["population"].sum()
        mask = df["level"] == lv
        df.loc[mask, "population"] = df.loc[mask, "code"].map(sums).fillna(0).astype(np.int64)
    df["households"] = (df["population"] / rng.uniform(2.6, 3.1, len(df))).round().astype(np.int64)
    workers = [names.person() if lv >= 3 else None for lv in df["level"]]
    df["grid_worker"] = workers
    df["grid_worker_phone"] = [
        f"1{rng.choice([3, 5, 8])}{rng.integers(0, 10)}****{rng.integers(1000, 9999)}" if w else None
        for w in workers]


def geometry_columns(geoms) -> dict[str, np.ndarray]:
    """WKB, bbox, centre (a point inside) and area (km²) for a sequence of WGS84 geometries."""
    from geo import geodesic_area_km2

    arr = np.asarray(geoms, dtype=object)
    bounds = shapely.bounds(arr)
    centers = shapely.point_on_surface(arr)
    return {
        "geom_wkb": shapely.to_wkb(arr),
        "min_lon": bounds[:, 0], "min_lat": bounds[:, 1], "max_lon": bounds[:, 2], "max_lat": bounds[:, 3],
        "center_lon": shapely.get_x(centers), "center_lat": shapely.get_y(centers),
        "area_km2": np.array([geodesic_area_km2(g) for g in arr]),
    }
