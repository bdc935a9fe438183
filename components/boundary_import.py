"""数据管理 · 网格边界: upload a boundary file, preview a bounded sample over the existing grid, import it
in a child process with progress (the page stays usable), and show the result when done."""

from __future__ import annotations

import io
import json
import math

import pandas as pd
import streamlit as st

from common.markup import md
from data_access.accounts.audit import record
from data_access.filters import Scope
from data_access.importers.common import ImportFileError
from data_access.importers.grid_files import EXTENSIONS, Limits
from data_access.importers.grids import GridPreview, preview_grid_file
from data_access.importers.jobs import ImportJob, start_grid_import

from .data import db_url, engine
from .import_preview import boundary_overlay
from .uploads import stored_upload

CRS_CHOICES = ["文件自带", "wgs84", "cgcs2000", "gcj02"]
POLL_S = 1.0


def boundary_section(user: dict, scope: Scope) -> None:
    """The whole boundary import flow for the admin ``user``."""
    try:
        limits = Limits.from_env()
    except ImportFileError as exc:
        st.error(f"导入设置有误：{md(exc)}")
        return
    st.caption(f"支持 GeoJSON、zip 压缩的 Shapefile、GeoPackage、KML；单个文件不超过 {limits.max_mb:g} MB、"
               f"{limits.max_features:,} 个要素，预览显示前 {limits.preview_features:,} 个。")
    up = st.file_uploader("上传文件", type=[e.lstrip(".") for e in EXTENSIONS], key="data_file_网格边界",
                          max_upload_size=max(1, math.ceil(limits.max_mb)))  # the widget states the same limit
    crs = st.selectbox("坐标系", CRS_CHOICES, key="data_crs")
    _job_panel()
    stored = stored_upload(up, "grids", list(EXTENSIONS), user, limits.max_bytes)
    if stored is None:
        return
    preview = _preview(stored, crs, user, limits)
    if preview is None:
        return
    st.caption(f"{preview.features:,} 个要素 · 列：{md(', '.join(preview.columns))}"
               + (f" · 共 {len(preview.layers)} 个图层，只导入第一个「{md(preview.layers[0])}」"
                  if len(preview.layers) > 1 else ""))
    st.dataframe(preview.table, hide_index=True)
    boundary_overlay(preview.sample, scope, total=preview.features)
    if preview.existing:
        st.caption(f"其中 {preview.existing:,} 个编码已存在，导入后将更新其边界，以及文件中给出的名称、类型、人口和上级"
                   f"（上级变更时其下级和所有业务数据随之迁移）。")
    running = "grid_job" in st.session_state
    if st.button("开始导入", type="primary", key="data_go", disabled=running):
        st.session_state["grid_job"] = start_grid_import(db_url(), stored.path, None if crs == CRS_CHOICES[0] else crs,
                                                         user["username"], stored.name)
        st.session_state.pop("grid_result", None)
        st.rerun()


def _preview(stored, crs: str, user: dict, limits: Limits) -> GridPreview | None:
    """The file's preview, computed and audited once per (file, CRS); a refusal is shown and audited."""
    key = (stored.key, crs)
    cached = st.session_state.get("grid_preview")
    if cached is None or cached[0] != key:
        try:
            with st.spinner("正在检查文件…"):
                preview = preview_grid_file(engine(db_url()), str(stored.path), None if crs == CRS_CHOICES[0] else crs,
                                            limits)
            record(engine(db_url()), user["username"], "preview",
                   {**stored.audit_detail("grids"), "features": preview.features, "existing": preview.existing})
            cached = (key, preview)
        except ImportFileError as exc:
            record(engine(db_url()), user["username"], "preview_refused", {**stored.audit_detail("grids"),
                                                                             "reason": str(exc)})
            cached = (key, str(exc))
        st.session_state["grid_preview"] = cached
    if isinstance(cached[1], str):
        st.error(f"无法预览该文件：{md(cached[1])}")
        return None
    return cached[1]


def _job_panel() -> None:
    """Progress of the running import (refreshed in place) or the result of the last one."""
    job: ImportJob | None = st.session_state.get("grid_job")
    if job is not None:
        status = job.poll()
        if status.state == "running":
            _progress(job)
            return
        st.session_state["grid_result"] = (job.name, status, job.rejects_bytes())
        job.cleanup()
        del st.session_state["grid_job"]
        st.cache_data.clear()  # units changed: every cached map and figure
    result = st.session_state.get("grid_result")
    if result is None:
        return
    name, status, rejects = result
    if status.state == "failed":
        st.error(f"导入失败（{md(name)}）：{md(status.error)}")
        return
    out = status.result
    moved = f"，{out['moved']} 个单位的上级已变更（下级与业务数据已随之迁移）" if out.get("moved") else ""
    st.success(f"{md(name)}：读取 {out['read']} 行：导入 {out['imported']} 行，拒绝 {out['rejected']} 行，"
               f"警告 {out['warnings']} 条{moved}")
    st.code(json.dumps({k: v for k, v in out.items() if k != "rejects_file"}, ensure_ascii=False))
    if rejects:
        st.download_button("下载拒绝/警告明细", rejects, file_name="rejects.csv", key="data_grid_rejects")
        st.dataframe(pd.read_csv(io.BytesIO(rejects), encoding="utf-8-sig", dtype=str).head(20),
                     hide_index=True)


@st.fragment(run_every=POLL_S)
def _progress(job: ImportJob) -> None:
    status = job.poll()
    if status.state != "running":
        st.rerun()  # the whole page: result, refreshed caches
    frac = status.done / status.total if status.total else 0.0
    text = f"正在导入 {md(job.name)}：{status.stage}"
    if status.total:
        text += f" {status.done:,} / {status.total:,}"
    st.progress(min(frac, 1.0), text=text)
