"""数据管理 (admin): import grid boundaries and events from files, with every row accounted for; data health of
the live feeds (push API, pull sources); audit log."""

import json
from pathlib import Path

import streamlit as st

from common.markup import md
from components.auth import require_role, scope
from components.boundary_import import boundary_section
from components.data import db_url, engine, run_as_of
from components.data_health import data_health
from components.uploads import stored_upload
from components.vocab_admin import unmapped_labels
from data_access.accounts.audit import recent
from data_access.errors import DataAccessError
from data_access.importers import import_events
from data_access.importers.events import ALIASES, REQUIRED, count_rows
from data_access.importers.events import preview as preview_events

AUDIT_ACTIONS = {"login_ok": "登录", "login_fail": "登录失败", "logout": "退出", "export": "导出", "import": "导入",
                 "ingest": "接口写入", "api_key": "API密钥", "token": "大屏令牌", "user_change": "用户变更",
                 "label_map": "标签映射", "bulletin": "通报生成", "bulletin_download": "通报下载",
                 "preview": "文件预览", "preview_refused": "预览拒绝", "upload": "上传", "upload_refused": "上传拒绝"}
user = require_role("admin")
st.title("数据管理")
kind = st.radio("导入类型", ["网格边界", "事件"], horizontal=True, key="data_kind")
types = ["csv", "xlsx"]
up = None
if kind == "网格边界":
    boundary_section(user, scope())  # upload, sampled preview, import in a child process
else:
    st.caption(f"支持 CSV（UTF-8 或 GBK/GB18030）、Excel（xlsx）；单个文件不超过 "
               f"{st.get_option('server.maxUploadSize')} MB；第一行为表头（中文或英文字段名），"
               f"必填列：{'、'.join(ALIASES[c][1] for c in REQUIRED)}。")
    up = st.file_uploader("上传文件", type=types, key=f"data_file_{kind}")  # a new uploader per kind
stored = stored_upload(up, "events", types, user)  # <private folder>/upload.csv, never the client's name

if stored is not None:
    tmp = stored.path
    try:
        head, enc = preview_events(str(tmp))
        st.caption(f"检测到编码：{enc}" if enc != "xlsx" else "Excel 工作簿")
        st.dataframe(head, hide_index=True)
    except DataAccessError as exc:
        st.error(f"无法预览该文件：{md(str(exc))}")
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
            except DataAccessError as exc:  # unreadable file, broken vocabulary, database busy or away
                st.error(md(str(exc)))
                st.stop()
        st.cache_data.clear()
        st.success(f"读取 {out['read']} 行：导入 {out['imported']} 行，拒绝 {out['rejected']} 行，"
                   f"警告 {out['warnings']} 条")
        st.code(json.dumps(out, ensure_ascii=False))
        if out["rejects_file"]:
            st.download_button("下载拒绝明细", Path(out["rejects_file"]).read_bytes(), file_name=rejects.name,
                               key="data_rejects")
        if out.get("warnings_file"):
            st.download_button("下载警告明细", Path(out["warnings_file"]).read_bytes(),
                               file_name=Path(out["warnings_file"]).name, key="data_warnings")

unmapped_labels(user["username"])

data_health(run_as_of(), scope())

st.subheader("操作审计")
audit = recent(engine(db_url()), 100)
if audit.empty:
    st.caption("暂无审计记录")
else:
    audit["action"] = audit["action"].map(lambda a: f"{AUDIT_ACTIONS[a]}（{a}）" if a in AUDIT_ACTIONS else a)
    st.dataframe(audit.rename(columns={"at": "时间", "username": "用户", "action": "操作", "detail": "详情"}),
                 hide_index=True)
