"""TCP_NODELAY on the connections Streamlit's own server accepts.

asyncio switches Nagle's algorithm off for every TCP connection it accepts — but only when the
listening socket says it is TCP (``proto == IPPROTO_TCP``). Streamlit 1.67 binds its socket itself
with ``socket.socket(family)``, whose proto is 0, so its connections keep Nagle on. uvicorn writes a
response's headers and its body in two sends; on a connection that is reused (an API client's
connection pool, a proxy's upstream keep-alive, the browser's own) the body then waits for the
client's delayed ACK of the headers: every request after the first took ≈ 42 ms more (measured with
curl: 1 ms, then 42 ms, 44 ms on the same connection).

:func:`install` wraps Streamlit's socket binding so the listening socket carries
``IPPROTO_TCP``; asyncio then sets TCP_NODELAY on each accepted connection, as it does for
``uvicorn asgi:app``, which binds through asyncio.
"""

from __future__ import annotations

import logging
import socket

log = logging.getLogger(__name__)


def as_tcp(sock: socket.socket) -> socket.socket:
    """The same listening socket, its ``proto`` set to IPPROTO_TCP (so asyncio sets TCP_NODELAY on the
    connections it accepts); a socket that is not a TCP stream is returned unchanged."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM or sock.proto:
        return sock
    blocking = sock.getblocking()
    out = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    out.setblocking(blocking)
    return out


def install() -> bool:
    """Wrap Streamlit's ``_bind_socket`` with :func:`as_tcp` (once); False when this Streamlit has no
    such function (then nothing is changed and a warning is logged)."""
    try:
        from streamlit.web.server.starlette import starlette_server as ss
    except ImportError:  # pragma: no cover - Streamlit without its Starlette server
        return False
    bind = getattr(ss, "_bind_socket", None)
    if bind is None:
        log.warning("streamlit has no _bind_socket: TCP_NODELAY not installed")
        return False
    if getattr(bind, "as_tcp", False):
        return True

    def bind_tcp(*args, **kwargs) -> socket.socket:
        return as_tcp(bind(*args, **kwargs))

    bind_tcp.as_tcp = True
    ss._bind_socket = bind_tcp
    return True
