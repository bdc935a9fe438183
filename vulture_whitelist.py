"""Names vulture reports as unused that are used implicitly (``make deadcode``; tests/test_lint.py).

Each line names what uses it. Alembic revision files are excluded as a whole (their module-level
``revision``/``down_revision``/``upgrade``/``downgrade`` are read by Alembic).
"""

# ruff: noqa: B018, F821
# Libraries read these attributes or call these methods
recalcBBoxes  # fontTools/fpdf2 option set in reports/pdf.py and benchmarks/pdf.py
alignment  # openpyxl cell style, reports/excel.py
ref  # openpyxl auto_filter range, reports/excel.py
footer  # fpdf.FPDF calls it on every page, reports/pdf.py
__cause__  # the exception chain of a re-raised DatabaseUnavailableError
handle_starttag, handle_endtag, handle_data  # html.parser.HTMLParser callbacks (tests/test_escaping.py)
log_message, do_HEAD, do_POST  # http.server.BaseHTTPRequestHandler hooks (test servers)
should_exit  # uvicorn.Server flag the API tests set to stop their server
uses_pages_directory  # Streamlit's PagesManager flag, switched off for AppTest (tests/conftest.py)
# Registered by decorator: SQLAlchemy event listeners and @compiles functions
_connect, _restore_deadline  # data_access/db/engine.py, @event.listens_for
_sqlite, _pg  # data_access/db/sqlfn.py, @compiles
# Dataclass field shown to people, not read by code paths vulture follows
help  # common.settings.Setting.help: the README's configuration table
# pytest: fixtures and markers are used by name
frozen_clock, pg_tiny, fast_timeouts, pytestmark, unpatched
epsg  # tests/test_import_grids_security.py parametrize argument
# Left for the metric catalogue (issue 16 part 1) to adopt or remove with the other query functions
case_types  # data_access/queries/safety.py
compute  # data_access/queries/catalogue.py Metric.compute: one metric's value, the catalogue's public API
