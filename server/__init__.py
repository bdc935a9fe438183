"""HTTP routes served beside Streamlit by the ASGI app (asgi.py): one module per area, each
exposing ``ROUTES``, a list of Starlette routes."""
