"""Start the app: ``python serve.py [streamlit run options]`` (what ``make run`` does).

It serves the ASGI app of ``asgi.py`` (Streamlit's app.py plus the login/logout routes that set
the HttpOnly session cookie) under uvicorn, exactly as ``streamlit run asgi.py`` would, so every
``--server.*`` option works as usual. ``uvicorn asgi:app`` is the same app.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(Path(__file__).with_name("asgi.py")), *sys.argv[1:]]
    sys.exit(cli.main())
