"""Importers for the files offices have: grid boundaries and event spreadsheets.

Every row is accounted for: imported, or rejected with its row number and a reason written to a
rejects CSV (UTF-8 with BOM, opens in Excel); events imported with something unfamiliar (a label
the vocabulary does not know, a text cut to length) are listed in a warnings CSV beside it. Imports
are upserts (re-importing changes nothing) and run in one transaction (a failure halfway leaves the
database as it was).
"""

from data_access.importers.events import import_events
from data_access.importers.grids import import_grids

__all__ = ["import_events", "import_grids"]
