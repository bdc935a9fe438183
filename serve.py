"""Start the app: ``python serve.py [streamlit run options]`` (what ``make run`` does).

It serves the ASGI app of ``asgi.py`` (Streamlit's app.py plus the login/logout routes that set
the HttpOnly session cookie) under uvicorn, exactly as ``streamlit run asgi.py`` would, so every
``--server.*`` option works as usual, with TCP_NODELAY on its connections (``server/tcp.py``).
``uvicorn asgi:app`` is the same app.
"""

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """``streamlit run asgi.py`` with ``argv``'s options; its exit status."""
    from streamlit.web import cli

    from server import tcp

    tcp.install()  # else every request after the first on a kept-alive connection waits ≈ 40 ms
    sys.argv = ["streamlit", "run", str(Path(__file__).with_name("asgi.py")), *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
