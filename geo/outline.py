"""The checked-in district outline (see data/SOURCE.md)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from shapely.geometry import shape

DATA = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def load_district_outline():
    """The 川汇区 outline as a shapely Polygon in WGS84 (≈ 333 km², 254 vertices)."""
    feature = json.loads((DATA / "chuanhui_411602.geojson").read_text(encoding="utf-8"))
    return shape(feature["geometry"])
