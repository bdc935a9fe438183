"""The warning shown beside working-day figures when a year they cover has no holiday calendar."""

from __future__ import annotations

import streamlit as st

from data_access.workdays import calendar_note, years_spanned


def workday_note(*moments) -> str | None:
    """Show (and return) the note when a year from the earliest to the latest of ``moments`` (as_of,
    deadlines) is known to neither config/holidays.toml nor chinese-calendar; None otherwise."""
    note = calendar_note(years_spanned(*moments))
    if note:
        st.warning(note)
    return note
