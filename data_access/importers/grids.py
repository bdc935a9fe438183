"""``import-grids``: grid boundaries from GeoJSON, zipped Shapefile, GeoPackage or KML, stored as WGS84.

Files are opened through :mod:`data_access.importers.grid_files` (one driver per extension, no VRT,
no network, size and feature caps). Every feature is imported or rejected with its reason, in one
transaction. A re-import changes only what the file says: a missing or empty name, kind, population
or parent keeps the stored value. A unit whose parent changes takes its subtree along: the ancestor
codes (``l0_code`` … ``l4_code``) of its descendants and of every fact row under it are rewritten and
the event-rollup slices they touch rebuilt, in the same transaction. A change of level is refused.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, bindparam, func, select, update

from data_access.accounts.audit import record
from data_access.db import rollups, schema
from data_access.db.connection import connect
from data_access.db.retry import write_transaction
from data_access.db.schema import units
from data_access.db.sqlfn import month_of
from data_access.filters import CODE_RE
from data_access.importers.common import ImportFileError, Result, pick_columns, upsert, write_rejects
from data_access.importers.grid_files import Limits, opened, read
from data_access.vocab import KIND_LABELS
from geo import gcj02_to_wgs84, transform_geometry

ALIASES = {"code": ["code", "编码"], "name": ["name", "名称"], "level": ["level", "层级"],
           "parent_code": ["parent_code", "parent_cod", "parent", "上级编码"], "kind": ["kind", "类型"],
           "population": ["population", "populatio", "人口"]}
LEVEL_WORDS = {"区": 0, "街道": 1, "乡镇": 1, "乡": 1, "镇": 1, "社区": 2, "村": 2, "小区": 3, "自然村": 3,
               "楼栋": 4, "小组": 4}
KINDS = {0: "district", 1: "subdistrict", 2: "community", 3: "compound", 4: "building"}  # default per level
LEVEL_KINDS = {0: {"district"}, 1: {"subdistrict", "township"}, 2: {"community", "village"},
               3: {"compound", "natural_village"}, 4: {"building", "village_group"}}
KIND_WORDS = {**{k: k for k in KIND_LABELS}, **{v: k for k, v in KIND_LABELS.items()},
              "办事处": "subdistrict", "乡": "township", "镇": "township", "小组": "village_group"}
CRS_FLAGS = {"wgs84": "EPSG:4326", "cgcs2000": "EPSG:4490", "gcj02": "gcj02"}
EPSG_RE = re.compile(r"^EPSG:\d{4,6}$", re.I)
NAME_MAX = units.c.name.type.length
POPULATION_MAX = 2**31 - 1  # PostgreSQL integer

# Every table whose rows carry their unit's ancestor codes (the units themselves included); the
# rollup is rebuilt from events instead.
ANCESTOR_TABLES = [t for t in schema.metadata.sorted_tables if "l0_code" in t.c and t.name != "event_rollup"]

Progress = Callable[[int, int, str], None]


def crs_flag(crs: str | None) -> str | None:
    """``wgs84`` | ``cgcs2000`` | ``gcj02`` | ``EPSG:N`` → the CRS to assume, or None (from the file)."""
    if crs is None or not str(crs).strip() or str(crs).strip() == "文件自带":
        return None
    flag = str(crs).strip()
    if flag.lower() in CRS_FLAGS:
        return CRS_FLAGS[flag.lower()]
    if EPSG_RE.match(flag):
        return flag.upper()
    raise ImportFileError(f"坐标系参数无效：{flag[:40]}（可选 wgs84、cgcs2000、gcj02 或 EPSG:代码）")


def read_grid_file(path: str, crs: str | None = None, limits: Limits | None = None,
                   max_features: int | None = None) -> gpd.GeoDataFrame:
    """Read a boundary file (at most ``max_features`` features) into a GeoDataFrame in EPSG:4326.

    CRS from the file, or ``crs`` (see :func:`crs_flag`; gcj02 is shifted to WGS84). Raises
    ImportFileError for anything :func:`grid_files.opened` refuses.
    """
    flag = crs_flag(crs)
    with opened(path, limits) as (local, info):
        gdf = read(local, info, max_features=max_features)
    gdf = _to_wgs84(gdf, flag)
    gdf.attrs["layers"] = info.layers
    return gdf


def _to_wgs84(gdf, flag: str | None) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise ImportFileError("文件中没有几何（边界）列")
    if flag == "gcj02":
        gdf = gdf.set_crs("EPSG:4326", allow_override=True)
        gdf["geometry"] = [None if g is None else transform_geometry(g, gcj02_to_wgs84) for g in gdf.geometry]
        return gdf
    if flag:
        gdf = gdf.set_crs(flag, allow_override=True)
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    return gdf.to_crs("EPSG:4326") if gdf.crs.to_epsg() != 4326 else gdf


def preview_frame(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The features of a boundary file as they would be imported: columns code, name, level (int or
    None for an unreadable level), geometry (EPSG:4326); raises ImportFileError on missing columns."""
    cols = pick_columns(gdf.columns, ALIASES, ["code", "name", "level"])
    out = gpd.GeoDataFrame({"code": [_text(v) for v in gdf[cols["code"]]],
                            "name": [_text(v) for v in gdf[cols["name"]]],
                            "level": [_level(v) for v in gdf[cols["level"]]]},
                           geometry=gdf.geometry.values, crs="EPSG:4326")
    return out[out.geometry.notna() & ~out.geometry.is_empty]


@dataclass
class GridPreview:
    """A boundary file at a glance: ``features`` in it, its ``columns`` and ``layers``; ``sample`` (the
    first features, as :func:`preview_frame`), ``table`` (first 10 rows of attributes) and ``existing``
    (how many of *all* its codes are already in the database: a re-import updates them)."""

    features: int
    columns: list[str]
    layers: tuple[str, ...]
    sample: gpd.GeoDataFrame
    table: pd.DataFrame
    existing: int


def preview_grid_file(engine: Engine, path: str, crs: str | None = None, limits: Limits | None = None) -> GridPreview:
    """Check and sample a boundary file without reading it whole: at most ``limits.preview_features``
    features with geometry, plus the code column of all (for the count of existing codes)."""
    limits = limits or Limits.from_env()
    flag = crs_flag(crs)
    with opened(path, limits) as (local, info):
        cols = pick_columns(info.fields, ALIASES, ["code", "name", "level"])
        gdf = read(local, info, max_features=limits.preview_features)
        codes = read(local, info, columns=[cols["code"]], read_geometry=False)[cols["code"]]
    gdf = _to_wgs84(gdf, flag)
    table = pd.DataFrame(gdf.drop(columns="geometry").head(10)).astype(str)
    return GridPreview(features=info.features, columns=list(info.fields), layers=info.layers,
                       sample=preview_frame(gdf), table=table,
                       existing=count_existing(engine, [c for c in (_text(v) for v in codes) if c]))


def count_existing(engine: Engine, codes: list[str]) -> int:
    """How many of ``codes`` are units in the database (the whole database: the caller is an admin)."""
    n = 0
    with connect(engine) as conn:
        for i in range(0, len(codes), 500):
            part = codes[i:i + 500]
            n += conn.execute(select(func.count()).select_from(units).where(units.c.code.in_(part))).scalar_one()
    return int(n)


def _text(v) -> str:
    """A cell as stripped text; None/NaN/NA → '' and a whole float (a numeric code column) → '411602'."""
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if v.is_integer():
            return str(int(v))
    if hasattr(v, "item") and not isinstance(v, str):  # numpy scalar
        return _text(v.item())
    return str(v).strip()


def _level(v) -> int | None:
    s = _text(v)
    if s in LEVEL_WORDS:
        return LEVEL_WORDS[s]
    try:
        f = float(s)
    except ValueError:
        return None
    return int(f) if f.is_integer() else None


def _population(s: str) -> int | None:
    """A population cell as a whole number 0 … 2³¹−1, or None when it is not one (约三万, -5, 1.5)."""
    s = s.replace(",", "").replace("，", "").strip()
    try:
        f = float(s)
    except ValueError:
        return None
    if not math.isfinite(f) or not f.is_integer() or not 0 <= f <= POPULATION_MAX:
        return None
    return int(f)


def _known(engine: Engine) -> dict[str, dict]:
    cols = [units.c.code, units.c.level, units.c.parent_code, units.c.geom_wkb,
            *[units.c[f"l{i}_code"] for i in range(5)]]
    with connect(engine) as conn:
        return {r.code: {"level": r.level, "parent_code": r.parent_code, "wkb": r.geom_wkb,
                         "anc": [getattr(r, f"l{i}_code") for i in range(5)]} for r in conn.execute(select(*cols))}


def _geom_of(unit: dict):
    if "geom" not in unit:
        unit["geom"] = shapely.from_wkb(unit["wkb"]) if unit.get("wkb") else None
    return unit["geom"]


def import_grids(engine: Engine, path: str, crs: str | None = None, rejects: str | None = None,
                 actor: str | None = None, progress: Progress | None = None, limits: Limits | None = None) -> dict:
    """Validate and write every feature of ``path`` into ``units``; returns the summary dict
    {"read", "imported", "rejected", "warnings", "moved", "rejects_file"} (read = imported + rejected;
    moved = units whose ancestors changed, their subtrees and fact rows re-coded along)."""
    tick = progress or (lambda done, total, stage: None)
    tick(0, 1, "读取文件")
    gdf = read_grid_file(path, crs, limits)
    cols = pick_columns(gdf.columns, ALIASES, ["code", "name", "level"])
    res = Result(read=len(gdf))
    layers = gdf.attrs.get("layers", ())
    if len(layers) > 1:
        res.warnings.append((0, "", f"文件含 {len(layers)} 个图层，只导入了第一个「{layers[0]}」"))
    known = _known(engine)
    records = gdf.to_dict("records")
    levels = [_level(r.get(cols["level"])) for r in records]
    order = sorted(range(len(records)), key=lambda k: (99 if levels[k] is None else levels[k], k))  # parents first
    accepted: dict[str, dict] = {}
    seen: set[str] = set()
    step = max(1, len(order) // 100)
    for n, k in enumerate(order):
        if n % step == 0:
            tick(n, len(order), "校验")
        unit = _validate(k + 2, records[k], cols, known, accepted, seen, res)  # row 1 is the header
        if unit is not None:
            accepted[unit["row"]["code"]] = unit
    tick(len(order), len(order), "写入数据库")
    moved = [(c, a["level"], a["anc"]) for c, a in accepted.items()
             if c in known and a["anc"][:a["level"]] != known[c]["anc"][:a["level"]]]
    def work(conn) -> None:  # one transaction: all or nothing (run again from the start if a writer collides)
        _write(conn, accepted, moved)
        record(conn, actor, "import", {"kind": "grids", "file": Path(path).name, "read": res.read,
                                       "imported": len(accepted), "rejected": len(res.rejects), "moved": len(moved)})

    write_transaction(engine, work, long=True)
    res.imported = len(accepted)
    tick(len(order), len(order), "完成")
    out = res.summary(write_rejects(res, rejects, path))
    return {**out, "moved": len(moved), "rejects_file": out["rejects_file"]}


def _validate(i: int, rec: dict, cols: dict, known: dict, accepted: dict, seen: set, res: Result) -> dict | None:
    """The unit a file row describes (dict with level, anc, geom, new, row) or None after ``res.reject``."""
    from data_access.demo.grid import geometry_columns

    def cell(key: str) -> str:
        return _text(rec.get(cols[key])) if key in cols else ""

    code = cell("code")
    if not code:
        return res.reject(i, code, "编码为空")
    if not CODE_RE.match(code):
        return res.reject(i, code[:40], f"编码格式无效（只允许字母、数字、_ 和 -，最长 40 位）：{code[:60]}")
    if code in seen:
        return res.reject(i, code, "编码重复")
    seen.add(code)
    lv = _level(rec.get(cols["level"]))
    if lv is None or not 0 <= lv <= 4:
        return res.reject(i, code, f"层级超出范围(0–4)：{cell('level')[:20]}")
    old = known.get(code)
    if old is not None and old["level"] != lv:
        return res.reject(i, code, f"层级与数据库中不同：数据库中为第{old['level']}级，导入不能更改层级")
    parent = cell("parent_code")
    if parent and not CODE_RE.match(parent):
        return res.reject(i, code, f"上级编码格式无效：{parent[:60]}")
    anc: list = [None] * 5
    pgeom = None
    if lv == 0:  # a district's parent (its city) lies outside the database: kept as given, not checked
        parent = parent or (old["parent_code"] if old else "")
    else:
        parent = parent or (old["parent_code"] if old else "")
        par = accepted.get(parent) or known.get(parent) if parent else None
        if par is None:
            return res.reject(i, code, f"上级编码不存在：{parent or '(空)'}")
        if par["level"] != lv - 1:
            return res.reject(i, code, f"层级与上级不符：上级为第{par['level']}级，本单位应为第{par['level'] + 1}级")
        anc = list(par["anc"])
        pgeom = par["geom"] if "row" in par else _geom_of(par)
    anc[lv] = code
    anc[lv + 1:] = [None] * (4 - lv)
    name = " ".join(cell("name").split())
    if len(name) > NAME_MAX:
        return res.reject(i, code, f"名称超过 {NAME_MAX} 个字符（{len(name)} 个）")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return res.reject(i, code, "名称含有控制字符")
    geom = rec.get("geometry")
    if geom is None or geom.is_empty:
        return res.reject(i, code, "几何为空")
    if not geom.is_valid:
        fixed = shapely.make_valid(geom)
        polys = [g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type in ("Polygon", "MultiPolygon")]
        if not polys:
            return res.reject(i, code, "几何无效且无法修复为面")
        geom = shapely.union_all(polys)
        res.warnings.append((i, code, "几何无效，已自动修复(make_valid)"))
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return res.reject(i, code, f"几何类型应为面，实为 {geom.geom_type}")
    if pgeom is not None and not pgeom.is_empty:
        inside = geom.intersection(pgeom).area / geom.area if geom.area else 0
        if inside < 0.99:
            res.warnings.append((i, code, f"超出上级边界：仅 {inside:.1%} 在上级范围内"))
    keep = "保留原值" if old is not None else "按默认值"
    row: dict = {"code": code, "level": lv, "parent_code": parent or None,
                 **{k: (v[0].item() if hasattr(v[0], "item") else v[0]) for k, v in geometry_columns([geom]).items()},
                 **{f"l{k}_code": anc[k] for k in range(5)}}
    if name:
        row["name"] = name
    kind = cell("kind")
    if kind:
        mapped = KIND_WORDS.get(kind) or KIND_WORDS.get(kind.lower())
        if mapped in LEVEL_KINDS[lv]:
            row["kind"] = mapped
        else:
            res.warnings.append((i, code, f"类型无法识别或与层级不符：{kind[:30]}（{keep}）"))
    pop = cell("population")
    if pop:
        value = _population(pop)
        if value is None:
            res.warnings.append((i, code, f"人口无法识别：{pop[:30]}（{keep}）"))
        else:
            row["population"] = value
    if old is None:  # a new unit gets every column; an existing one only what the file gives
        row = {"name": code, "kind": KINDS[lv], "population": 0, "households": 0, **row}
    return {"level": lv, "anc": anc, "geom": geom, "new": old is None, "row": row}


def _write(conn: Connection, accepted: dict[str, dict], moved: list[tuple[str, int, list]]) -> None:
    """Insert new units, update existing ones column by column, carry moved subtrees along."""
    upsert(conn, units, [a["row"] for a in accepted.values() if a["new"]], "code")
    groups: dict[tuple[str, ...], list[dict]] = {}
    for a in accepted.values():
        if not a["new"]:
            groups.setdefault(tuple(sorted(a["row"])), []).append(a["row"])
    for keys, rows in groups.items():
        stmt = update(units).where(units.c.code == bindparam("_code")).values(
            {k: bindparam(k) for k in keys if k != "code"})
        conn.execute(stmt, [{**{k: r[k] for k in keys if k != "code"}, "_code": r["code"]} for r in rows])
    slices: set[tuple[str, str]] = set()
    for code, lv, anc in sorted(moved, key=lambda m: m[1]):  # top-down: a moved child sees its parent's new chain
        slices |= _move_subtree(conn, code, lv, anc)
    if slices:
        rollups.refresh(conn, slices)


def _move_subtree(conn: Connection, code: str, lv: int, anc: list) -> set[tuple[str, str]]:
    """Give everything under unit ``code`` (level ``lv``) the ancestors ``anc[:lv]``; returns the
    (district, month) rollup slices its events leave and join."""
    ev = schema.events
    months = conn.execute(select(ev.c.l0_code, month_of(ev.c.reported_at))
                          .where(ev.c[f"l{lv}_code"] == code).distinct()).all()
    values = {f"l{i}_code": anc[i] for i in range(lv)}
    for t in ANCESTOR_TABLES:
        conn.execute(update(t).where(t.c[f"l{lv}_code"] == code).values(**values))
    return {(a, m) for a, m in months} | {(anc[0], m) for _, m in months}
