"""An uploaded file kept on disk safely for the page's reruns, every upload and refusal audited."""

from __future__ import annotations

import streamlit as st

from common.markup import md
from data_access.accounts.audit import record
from data_access.importers.uploads import StoredUpload, UploadRefused, UploadSlot, display_name

from .data import db_url, engine


def stored_upload(up, kind: str, types: list[str], user: dict, max_bytes: int | None = None) -> StoredUpload | None:
    """The file in uploader ``up`` (a Streamlit UploadedFile or None) stored under a private temporary
    folder — one per uploader, replaced by the next upload, deleted when the uploader is cleared or
    the session ends. Audits ``upload`` once per file, ``upload_refused`` with the reason (shown)."""
    slot_key = f"_upload_slot_{kind}"
    slot = st.session_state.get(slot_key)
    if slot is None:
        slot = st.session_state[slot_key] = UploadSlot()
    if up is None:
        slot.clear()
        return None
    try:
        stored, new = slot.store(up.file_id, up.getbuffer(), up.name, types, max_bytes)
    except UploadRefused as exc:
        refused = st.session_state.setdefault("_upload_refused", set())
        if up.file_id not in refused:  # once per file, not on every rerun
            refused.add(up.file_id)
            record(engine(db_url()), user["username"], "upload_refused",
                   {"kind": kind, "file": display_name(up.name), "bytes": up.size, "reason": str(exc)})
        st.error(f"文件未接收：{md(exc)}")
        return None
    if new:
        record(engine(db_url()), user["username"], "upload", stored.audit_detail(kind))
    return stored
