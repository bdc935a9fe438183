"""数据管理 (admin): import grid boundaries and events from files, with every row accounted for; audit log."""

import json
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from components.auth import require_role, scope
from components.data import db_url, engine
from components.import_preview import boundary_overlay
from components.vocab_admin import unmapped_labels
from data_access.accounts.audit import recent
from data_access.importers import import_events, import_grids
from data_access.importers.common import ImportFileError
from data_access.importers.events import count_rows, detect_encoding
from data_access.importers.grids import preview_frame

user = require_role("admin")
st.title("数据管理")
kind = st.radio("导入类型", ["网格边界", "事件"], horizontal=True, key="data_kind")
types = ["geojson", "json", "zip", "gpkg", "kml"] if kind == "网格边界" else ["csv", "xlsx"]
up = st.file_uploader("上传文件", type=types, key=f"data_file_{kind}")  # a new uploader per kind
crs = st.selectbox("坐标系", ["文件自带", "wgs84", "cgcs2000", "gcj02"], key="data_crs") if kind == "网格边界" else None

if up is not None:
    tmp = Path(tempfile.mkdtemp()) / up.name
    tmp.write_bytes(up.getbuffer())
    try:
        if kind == "事件" and tmp.suffix.lower() == ".csv":
            enc = detect_encoding(tmp)
            st.caption(f"检测到编码：{enc}")
            st.dataframe(pd.read_csv(tmp, encoding=enc, dtype=str, nrows=10), hide_index=True)
        elif kind == "事件":
            st.dataframe(pd.read_excel(tmp, nrows=10, dtype=str), hide_index=True)
        else:
            from data_access.importers.grids import read_grid_file

            gdf = read_grid_file(str(tmp), None if crs == "文件自带" else crs)
            st.caption(f"{len(gdf)} 个要素 · 列：{', '.join(map(str, gdf.columns))}")
            st.dataframe(pd.DataFrame(gdf.drop(columns="geometry").head(10)), hide_index=True)
            counts = boundary_overlay(preview_frame(gdf), scope())
            if counts["replaced"]:
                st.caption(f"其中 {counts['replaced']} 个编码已存在，导入后将更新其边界与属性。")
    except (ImportFileError, Exception) as exc:  # noqa: BLE001 - show any reader error clearly
        st.error(f"无法预览该文件：{exc}")
    if st.button("开始导入", type="primary", key="data_go"):
        rejects = tmp.with_suffix(".rejects.csv")
        with st.spinner("正在导入…"):
            try:
                if kind == "网格边界":
                    out = import_grids(engine(db_url()), str(tmp), None if crs == "文件自带" else crs, str(rejects),
                                       user["username"])
                else:
                    total = count_rows(str(tmp))
                    bar = st.progress(0.0, text=f"共约 {total:,} 行")

                    def advance(read: int) -> None:
                        bar.progress(min(read / total, 1.0) if total else 0.0, text=f"已读取 {read:,} / {total:,} 行")

                    out = import_events(engine(db_url()), str(tmp), rejects=str(rejects), actor=user["username"],
                                        progress=advance)
                    bar.progress(1.0, text=f"已读取 {out['read']:,} 行")
            except ImportFileError as exc:
                st.error(str(exc))
                st.stop()
        st.cache_data.clear()
        st.success(f"读取 {out['read']} 行：导入 {out['imported']} 行，拒绝 {out['rejected']} 行，"
                   f"警告 {out['warnings']} 条")
        st.code(json.dumps(out, ensure_ascii=False))
        if out["rejects_file"]:
            st.download_button("下载拒绝/警告明细", Path(out["rejects_file"]).read_bytes(), file_name=rejects.name,
                               key="data_rejects")

unmapped_labels(user["username"])

st.subheader("操作审计")
st.dataframe(recent(engine(db_url()), 100).rename(columns={"at": "时间", "username": "用户", "action": "操作",
                                                          "detail": "详情"}), hide_index=True)
