"""Imports in a child process, so the server stays responsive and its memory small.

:func:`start_grid_import` copies the file into a private job folder and runs
``python -m data_access import-grids`` there at a lower CPU priority (the database URL passed in the
environment, never on the command line); :meth:`ImportJob.poll` reads the child's progress file and, once it has exited,
its JSON summary (the last line it printed). :meth:`ImportJob.cleanup` deletes the folder, input
copy and rejects file included (read the rejects first with :meth:`ImportJob.rejects_bytes`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from data_access.db.engine import PROJECT_ROOT

log = logging.getLogger(__name__)


@dataclass
class JobStatus:
    """``state``: running | done | failed; ``done``/``total``/``stage`` of the progress;
    ``result`` the summary dict when done; ``error`` a message (Chinese) when failed."""

    state: str
    done: int = 0
    total: int = 0
    stage: str = "启动"
    result: dict | None = None
    error: str | None = None


@dataclass
class ImportJob:
    folder: Path
    proc: subprocess.Popen
    name: str
    _files: list = field(default_factory=list, repr=False)
    _finalizer: weakref.finalize | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # A session that ends while its import runs: let the import finish, then remove its folder.
        self._finalizer = weakref.finalize(self, _reap_later, self.proc, self.folder, list(self._files))

    def poll(self) -> JobStatus:
        """The job's state now (never blocks)."""
        progress = _read_json(self.folder / "progress.json") or {}
        code = self.proc.poll()
        if code is None:
            return JobStatus("running", progress.get("done", 0), progress.get("total", 0),
                             progress.get("stage", "启动"))
        self._close()
        lines = (self.folder / "out.txt").read_text(encoding="utf-8", errors="replace").strip().splitlines()
        summary = _parse(lines[-1]) if lines else None
        if code == 0 and summary is not None:
            return JobStatus("done", summary.get("read", 0), summary.get("read", 0), "完成", result=summary)
        err = (self.folder / "err.txt").read_text(encoding="utf-8", errors="replace")
        if summary is not None and summary.get("error"):
            return JobStatus("failed", error=str(summary["error"]))
        log.error("import job %s exited with %s: %s", self.folder, code, err[-4000:])
        if code == 2 and err.strip():  # a DataAccessError: the CLI printed one clear line
            message = err.strip().splitlines()[-1]
        else:
            message = f"导入进程异常退出（退出码 {code}），数据库未改动"
        return JobStatus("failed", error=message.removeprefix("错误 / error: "))

    def rejects_bytes(self) -> bytes | None:
        path = self.folder / "rejects.csv"
        return path.read_bytes() if path.exists() else None

    def cleanup(self) -> None:
        """Stop the child if it still runs and delete the job folder."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close()
        shutil.rmtree(self.folder, ignore_errors=True)
        if self._finalizer is not None:
            self._finalizer.detach()

    def _close(self) -> None:
        for fh in self._files:
            fh.close()
        self._files.clear()


def _reap_later(proc: subprocess.Popen, folder: Path, files: list) -> None:
    def reap() -> None:
        proc.wait()
        for fh in files:
            fh.close()
        shutil.rmtree(folder, ignore_errors=True)

    threading.Thread(target=reap, daemon=True, name="import-job-reaper").start()


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _parse(line: str) -> dict | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def start_grid_import(db_url: str, source: str | Path, crs: str | None, actor: str,
                      name: str | None = None) -> ImportJob:
    """Start ``import-grids`` on a copy of ``source`` in a child process; returns at once."""
    folder = Path(tempfile.mkdtemp(prefix="sanling-import-"))
    src = Path(source)
    local = folder / f"input{src.suffix.lower()}"
    shutil.copyfile(src, local)
    cmd = [sys.executable, "-m", "data_access", "import-grids", str(local), "--rejects", str(folder / "rejects.csv"),
           "--progress", str(folder / "progress.json"), "--actor", actor]
    if crs:
        cmd += ["--crs", crs]
    env = {**os.environ, "DATABASE_URL": db_url, "PYTHONPATH": str(PROJECT_ROOT), "IMPORT_NICE": "10"}
    out = open(folder / "out.txt", "w", encoding="utf-8")  # noqa: SIM115 - closed by the job
    err = open(folder / "err.txt", "w", encoding="utf-8")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    return ImportJob(folder, proc, name or src.name, [out, err])
