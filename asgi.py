"""The app as an ASGI application: Streamlit's ``app.py`` plus our own HTTP routes.

Start it with ``python serve.py`` (what ``make run`` does; takes ``streamlit run`` options such
as ``--server.port``), ``streamlit run asgi.py`` or ``uvicorn asgi:app --port 8501``. Only this
way does login set an HttpOnly cookie (server/auth_routes.py); plain ``streamlit run app.py``
still works, with a session-only login.

More routes: add a module under ``server/`` with its own ``ROUTES`` and list it below (paths
under ``/_stcore/``, ``/media/``, ``/component/`` and ``/static/`` are Streamlit's own).
"""

from pathlib import Path

from streamlit.starlette import App

from components import auth
from server import api_routes, auth_routes

ROOT = Path(__file__).resolve().parent

ROUTES = [
    *auth_routes.ROUTES,
    *api_routes.ROUTES,  # /api/v1/…: the push API, keys by `users api-key`
]

auth.use_server_login(all(r in ROUTES for r in auth_routes.ROUTES))
app = App(ROOT / "app.py", routes=ROUTES)
