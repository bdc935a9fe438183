"""Tests for the boundary importer's sandbox: files that try to make GDAL read other local files or the
app's database, or fetch URLs, are refused before anything is read — each attack as a real file
against a real local HTTP server that must see no request."""

from __future__ import annotations

import http.server
import io
import json
import sqlite3
import threading
import zipfile

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import make_url

from data_access.importers import import_grids
from data_access.importers.common import ImportFileError
from data_access.importers.grids import read_grid_file

SECRET = "SECRET_TOKEN_4711"


@pytest.fixture
def net():
    """A local HTTP server recording every request: (base URL, list of paths requested)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            body = f"code,name,x,y\nNET,{SECRET},1,2\n".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", hits
    srv.shutdown()


@pytest.fixture
def secret(tmp_path):
    """A local CSV the server can read but no upload may reveal."""
    p = tmp_path / "secret.csv"
    p.write_text(f"code,name,level,x,y\n{SECRET},{SECRET},4,114.6,33.6\n")
    return p


def _vrt(src: str, layer: str | None = None) -> str:
    """An OGR VRT serving ``src`` as boundary rows (a layer name, or SQL starting with SELECT)."""
    lyr = "" if not layer else (f'<SrcSQL dialect="SQLITE">{layer}</SrcSQL>' if layer.startswith("SELECT")
                                else f"<SrcLayer>{layer}</SrcLayer>")
    return (f'<OGRVRTDataSource><OGRVRTLayer name="grid"><SrcDataSource>{src}</SrcDataSource>{lyr}'
            f'<GeometryField encoding="PointFromColumns" x="x" y="y"/></OGRVRTLayer></OGRVRTDataSource>')


USERS_SQL = ("SELECT username AS code, password_hash AS name, 4 AS level, 114.6 AS x, 33.6 AS y FROM users")


def _refused(path, hits, match: str | None = None) -> str:
    """Reading ``path`` raised ImportFileError (with ``match`` in it), fetched nothing and revealed nothing."""
    try:
        got = read_grid_file(str(path))
    except ImportFileError as exc:
        got = exc
    assert hits == [], f"the importer fetched {hits}"
    assert SECRET not in str(got) and "argon2" not in str(got), f"the importer revealed: {str(got)[:300]}"
    assert isinstance(got, ImportFileError), f"not refused, read: {str(got)[:300]}"
    if match:
        assert match in str(got), str(got)
    return str(got)


@pytest.mark.parametrize("name", ["grid.json", "grid.geojson", "grid.gpkg", "grid.kml"])
@pytest.mark.parametrize("target", ["file", "database", "url"])
def test_vrt_in_disguise_is_refused(tmp_path, net, secret, sqlite_tiny, name, target):
    """An OGR VRT saved under a boundary file's extension reads nothing: not a local file, not the
    app's users table, not a URL."""
    base, hits = net
    src = {"file": (str(secret), "secret"), "database": (make_url(sqlite_tiny).database, USERS_SQL),
           "url": (f"/vsicurl/{base}/x.csv", None)}[target]
    path = tmp_path / name
    path.write_text(_vrt(*src))
    _refused(path, hits)


@pytest.mark.parametrize("members", [
    {"grid.vrt": "VRT"},  # a VRT beside nothing
    {"grid.shp": "VRT", "grid.shx": b"", "grid.dbf": b""},  # a VRT named .shp
    {"inner.zip": "ZIP"},  # a nested archive holding the VRT
    {"../../evil.vrt": "VRT"},  # a path leaving the folder
])
def test_zip_with_vrt_nested_archive_or_escaping_path_is_refused(tmp_path, net, secret, members):
    base, hits = net
    vrt = _vrt(str(secret), "secret")
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("grid.vrt", vrt)
    z = tmp_path / "grid.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, {"VRT": vrt, "ZIP": inner.getvalue()}.get(content, content)
                        if isinstance(content, str) else content)
    _refused(z, hits)


def _shapefile_zip(tmp_path, gdf, extra: dict | None = None) -> bytes:
    folder = tmp_path / "shp"
    folder.mkdir(exist_ok=True)
    gdf.to_file(folder / "grid.shp")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
        for name, content in (extra or {}).items():
            zf.writestr(name, content)
    return buf.getvalue()


def _cells() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": ["Z1"], "name": ["楼"], "level": ["4"], "parent_code": ["P"]},
                            geometry=[shapely.box(114.6, 33.6, 114.601, 33.601)], crs="EPSG:4326")


def test_zip_with_a_shapefile_and_a_vrt_beside_it_is_refused(tmp_path, net, secret):
    """A VRT hidden among the parts of a valid Shapefile is not ignored quietly: the zip is refused."""
    base, hits = net
    z = tmp_path / "grid.zip"
    z.write_bytes(_shapefile_zip(tmp_path, _cells(), {"grid.vrt": _vrt(str(secret), "secret")}))
    _refused(z, hits, "不接受")


def test_zip_with_a_symlink_is_refused(tmp_path, net):
    base, hits = net
    z = tmp_path / "grid.zip"
    with zipfile.ZipFile(z, "w") as zf:
        info = zipfile.ZipInfo("grid.shp")
        info.external_attr = (0o120777 << 16)  # a symbolic link to /etc/passwd
        zf.writestr(info, "/etc/passwd")
    _refused(z, hits, "链接")


def test_zip_bomb_is_refused_while_unpacking(tmp_path, net, monkeypatch):
    """Declared sizes are checked first and the bytes actually unpacked are counted."""
    base, hits = net
    monkeypatch.setenv("GRID_IMPORT_MAX_MB", "1")
    z = tmp_path / "grid.zip"
    z.write_bytes(_shapefile_zip(tmp_path, _cells(), {"grid.xml": b"\0" * (3 * 1024 * 1024)}))
    assert z.stat().st_size < 100_000
    _refused(z, hits, "超过上限")


URL_CRS = [
    '"crs": {"type": "link", "properties": {"href": "%s/crs.wkt", "type": "ogcwkt"}}',
    '"crs": {"type": "url", "properties": {"url": "%s/crs.wkt"}}',
    '"CRS": {"type": "LINK", "properties": {"href": "%s/crs.wkt"}}',
    '"\\u0063rs": {"type": "link", "properties": {"href": "%s/crs.wkt"}}',
    '"crs\\u0000x": {"type": "link", "properties": {"href": "%s/crs.wkt"}}',
    "'crs': {'type': 'link', 'properties': {'href': '%s/crs.wkt'}}",
    '"crs": {"TYPE": "link", "type": "name", "properties": {"href": "%s/crs.wkt", "name": "EPSG:4326"}}',
    '"crs" /* c */ : {"type": "link", "properties": {"href": "%s/crs.wkt"}}',
]


def _feature_collection(extra: str = "", geom_extra: str = "") -> str:
    ring = "[[114.6,33.6],[114.601,33.6],[114.601,33.601],[114.6,33.601],[114.6,33.6]]"
    feature = ('{"type": "Feature", "properties": {"code": "Z1", "name": "crs", "level": "4", "parent_code": "P"},'
               f' "geometry": {{"type": "Polygon", {geom_extra}"coordinates": [{ring}]}}}}')
    return f'{{"type": "FeatureCollection", {extra}"features": [{feature}]}}'


@pytest.mark.parametrize("crs", URL_CRS)
def test_geojson_crs_link_is_refused_without_a_request(tmp_path, net, crs):
    """GDAL downloads a GeoJSON crs of type link/url: any crs but a plain name or EPSG code is refused,
    however the key is written (case, escapes, quotes, duplicate keys, comments)."""
    base, hits = net
    path = tmp_path / "grid.geojson"
    path.write_text(_feature_collection((crs % base) + ", "))
    _refused(path, hits, "crs")


def test_geojson_geometry_level_crs_link_is_refused(tmp_path, net):
    base, hits = net
    path = tmp_path / "grid.json"
    path.write_text(_feature_collection(geom_extra=(URL_CRS[0] % base) + ", "))
    _refused(path, hits, "crs")


@pytest.mark.parametrize("crs, epsg", [
    ('"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}', 4490),
    ('"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}', 4326),
    ('"crs": {"type": "EPSG", "properties": {"code": 4490}}', 4490),
    ("", 4326),
])
def test_geojson_plain_crs_is_read(tmp_path, crs, epsg):
    """The crs forms offices' tools write still work (and a property value "crs" is no crs)."""
    path = tmp_path / "grid.geojson"
    path.write_text(_feature_collection(crs + ", " if crs else ""))
    gdf = read_grid_file(str(path))
    assert len(gdf) == 1 and gdf.crs.to_epsg() == 4326 and gdf["name"].iloc[0] == "crs"


def test_kml_with_external_entity_or_entity_bomb_is_refused(tmp_path, net, secret):
    base, hits = net
    xxe = tmp_path / "xxe.kml"
    xxe.write_text(f'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file://{secret}">]>'
                   f'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&x;</name>'
                   f'<Point><coordinates>1,2</coordinates></Point></Placemark></kml>')
    _refused(xxe, hits, "DTD")
    bomb = tmp_path / "bomb.kml"
    ents = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10 if i else "ha"}">' for i in range(9))
    bomb.write_text(f'<?xml version="1.0"?><!DOCTYPE kml [{ents}]><kml><Placemark><name>&e8;</name>'
                    f'</Placemark></kml>')
    _refused(bomb, hits, "DTD")


def test_kml_links_are_not_followed(tmp_path, net):
    """A KML's NetworkLink, icon and external style stay text: the file is read, nothing fetched."""
    base, hits = net
    path = tmp_path / "grid.kml"
    ring = "114.6,33.6 114.601,33.6 114.601,33.601 114.6,33.601 114.6,33.6"
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f'<NetworkLink><Link><href>{base}/more.kml</href></Link></NetworkLink>'
        f'<Placemark><name>楼</name><styleUrl>{base}/style.kml#s</styleUrl>'
        f'<Style><IconStyle><Icon><href>{base}/icon.png</href></Icon></IconStyle></Style>'
        f'<ExtendedData><Data name="code"><value>Z1</value></Data><Data name="level"><value>4</value></Data>'
        f'</ExtendedData><Polygon><outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates></LinearRing>'
        f'</outerBoundaryIs></Polygon></Placemark></Document></kml>')
    gdf = read_grid_file(str(path))
    assert list(gdf["code"]) == ["Z1"]
    assert hits == [], f"the importer fetched {hits}"


def test_gpkg_that_is_something_else_is_refused(tmp_path, net, sqlite_tiny):
    """A plain SQLite database (here: a copy of the app's own, users table included) or text named
    .gpkg is refused before GDAL opens it."""
    base, hits = net
    db = tmp_path / "app.gpkg"
    with sqlite3.connect(make_url(sqlite_tiny).database) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    assert "users" in {r[0] for r in sqlite3.connect(db).execute("select name from sqlite_master")}
    _refused(db, hits, "GeoPackage")
    text = tmp_path / "text.gpkg"
    text.write_text("code,name\nA,B\n")
    _refused(text, hits, "GeoPackage")


def test_gpkg_with_a_view_over_another_file_reads_nothing(tmp_path, net, secret):
    """A real GeoPackage whose layer is a view over a VirtualOGR table (GDAL's way to query any file
    from SQL) does not reveal the file."""
    base, hits = net
    path = tmp_path / "evil.gpkg"
    _cells().to_file(path, driver="GPKG", layer="grid")
    con = sqlite3.connect(path)
    con.execute("PRAGMA writable_schema=ON")
    con.execute("INSERT INTO sqlite_master(type, name, tbl_name, rootpage, sql) VALUES ('table', 'evil', 'evil', 0, ?)",
                (f"CREATE VIRTUAL TABLE evil USING VirtualOGR('{secret}')",))
    con.commit()
    con.close()
    con = sqlite3.connect(path)
    con.execute("CREATE VIEW leak AS SELECT g.fid AS fid, g.geom AS geom, e.code AS code, e.name AS name, "
                "e.level AS level FROM grid g, evil e")
    con.execute("DELETE FROM gpkg_contents")
    con.execute("INSERT INTO gpkg_contents(table_name, data_type, identifier, srs_id) VALUES ('leak', 'features', "
                "'leak', 4326)")
    con.execute("UPDATE gpkg_geometry_columns SET table_name = 'leak'")
    con.commit()
    con.close()
    _refused(path, hits)


def test_import_refuses_like_the_preview(tmp_path, net, secret, sqlite_tiny):
    """The import (CLI and page) goes through the same checks: a disguised VRT writes nothing."""
    from data_access.db.engine import get_engine

    base, hits = net
    path = tmp_path / "grid.geojson"
    path.write_text(_vrt(str(secret), "secret"))
    with pytest.raises(ImportFileError):
        import_grids(get_engine(sqlite_tiny), str(path))
    assert hits == []


def test_only_the_four_drivers_are_left():
    """After the importer opened a file, GDAL in this process has no VRT, SQLite, HTTP … driver left."""
    import pyogrio

    from data_access.importers.grid_files import lock_down_gdal

    lock_down_gdal()
    assert set(pyogrio.list_drivers()) == {"GeoJSON", "ESRI Shapefile", "GPKG", "LIBKML"}
    assert pyogrio.get_gdal_config_option("CPL_VSIL_CURL_ALLOWED_EXTENSIONS") == ".sanling-network-disabled"


@pytest.mark.parametrize("name", ["grid.vrt", "grid.csv", "grid.geojson.vrt", "grid"])
def test_other_extensions_are_refused(tmp_path, name):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(ImportFileError, match="不支持的文件类型"):
        read_grid_file(str(path))
