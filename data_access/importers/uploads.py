"""Uploaded files on disk: one private temporary folder per upload; the client's file name is never a path.

A browser (or anyone replaying its request) chooses the upload's file name freely:
``../../../../tmp/x.geojson`` or an absolute path. Only a sanitised extension survives from it (it
picks the reader); the file itself is always ``<private folder>/upload<ext>``. An
:class:`UploadSlot` holds at most one upload: storing the next one, :meth:`UploadSlot.clear` or the
slot being garbage-collected (its Streamlit session ended) deletes the folder, so reruns and
abandoned sessions leave nothing behind.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import unicodedata
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from data_access.importers.common import ImportFileError

PREFIX = "sanling-upload-"


class UploadRefused(ImportFileError):
    """The upload was not stored (wrong type, too large, empty)."""


def display_name(client_name: str) -> str:
    """The client's file name fit for a message or the audit log: last path part, no control
    characters, at most 100 characters (never used as a path)."""
    base = PureWindowsPath(PurePosixPath(str(client_name)).name).name
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[:100] or "(无名文件)"


def safe_extension(client_name: str, allowed: Iterable[str]) -> str:
    """The lower-case extension of ``client_name`` if it is one of ``allowed`` (e.g. '.geojson'), else
    UploadRefused. Only ASCII letters and digits count; the rest of the name is ignored."""
    allowed = {a.lower() if a.startswith(".") else f".{a.lower()}" for a in allowed}
    m = re.search(r"\.([A-Za-z0-9]{1,10})$", display_name(client_name))
    ext = f".{m.group(1).lower()}" if m else ""
    if ext not in allowed:
        raise UploadRefused(f"不支持的文件类型「{ext or '无扩展名'}」：只接受 {'、'.join(sorted(allowed))}")
    return ext


@dataclass(frozen=True)
class StoredUpload:
    """An upload on disk: ``path`` (``<folder>/upload<ext>``), the client's ``name`` as
    :func:`display_name`, ``size`` in bytes and ``sha256`` (for the audit log)."""

    key: str
    path: Path
    name: str
    size: int
    sha256: str

    def audit_detail(self, kind: str) -> dict:
        return {"kind": kind, "file": self.name, "bytes": self.size, "sha256": self.sha256[:16]}


def _remove(folder: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)


class UploadSlot:
    """At most one stored upload at a time (keep one per uploader in the session state)."""

    def __init__(self, root: str | Path | None = None):
        self._root = str(root) if root is not None else None
        self.current: StoredUpload | None = None
        self._finalizer: weakref.finalize | None = None

    def store(self, key: str, data: bytes | memoryview, client_name: str, allowed: Iterable[str],
              max_bytes: int | None = None) -> tuple[StoredUpload, bool]:
        """Write ``data`` under a fresh private folder unless ``key`` (the uploader's file id) is
        already stored; returns (the upload, whether it is new). The previous upload's folder is
        deleted. Raises UploadRefused (nothing kept) for a wrong type, an empty or too large file."""
        if self.current is not None and self.current.key == key:
            return self.current, False
        self.clear()
        ext = safe_extension(client_name, allowed)
        size = len(data)
        if size == 0:
            raise UploadRefused("文件为空")
        if max_bytes is not None and size > max_bytes:
            raise UploadRefused(f"文件大小 {size / 1048576:.1f} MB 超过上限 {max_bytes / 1048576:g} MB")
        folder = tempfile.mkdtemp(prefix=PREFIX, dir=self._root)  # mode 0700
        self._finalizer = weakref.finalize(self, _remove, folder)
        path = Path(folder) / f"upload{ext}"
        with open(path, "xb") as fh:
            fh.write(data)
        self.current = StoredUpload(key, path, display_name(client_name), size, hashlib.sha256(data).hexdigest())
        return self.current, True

    def clear(self) -> None:
        """Delete the stored upload's folder (and anything written beside it, e.g. a rejects file)."""
        if self._finalizer is not None:
            self._finalizer()
        self._finalizer = None
        self.current = None
