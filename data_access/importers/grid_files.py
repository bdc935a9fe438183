"""Opening boundary files from outside safely: only the format the extension names, nothing else.

GDAL picks a driver from a file's *content*, and some drivers open other files or URLs: an OGR VRT
saved as ``.json`` reads any local file or database the server can read and fetches URLs; a
GeoJSON ``"crs": {"type": "link"}`` makes GDAL download the link. So a boundary file is opened
only after these checks (each refusal is an :class:`ImportFileError` with a Chinese reason):

* the extension picks the one format: ``.geojson``/``.json`` GeoJSON, ``.zip`` one ESRI Shapefile,
  ``.gpkg`` GeoPackage, ``.kml`` KML; the content must be that format before GDAL sees it (a JSON
  object; the SQLite header with a GeoPackage application id; XML with no DTD or entity, checked with
  ``defusedxml``; a Shapefile header), and after opening GDAL must report that driver;
* GDAL keeps only those four drivers in this process (``GDAL_SKIP``: OGR_VRT, GDALG, SQLite, HTTP,
  WFS, … are unregistered; LIBKML never fetches external styles), its network file systems
  (``/vsicurl/`` …) refuse every name (``CPL_VSIL_CURL_ALLOWED_EXTENSIONS``) and it never lists
  directories on open;
* a GeoJSON ``crs`` anywhere in the file must be a plain name or EPSG code (never a link or URL);
* a zip is unpacked here, not through ``/vsizip/``: only the parts of one Shapefile, no nested
  archive, link or path outside the folder, unpacked size counted while unpacking; the parts are
  written under fixed names, never under names from the archive;
* size and feature count are capped before anything is read (:class:`Limits`), and a preview
  reads a bounded sample.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import re
import shutil
import stat
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from common import settings
from data_access.importers.common import ImportFileError

# LIBKML (not the plain KML driver) because only it reads a placemark's ExtendedData, where the
# code, level and parent of a unit are.
DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".zip": "ESRI Shapefile", ".gpkg": "GPKG", ".kml": "LIBKML"}
EXTENSIONS = tuple(DRIVERS)

# Parts of a Shapefile that may travel in its zip; anything else is refused.
SHAPE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".xml"}
GPKG_APP_IDS = {b"GPKG", b"GP10", b"GP11"}


@dataclass(frozen=True)
class Limits:
    """Caps for one boundary file, from the settings (:mod:`common.settings`; defaults in brackets).

    ``GRID_IMPORT_MAX_MB`` (50): file size in MB, for a zip its unpacked size;
    ``GRID_IMPORT_MAX_FEATURES`` (50000): features in the file (a city has ≈ 22,000 units);
    ``GRID_PREVIEW_FEATURES`` (300): features drawn in the admin preview.
    """

    max_mb: float = settings.setting("GRID_IMPORT_MAX_MB").default
    max_features: int = settings.setting("GRID_IMPORT_MAX_FEATURES").default
    preview_features: int = settings.setting("GRID_PREVIEW_FEATURES").default

    @classmethod
    def from_env(cls) -> Limits:
        try:
            return cls(settings.get("GRID_IMPORT_MAX_MB"), settings.get("GRID_IMPORT_MAX_FEATURES"),
                       settings.get("GRID_PREVIEW_FEATURES"))
        except settings.SettingError as exc:
            raise ImportFileError(str(exc)) from None

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1024 * 1024)


@dataclass(frozen=True)
class FileInfo:
    """What GDAL says about an opened boundary file: driver, first layer, all layers, features, fields."""

    driver: str
    layer: str
    layers: tuple[str, ...]
    features: int
    fields: tuple[str, ...]


# ---------------------------------------------------------------- GDAL in this process

_LOCK = threading.Lock()
_LOCKED_DOWN = False


def lock_down_gdal() -> None:
    """Leave GDAL only the four drivers above and no network file systems (idempotent, process-wide).

    ``GDAL_SKIP`` is applied by ``GDALAllRegister``, which pyogrio runs once at import; calling it
    again (pyogrio's ``_register_drivers``) unregisters the skipped drivers. Raises
    :class:`ImportFileError` if any other vector driver is still there afterwards (fail closed).
    """
    global _LOCKED_DOWN
    with _LOCK:
        if _LOCKED_DOWN:
            return
        import pyogrio
        from pyogrio import _ogr

        keep = set(DRIVERS.values())
        skip = sorted(set(pyogrio.list_drivers()) - keep)
        pyogrio.set_gdal_config_options({
            "GDAL_SKIP": ",".join(skip),  # comma-separated: some names contain spaces
            "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".sanling-network-disabled",
            "CPL_VSIL_CURL_ALLOWED_FILENAME": "/sanling-network-disabled",
            "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
            "GDAL_HTTP_TIMEOUT": "1",
            "GDAL_HTTP_CONNECTTIMEOUT": "1",
            "GDAL_HTTP_MAX_RETRY": "0",
            "CPL_VSIL_CURL_HEADER_FILE_KVP_ENABLED": "NO",
            "LIBKML_EXTERNAL_STYLE": "NO",  # never fetch a styleUrl pointing elsewhere
            "LIBKML_RESOLVE_STYLE": "NO",
        })
        _ogr._register_drivers()
        left = set(pyogrio.list_drivers()) - keep
        if left:
            raise ImportFileError(f"导入沙箱未能启用 / importer sandbox unavailable: drivers {sorted(left)}")
        _LOCKED_DOWN = True


# ---------------------------------------------------------------- opening one file


def driver_for(name: str) -> str:
    """The one driver a file name's extension allows; ImportFileError for any other extension."""
    ext = Path(name).suffix.lower()
    if ext not in DRIVERS:
        raise ImportFileError(f"不支持的文件类型「{ext or '无扩展名'}」：只接受 {', '.join(EXTENSIONS)}")
    return DRIVERS[ext]


@contextlib.contextmanager
def opened(path: str | Path, limits: Limits | None = None) -> Iterator[tuple[Path, FileInfo]]:
    """Check ``path`` and yield (the local file GDAL may open, its :class:`FileInfo`).

    A zip is unpacked into a private temporary folder that is removed on exit. Raises
    :class:`ImportFileError` (nothing read) when the file is missing, too large, not the format its
    extension names, over the feature cap, or unsafe as described in the module docstring.
    """
    limits = limits or Limits.from_env()
    p = Path(path)
    if not p.is_file():
        raise ImportFileError(f"文件不存在 / no such file: {p.name}")
    driver = driver_for(p.name)
    size = p.stat().st_size
    if size > limits.max_bytes:
        raise ImportFileError(_too_large(size, limits))
    lock_down_gdal()
    work = None
    try:
        if driver == "ESRI Shapefile":
            work = Path(tempfile.mkdtemp(prefix="sanling-shp-"))
            local = _unpack_shapefile(p, work, limits)
        else:
            local = p
            _CHECKS[driver](local)
        info = _info(local, driver)
        if info.features > limits.max_features:
            raise ImportFileError(
                f"文件含 {info.features:,} 个要素，超过上限 {limits.max_features:,} 个"
                f"（设置 GRID_IMPORT_MAX_FEATURES）。请按街道分批导入。")
        yield local, info
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


def read(local: Path, info: FileInfo, max_features: int | None = None, columns: list[str] | None = None,
         read_geometry: bool = True):
    """Features of an :func:`opened` file's first layer as a (Geo)DataFrame in the file's CRS."""
    import pyogrio

    try:
        return pyogrio.read_dataframe(local, layer=info.layer, max_features=max_features, columns=columns,
                                      read_geometry=read_geometry)
    except Exception as exc:  # noqa: BLE001 - any reader failure means the file cannot be read
        raise ImportFileError(f"无法读取文件 / cannot read: {_gdal_message(exc)}") from exc


def _info(local: Path, driver: str) -> FileInfo:
    import pyogrio

    try:
        layers = pyogrio.list_layers(local)
        spatial = [str(name) for name, geom in layers if geom is not None] or [str(layers[0][0])]
        info = pyogrio.read_info(local, layer=spatial[0], force_feature_count=True)
    except Exception as exc:  # noqa: BLE001 - GDAL could not open it: not a valid file of that type
        raise ImportFileError(f"无法读取文件 / cannot read: {_gdal_message(exc)}") from exc
    if info["driver"] != driver:  # cannot happen with only four drivers left; checked all the same
        raise ImportFileError(f"文件内容不是 {driver} 格式（实际为 {info['driver']}）")
    return FileInfo(driver=driver, layer=spatial[0], layers=tuple(spatial), features=int(info["features"]),
                    fields=tuple(str(f) for f in info["fields"]))


def _gdal_message(exc: Exception) -> str:
    return str(exc).split("; It might help")[0][:300]


def _too_large(size: int, limits: Limits) -> str:
    return (f"文件大小 {size / 1048576:.1f} MB 超过上限 {limits.max_mb:g} MB（设置 GRID_IMPORT_MAX_MB）。"
            f"请按街道分批导入。")


# ---------------------------------------------------------------- content checks per format

def _head(path: Path, n: int = 4096) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def _check_geojson(path: Path) -> None:
    head = _head(path).removeprefix(b"\xef\xbb\xbf").lstrip()
    if not head.startswith(b"{"):
        raise ImportFileError("文件内容不是 GeoJSON（应以 { 开头的 JSON 对象）")
    _check_geojson_crs(path)


# A string "crs" as GDAL's JSON parser reads it: either quote, any letter case, letters possibly written
# as \u escapes, and a key cut short by an escaped NUL (GDAL compares C strings).
_CRS_KEY = re.compile(rb"""["'](?:c|\\u00[46]3)(?:r|\\u00[57]2)(?:s|\\u00[57]3)(?:\\u0000(?:[^"'\\]|\\.)*)?["']""",
                      re.I)
_SAFE_CRS_NAME = re.compile(r"^[A-Za-z0-9:._ -]{1,100}$")


def _check_geojson_crs(path: Path) -> None:
    """Every ``crs`` member must be ``{"type": "name", "properties": {"name": "EPSG:4490"}}`` or an EPSG code.

    GDAL downloads a crs of type ``link``/``url`` (found anywhere in the file: collection or geometry).
    Only the two plain forms pass, parsed strictly with keys unique regardless of case (GDAL matches
    them case-insensitively); anything unusual after a "crs" key (a comment, another quote style) is
    refused rather than interpreted.
    """
    if path.stat().st_size == 0:
        return
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        for m in _CRS_KEY.finditer(mm):
            after = mm[m.end():m.end() + 4096].decode("utf-8", "replace")
            nxt = after.lstrip()[:1]
            if nxt in (",", "}", "]"):  # a string value "crs", not a member name
                continue
            if not _plain_crs(after):
                raise ImportFileError("GeoJSON 的 crs 只接受坐标系名称或 EPSG 代码（如 EPSG:4490），"
                                      "不接受链接或其他写法；出于安全原因拒绝该文件")


def _plain_crs(text: str) -> bool:
    """Whether ``text`` (what follows a "crs" key) is ``: {"type": "name"|"EPSG", "properties": {…}}``."""
    stripped = text.lstrip()
    if not stripped.startswith(":"):
        return False

    def unique(pairs):
        keys = [k.lower() for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate key")
        return {k.lower(): v for k, v in pairs}

    try:
        value, _ = json.JSONDecoder(object_pairs_hook=unique).raw_decode(stripped[1:].lstrip())
    except ValueError:
        return False
    if not isinstance(value, dict) or set(value) != {"type", "properties"} or not isinstance(value["properties"], dict):
        return False
    kind, props = str(value["type"]).lower(), value["properties"]
    if kind == "name":
        return set(props) == {"name"} and isinstance(props["name"], str) and bool(_SAFE_CRS_NAME.match(props["name"]))
    if kind == "epsg":
        return set(props) == {"code"} and isinstance(props["code"], int) and not isinstance(props["code"], bool)
    return False


def _check_gpkg(path: Path) -> None:
    head = _head(path, 100)
    if not head.startswith(b"SQLite format 3\x00") or head[68:72] not in GPKG_APP_IDS:
        raise ImportFileError("文件内容不是 GeoPackage（缺少 GeoPackage 文件头）")


def _check_kml(path: Path) -> None:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    try:
        for event, elem in iterparse(str(path), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                if elem.tag.rsplit("}", 1)[-1] != "kml":
                    raise ImportFileError("文件内容不是 KML（根元素应为 <kml>）")
                break
        for _event, elem in iterparse(str(path), forbid_dtd=True):
            elem.clear()
    except DefusedXmlException:
        raise ImportFileError("KML 含有 DTD 或实体声明，出于安全原因拒绝") from None
    except ParseError as exc:
        raise ImportFileError(f"KML 不是有效的 XML：{exc}") from None


_CHECKS = {"GeoJSON": _check_geojson, "GPKG": _check_gpkg, "LIBKML": _check_kml}


def _unpack_shapefile(zip_path: Path, dest: Path, limits: Limits) -> Path:
    """Unpack the one Shapefile in ``zip_path`` into ``dest`` as ``grid.*``; returns the .shp path."""
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileError(f"不是有效的 zip 压缩包：{exc}") from None
    with zf:
        members = [i for i in zf.infolist() if not i.is_dir()]
        parts: dict[str, zipfile.ZipInfo] = {}
        for info in members:
            name = info.filename
            pure = PurePosixPath(name.replace("\\", "/"))
            if name.startswith(("/", "\\")) or PureWindowsPath(name).drive or ".." in pure.parts:
                raise ImportFileError(f"压缩包中的路径不安全：{name}")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ImportFileError(f"压缩包中含有链接：{name}")
            if info.flag_bits & 0x1:
                raise ImportFileError("压缩包已加密，无法导入")
            ext = pure.suffix.lower()
            if ext not in SHAPE_PARTS:
                raise ImportFileError(f"压缩包中只能有一个 Shapefile（.shp .shx .dbf .prj .cpg），"
                                      f"不接受「{pure.name}」（嵌套压缩包、VRT 等一律拒绝）")
            if ext in parts and parts[ext].filename.lower() != name.lower():
                raise ImportFileError("压缩包中有多个 Shapefile，请每次导入一个")
            parts[ext] = info
        for need in (".shp", ".shx", ".dbf"):
            if need not in parts:
                raise ImportFileError(f"压缩包中缺少 Shapefile 的 {need} 文件")
        stems = {PurePosixPath(i.filename.replace("\\", "/")).stem.lower() for i in parts.values()}
        if len(stems) != 1:
            raise ImportFileError("压缩包中各文件名不一致，请每次导入一个 Shapefile")
        if sum(i.file_size for i in parts.values()) > limits.max_bytes:
            raise ImportFileError(_too_large(sum(i.file_size for i in parts.values()), limits))
        budget = limits.max_bytes
        for ext, info in parts.items():
            with zf.open(info) as src, open(dest / f"grid{ext}", "wb") as out:
                while chunk := src.read(1 << 20):
                    budget -= len(chunk)
                    if budget < 0:  # the declared sizes lied (a zip bomb)
                        raise ImportFileError(_too_large(limits.max_bytes + 1, limits))
                    out.write(chunk)
    shp = dest / "grid.shp"
    if _head(shp, 4) != b"\x00\x00\x27\x0a":
        raise ImportFileError("压缩包中的 .shp 不是 Shapefile 文件")
    return shp
