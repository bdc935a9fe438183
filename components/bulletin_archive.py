"""通报存档: past bulletins the user's scope may see, each downloadable (every download audited)."""

from __future__ import annotations

import streamlit as st

from data_access.accounts import audit
from data_access.errors import DataAccessError
from data_access.queries import bulletins

from .data import db_url, engine

LEVELS = {0: "区", 1: "街道(乡镇)", 2: "村(社区)", 3: "小区", 4: "楼栋"}


def _downloaded(username: str, bulletin_id: int, fmt: str, name: str) -> None:
    audit.record(engine(db_url()), username, "bulletin_download", {"id": bulletin_id, "format": fmt, "file": name})


def bulletin_archive(scope, username: str) -> None:
    """The archive table and, for the chosen bulletin, its PDF and Excel download buttons."""
    eng = engine(db_url())
    df = bulletins.archive(eng, scope)
    st.markdown("### 通报存档")
    if df.empty:
        st.caption("暂无存档通报：每月 1 日定时生成上月通报（python -m reports schedule），"
                   "或运行 python -m reports bulletin。")
        return
    shown = df.assign(
        层级=df["level"].map(LEVELS),
        数据完整性=df["incomplete"].map(lambda v: "不完整：" + v if isinstance(v, str) and v else "完整"),
        生成方式=df["generated_by"].map(lambda v: "定时生成" if v == "schedule" else v))
    st.dataframe(shown[["unit_name", "层级", "period", "generated_at", "生成方式", "数据完整性"]].rename(columns={
        "unit_name": "单位", "period": "时段", "generated_at": "生成时间"}), hide_index=True, key="archive_table")
    labels = {int(r.id): f"{r.period} · {r.unit_name}（{r.generated_at:%Y-%m-%d %H:%M}）" for r in df.itertuples()}
    chosen = st.selectbox("下载存档通报", list(labels), format_func=labels.get, key="archive_pick")
    cols = st.columns([1, 1, 4])
    for col, fmt, label, mime in ((cols[0], "pdf", "下载 PDF", "application/pdf"),
                                  (cols[1], "excel", "下载 Excel",
                                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
        try:
            name, data = bulletins.read_file(eng, scope, chosen, fmt)
        except DataAccessError as exc:
            col.caption(str(exc))
            continue
        col.download_button(label, data, file_name=name, mime=mime, key=f"archive_dl_{fmt}",
                            on_click=_downloaded, args=(username, chosen, fmt, name))
