"""Streamlit-free pieces shared by the app, ``reports`` and ``data_access``: number formats, the
warning colours and the settings. Nothing here imports Streamlit (tests/test_layering.py checks)."""
