"""Start the app: ``python serve.py [streamlit run options]`` (what ``make run`` does).

Why not plain ``streamlit run app.py``: until ``st.navigation`` has run once in the process,
Streamlit treats a ``pages/`` folder next to the entry script as a legacy multipage app, so the
first session after a restart that opens a deep link such as ``/map`` would run that page
without ``app.py`` (no page config, no login gate). We use ``st.navigation`` only and say so
before the server starts (:func:`navigation_only`; AppTest re-derives the flag on every run, so
the tests call it too). Pages also refuse to run without ``app.py`` (components/context.py).
"""

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager


def navigation_only() -> None:
    """Make Streamlit never treat ``pages/`` as a legacy multipage folder (idempotent)."""
    PagesManager.uses_pages_directory = False
    init = PagesManager.__init__
    if getattr(init, "_navigation_only", False):
        return

    def patched(self, *args, **kwargs):
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    patched._navigation_only = True
    PagesManager.__init__ = patched


if __name__ == "__main__":
    from streamlit.web import cli

    navigation_only()
    args = sys.argv[1:]
    if not args or args[0] != "run":
        args = ["run", str(Path(__file__).with_name("app.py")), *args]
    sys.argv = ["streamlit", *args]
    sys.exit(cli.main())
