"""The row validation's fast paths read every cell exactly as pandas' parsers do (the importer's
reading before the rules moved to plain Python): dates and coordinates, common layouts and odd ones."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from data_access.importers.event_rows import _numbers, parse_dates, parse_dates_series

DATE_CELLS = [
    "2026-10-01 08:30", "2026-10-01 08:30:15", " 2026-10-03 09:00 ", "2026-10-01", "2026/10/1 8:30",
    "2026/10/01 08:30", "2026-10-1", "2026-02-30 08:00", "2026-10-01 24:00", "2026-13-01 00:00",
    "2026-10-01T08:30", "2026-10-01 08:30:00.5", "20261001", "2026年10月1日", "45930.5", "45930", "12/10/2026",
    "0019-10-01", "0019/10/01 08:00", "1900-10-05 08:00", "2206-10-12", "２０２６-１０-０１", "not a date", "", "  ",
    datetime(2026, 10, 2, 7, 5, 9, 500000), date(2026, 10, 2), 45931.25, 45931,
]


def test_dates_read_as_pandas_reads_them():
    fast = parse_dates(DATE_CELLS)
    slow = parse_dates_series(pd.Series(DATE_CELLS, dtype=object))
    assert len(fast) == len(DATE_CELLS)
    for cell, a, b in zip(DATE_CELLS, fast, slow.tolist()):
        assert a == (None if pd.isna(b) else b.to_pydatetime()), cell
    assert fast[0] == datetime(2026, 10, 1, 8, 30) and fast[4] == datetime(2026, 10, 1, 8, 30)
    assert fast[DATE_CELLS.index("0019-10-01")] == datetime(19, 10, 1)  # a typing error the rules reject


COORDS = ["113.6", "-33.25", "", "abc", "1e2", "999", "113.123456789012345", "12.5", "+5", "5.", "inf", "nan",
          "-0", "1_000", "１２", "0.1", "121.473701", "31.230416"]


def test_coordinates_read_as_to_numeric_reads_them():
    fast = _numbers(COORDS)
    slow = pd.to_numeric(pd.Series(COORDS, dtype=object), errors="coerce").tolist()
    for cell, a, b in zip(COORDS, fast, slow):
        assert a == (None if pd.isna(b) else float(b)), cell
