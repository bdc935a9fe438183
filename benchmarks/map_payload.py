"""Map payload per drill-down step: bytes of the simplified GeoJSON sent for each unit's children,
and the server time to build it (cold, from the database), for every unit of levels 0–3."""

from __future__ import annotations

import json
import time

from sqlalchemy import select


def run(url: str, log=print) -> dict:
    from components.grid_map import map_features
    from data_access.db.engine import get_engine
    from data_access.db.schema import units
    from data_access.filters import Scope
    from data_access.queries.units import geometries

    build = map_features.__wrapped__  # the uncached function
    eng = get_engine(url)
    with eng.connect() as conn:
        codes = conn.execute(select(units.c.code, units.c.level).where(units.c.level <= 3)
                             .order_by(units.c.level, units.c.code)).all()
    per_level: dict[int, list[tuple[int, float]]] = {}
    for code, level in codes:
        t = time.perf_counter()
        feats = build(url, (None, 0), code)
        ms = (time.perf_counter() - t) * 1000
        size = len(json.dumps(feats, ensure_ascii=False, separators=(",", ":")).encode())
        per_level.setdefault(level, []).append((size, ms))
    out = {}
    for level, xs in sorted(per_level.items()):
        sizes = [s for s, _ in xs]
        times = sorted(m for _, m in xs)
        out[f"payload_bytes_level{level}_max"] = max(sizes)
        out[f"payload_bytes_level{level}_mean"] = round(sum(sizes) / len(sizes))
        out[f"payload_build_ms_level{level}_p50"] = round(times[len(times) // 2], 1)
        mean, p50 = out[f"payload_bytes_level{level}_mean"], out[f"payload_build_ms_level{level}_p50"]
        log(f"  step into level {level + 1}: {len(xs)} units, max {max(sizes):,} B, mean {mean:,} B, "
            f"build p50 {p50} ms")
    out["payload_bytes_max_step"] = max(v for k, v in out.items() if k.endswith("_max"))
    t = time.perf_counter()
    all_buildings = geometries(eng, Scope.all(), level=4)
    out["building_layer_bytes_whole"] = len(all_buildings.to_json().encode())
    out["building_layer_load_ms"] = round((time.perf_counter() - t) * 1000, 0)
    log(f"  whole building layer (not sent; on demand only): {out['building_layer_bytes_whole']:,} B")
    return out
