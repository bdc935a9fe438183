"""Peak memory of the admin's boundary-file preview (数据管理 page), measured in a child process.

```bash
python -m benchmarks.grid_preview FILE.zip [FILE2.zip ...] [--root OTHER_CHECKOUT] [--generate N,V]
```

Each file is uploaded into the 数据管理 page under Streamlit's AppTest (the page runs in the
child process exactly as in the server: reading, preview table, map payload) and the child's peak
RSS (``ru_maxrss``) is reported next to its RSS after the same page ran without a file, so the
figure is what one preview adds to a server process. ``--root`` measures another checkout (e.g.
``git archive main | tar -x -C /tmp/old``) with the same files and database. ``--generate N,V``
writes a zipped Shapefile of N random level-4 cells with V vertices each first. Last stdout line:
JSON ``[{"file", "mb", "features", "baseline_mb", "peak_mb", "added_mb", "seconds", "shown"}]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from streamlit.testing.v1 import AppTest
import os
os.chdir(sys.argv[1])
url, path = sys.argv[2], Path(sys.argv[3])
from serve import navigation_only
navigation_only()
from data_access.accounts import get_user, public_user, scope_for
from data_access.db.engine import get_engine
user = public_user(get_user(get_engine(url), "admin"))
state = {"user": user, "scope": scope_for(get_engine(url), user["role"], user["unit_code"])}
at = AppTest.from_file(str(Path(sys.argv[1]) / "app.py"), default_timeout=600)
for k, v in state.items():
    at.session_state[k] = v
at.switch_page("pages/data.py")
at.run()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
at.file_uploader[0].set_value((path.name, path.read_bytes(), "application/octet-stream"))
at.run()
secs = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
shown = [c.value for c in at.caption][:2] + [e.value for e in at.error][:1]
print(json.dumps({"baseline_mb": round(base), "peak_mb": round(peak), "added_mb": round(peak - base),
                  "seconds": round(secs, 1), "shown": shown}, ensure_ascii=False))
"""


def generate(n: int, verts: int, out: Path, db: str) -> Path:
    """A zipped Shapefile of ``n`` level-4 cells (``verts`` random vertices each) under the db's compounds."""
    import geopandas as gpd
    import numpy as np
    import shapely

    rng = np.random.default_rng(1)
    with sqlite3.connect(db) as c:
        comps = c.execute("select code, center_lon, center_lat from units where level = 3 order by code").fetchall()
    polys, codes, parents = [], [], []
    for i in range(n):
        pc, x, y = comps[i % len(comps)]
        ang = np.sort(rng.uniform(0, 2 * np.pi, verts))
        r = 0.0004 * (1 + 0.2 * rng.random(verts))
        dx, dy = 0.002 * rng.random(), 0.002 * rng.random()
        polys.append(shapely.Polygon(np.c_[x + dx + r * np.cos(ang), y + dy + r * np.sin(ang)]))
        codes.append(f"{pc}{i:05d}")
        parents.append(pc)
    gdf = gpd.GeoDataFrame({"code": codes, "name": [f"楼{i}" for i in range(n)], "level": [4] * n,
                            "parent": parents}, geometry=polys, crs="EPSG:4326")
    with tempfile.TemporaryDirectory() as d:
        gdf.to_file(Path(d) / "grid.shp", encoding="utf-8")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for f in Path(d).iterdir():
                z.write(f, f.name)
    return out


def measure(root: Path, url: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(root), url, str(path)], capture_output=True, text=True,
                         cwd=root, env={**os.environ, "DATABASE_URL": url})
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--root", type=Path, default=ROOT, help="checkout whose page is measured")
    ap.add_argument("--generate", action="append", default=[], help="N,V: generate a zipped Shapefile first")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from benchmarks.common import BENCH_UNTIL
    from data_access.demo import build_demo

    work = Path(tempfile.mkdtemp(prefix="bench-grid-preview-"))
    try:
        db = work / "tiny.db"
        build_demo(f"sqlite:///{db}", scale="tiny", seed=7, until=BENCH_UNTIL, log=lambda m: None)
        files = list(args.files)
        for spec in args.generate:
            n, v = (int(x) for x in spec.split(","))
            files.append(generate(n, v, work / f"cells_{n}x{v}.zip", str(db)))
        report = []
        for f in files:
            copy = work / "run.db"
            copy.unlink(missing_ok=True)
            with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
                src.backup(dst)  # each run starts from the same database (a file copy misses the -wal)
            r = measure(args.root.resolve(), f"sqlite:///{copy}", f)
            r = {"file": f.name, "mb": round(f.stat().st_size / 1e6, 1), **r}
            print(r, file=sys.stderr)
            report.append(r)
        print(json.dumps(report, ensure_ascii=False))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
