"""``import-grids``: grid boundaries from GeoJSON, zipped Shapefile, GeoPackage or KML, stored as WGS84."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely
from sqlalchemy import Engine, select

from data_access.accounts.audit import record
from data_access.db.schema import units
from data_access.importers.common import ImportFileError, Result, pick_columns, upsert, write_rejects
from geo import gcj02_to_wgs84, transform_geometry

ALIASES = {"code": ["code", "编码"], "name": ["name", "名称"], "level": ["level", "层级"],
           "parent_code": ["parent_code", "parent_cod", "上级编码"], "kind": ["kind", "类型"],
           "population": ["population", "人口"]}
LEVEL_WORDS = {"区": 0, "街道": 1, "乡镇": 1, "乡": 1, "镇": 1, "社区": 2, "村": 2, "小区": 3, "自然村": 3,
               "楼栋": 4, "小组": 4}
KINDS = {0: "district", 1: "subdistrict", 2: "community", 3: "compound", 4: "building"}
CRS_FLAGS = {"wgs84": "EPSG:4326", "cgcs2000": "EPSG:4490"}


def read_grid_file(path: str, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read a boundary file into a GeoDataFrame in EPSG:4326 (CRS from the file, or ``crs``; gcj02 shifted)."""
    p = Path(path)
    if not p.exists():
        raise ImportFileError(f"文件不存在 / no such file: {path}")
    source = f"zip://{p}" if p.suffix.lower() == ".zip" else str(p)
    try:
        gdf = gpd.read_file(source)
    except Exception as exc:  # noqa: BLE001 - any reader failure means the file cannot be read
        raise ImportFileError(f"无法读取文件 / cannot read {p.name}: {exc}") from exc
    flag = (crs or "").lower()
    if flag == "gcj02":
        gdf = gdf.set_crs("EPSG:4326", allow_override=True)
        gdf["geometry"] = [None if g is None else transform_geometry(g, gcj02_to_wgs84) for g in gdf.geometry]
        return gdf
    if flag:
        gdf = gdf.set_crs(CRS_FLAGS.get(flag, crs), allow_override=True)
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    return gdf.to_crs("EPSG:4326") if gdf.crs.to_epsg() != 4326 else gdf


def preview_frame(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The features of a boundary file as they would be imported: columns code, name, level (int or
    None for an unreadable level), geometry (EPSG:4326); raises ImportFileError on missing columns."""
    cols = pick_columns(gdf.columns, ALIASES, ["code", "name", "level"])
    out = gpd.GeoDataFrame({"code": gdf[cols["code"]].astype(str).str.strip(),
                            "name": gdf[cols["name"]].astype(str).str.strip(),
                            "level": [_level(v) for v in gdf[cols["level"]]]},
                           geometry=gdf.geometry.values, crs="EPSG:4326")
    return out[out.geometry.notna() & ~out.geometry.is_empty]


def _level(v) -> int | None:
    s = str(v).strip()
    if s in LEVEL_WORDS:
        return LEVEL_WORDS[s]
    try:
        return int(float(s))
    except ValueError:
        return None


def import_grids(engine: Engine, path: str, crs: str | None = None, rejects: str | None = None,
                 actor: str | None = None) -> dict:
    """Validate and upsert every feature of ``path`` into ``units``; returns the summary dict
    {"read", "imported", "rejected", "warnings", "rejects_file"} (read = imported + rejected)."""
    from data_access.demo.grid import geometry_columns

    gdf = read_grid_file(path, crs)
    cols = pick_columns(gdf.columns, ALIASES, ["code", "name", "level"])
    res = Result(read=len(gdf))
    with engine.connect() as conn:
        known = {r.code: r for r in conn.execute(select(units.c.code, units.c.level, units.c.geom_wkb,
                                                        *[units.c[f"l{i}_code"] for i in range(5)]))}
    rows = []
    for i, rec in enumerate(gdf.to_dict("records"), start=2):  # row 1 is the header in a table view
        code = str(rec.get(cols["code"]) or "").strip()
        lv = _level(rec.get(cols["level"]))
        parent = str(rec.get(cols.get("parent_code", ""), "") or "").strip() if "parent_code" in cols else ""
        rows.append((i, code, lv, parent, rec))
    accepted: dict[str, dict] = {}
    seen: set[str] = set()
    for i, code, lv, parent, rec in sorted(rows, key=lambda r: (r[2] if r[2] is not None else 99, r[0])):
        geom = rec.get("geometry")
        if not code:
            res.reject(i, code, "编码为空")
            continue
        if code in seen:
            res.reject(i, code, "编码重复")
            continue
        seen.add(code)
        if lv is None or not 0 <= lv <= 4:
            res.reject(i, code, f"层级超出范围(0–4)：{rec.get(cols['level'])}")
            continue
        anc: list = [None] * 5
        pgeom = None
        if lv > 0:
            par = accepted.get(parent) or known.get(parent)
            if not parent or par is None:
                res.reject(i, code, f"上级编码不存在：{parent or '(空)'}")
                continue
            plevel = par["level"] if isinstance(par, dict) else par.level
            if plevel != lv - 1:
                res.reject(i, code, f"层级与上级不符：上级为第{plevel}级，本单位应为第{plevel + 1}级")
                continue
            anc = list(par["anc"]) if isinstance(par, dict) else [getattr(par, f"l{k}_code") for k in range(5)]
            pgeom = par["geom"] if isinstance(par, dict) else (shapely.from_wkb(par.geom_wkb) if par.geom_wkb else None)
        anc[lv] = code
        if geom is None or geom.is_empty:
            res.reject(i, code, "几何为空")
            continue
        if not geom.is_valid:
            fixed = shapely.make_valid(geom)
            polys = [g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type in ("Polygon", "MultiPolygon")]
            if not polys:
                res.reject(i, code, "几何无效且无法修复为面")
                continue
            geom = shapely.union_all(polys)
            res.warnings.append((i, code, "几何无效，已自动修复(make_valid)"))
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            res.reject(i, code, f"几何类型应为面，实为 {geom.geom_type}")
            continue
        if pgeom is not None and not pgeom.is_empty:
            inside = geom.intersection(pgeom).area / geom.area if geom.area else 0
            if inside < 0.99:
                res.warnings.append((i, code, f"超出上级边界：仅 {inside:.1%} 在上级范围内"))
        accepted[code] = {"level": lv, "anc": anc, "geom": geom}
        g = geometry_columns([geom])
        pop = rec.get(cols["population"]) if "population" in cols else None
        accepted[code]["row"] = {
            "code": code, "name": str(rec.get(cols["name"]) or code).strip(), "level": lv,
            "parent_code": parent or None, "kind": str(rec.get(cols["kind"]) or KINDS[lv]) if "kind" in cols
            else KINDS[lv], "population": int(float(pop)) if pop not in (None, "") else 0, "households": 0,
            **{k: (v[0].item() if hasattr(v[0], "item") else v[0]) for k, v in g.items()},
            **{f"l{k}_code": anc[k] for k in range(5)}}
    with engine.begin() as conn:  # one transaction: all or nothing
        upsert(conn, units, [a["row"] for a in accepted.values()], "code")
        res.imported = len(accepted)
        record(conn, actor, "import", {"kind": "grids", "file": Path(path).name, "read": res.read,
                                       "imported": res.imported, "rejected": len(res.rejects)})
    return res.summary(write_rejects(res, rejects, path))
