"""未识别标签 (admin): labels imported events carried that the vocabulary did not know — list, map."""

from __future__ import annotations

import streamlit as st

from common.markup import md
from components.data import db_url, engine
from components.tables import table
from data_access.errors import DataAccessError
from data_access.importers.labels import label_overview, map_label
from data_access.vocab import FIELDS, vocabulary_path

_MSG = "vocab_message"
_SEP = "\x1f"  # field and label in one option value
_GEN = "vocab_generation"  # part of the widget keys, so that a mapped label's choices are not kept


def _map(pairs: list[tuple[str, str, str]], actor: str) -> None:
    """Button callback (runs before the page reruns, so the list below is already current)."""
    try:
        n = sum(map_label(engine(db_url()), f, label, code, actor=actor) for f, label, code in pairs)
    except DataAccessError as exc:
        st.session_state[_MSG] = ("error", md(exc))
        return
    st.session_state[_GEN] = st.session_state.get(_GEN, 0) + 1  # new widgets: the next label, its own default
    st.cache_data.clear()  # every figure that counted these events under 其他
    what = "、".join(f"“{md(label)}”→{FIELDS[f][code]}" for f, label, code in pairs[:5])  # labels are data
    st.session_state[_MSG] = ("success", f"已写入词表：{what}{' 等' if len(pairs) > 5 else ''}；重新归类 {n} 件事件。")


def _map_selected(actor: str) -> None:
    """The 保存映射 callback: reads the widgets' current values (not those of the previous run)."""
    gen = st.session_state.get(_GEN, 0)
    field, label = st.session_state[f"vocab_label_{gen}"].split(_SEP, 1)
    code = st.session_state.get(f"vocab_code_{field}_{gen}")
    if code:
        _map([(field, label, code)], actor)


def unmapped_labels(actor: str) -> None:
    """The 未识别标签 section of 数据管理: counts per label, a mapping form, pending vocabulary edits."""
    st.subheader("未识别标签")
    kind, text = st.session_state.pop(_MSG, (None, None))
    if kind:
        (st.success if kind == "success" else st.error)(text)
    try:
        df = label_overview(engine(db_url()))
    except DataAccessError as exc:  # e.g. a hand edit broke the vocabulary file: say so, keep the page
        st.error(md(exc))
        return
    todo = df[df["vocab_code"].isna()].reset_index(drop=True)
    pending = df[df["pending"]]
    if todo.empty and pending.empty:
        st.caption("已导入的事件中没有词表未收录的类别、来源、吹哨级别或状态。")
        return
    if not todo.empty:
        st.caption(f"{len(todo)} 个标签不在词表（{md(vocabulary_path().name)}）中：这些事件已导入，暂计入默认项"
                   "（类别、来源计入“其他”，吹哨级别计为常规哨，状态按办结时间）。映射后写入词表，并重新归类已导入的事件。")
        table(todo[["field_label", "label", "events", "code_label"]].rename(columns={
            "field_label": "字段", "label": "原始标签", "events": "事件数", "code_label": "当前计入"}),
            "未识别标签", "vocab_todo")
        a, b, c = st.columns([3, 2, 1], vertical_alignment="bottom")
        # options are the labels themselves: once one is mapped it is no longer offered
        shown = {f"{r.field}{_SEP}{r.label}": (f"{r.field_label} · {r.label}（{r.events} 件）", r.code)
                 for r in todo.itertuples()}
        gen = st.session_state.get(_GEN, 0)
        choice = a.selectbox("标签", list(shown), format_func=lambda k: shown[k][0], key=f"vocab_label_{gen}")
        field = choice.split(_SEP, 1)[0]
        codes = list(FIELDS[field])  # preselected: what it is counted as now (mapping to it confirms that)
        b.selectbox("映射为", codes, index=codes.index(shown[choice][1]), format_func=FIELDS[field].get,
                    key=f"vocab_code_{field}_{gen}")
        c.button("保存映射", type="primary", key="vocab_map", on_click=_map_selected, args=(actor,))
    if not pending.empty:
        st.caption(f"词表已收录、但已导入的事件尚未按词表归类的标签 {len(pending)} 个（例如词表文件被直接修改过）。")
        st.button("按词表重新归类", key="vocab_apply", on_click=_map,
                  args=([(r.field, r.label, r.vocab_code) for r in pending.itertuples()], actor))
