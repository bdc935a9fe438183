"""数据管理 (admin): import grid boundaries and events from files, with every row accounted for; audit log."""

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from components.auth import require_role, scope
from components.boundary_import import boundary_section
from components.data import db_url, engine
from components.uploads import stored_upload
from data_access.accounts.audit import recent
from data_access.importers import import_events
from data_access.importers.common import ImportFileError
from data_access.importers.events import count_rows, detect_encoding

user = require_role("admin")
st.title("数据管理")
kind = st.radio("导入类型", ["网格边界", "事件"], horizontal=True, key="data_kind")
types = ["csv", "xlsx"]
up = None
if kind == "网格边界":
    boundary_section(user, scope())  # upload, sampled preview, import in a child process
else:
    up = st.file_uploader("上传文件", type=types, key=f"data_file_{kind}")  # a new uploader per kind
stored = stored_upload(up, "events", types, user)  # <private folder>/upload.csv, never the client's name

if stored is not None:
    tmp = stored.path
    try:
        if tmp.suffix.lower() == ".csv":
            enc = detect_encoding(tmp)
            st.caption(f"检测到编码：{enc}")
            st.dataframe(pd.read_csv(tmp, encoding=enc, dtype=str, nrows=10), hide_index=True)
        else:
            st.dataframe(pd.read_excel(tmp, nrows=10, dtype=str), hide_index=True)
    except Exception as exc:  # noqa: BLE001 - show any reader error clearly
        st.error(f"无法预览该文件：{exc}")
    if st.button("开始导入", type="primary", key="data_go"):
        rejects = tmp.with_suffix(".rejects.csv")
        with st.spinner("正在导入…"):
            try:
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

st.subheader("操作审计")
st.dataframe(recent(engine(db_url()), 100).rename(columns={"at": "时间", "username": "用户", "action": "操作",
                                                          "detail": "详情"}), hide_index=True)
