"""TCP_NODELAY on the app's connections (server/tcp.py): Streamlit binds its socket with proto 0, and
asyncio only switches Nagle off for sockets that say they are TCP."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
from streamlit.web.server.starlette import starlette_server

import serve
from server import tcp


def _accepted_nodelay(listener: socket.socket) -> int:
    """TCP_NODELAY of the connection an asyncio server on ``listener`` accepts (as uvicorn's does)."""

    async def run() -> int:
        seen: list[int] = []

        async def handle(reader, writer):
            seen.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(200):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        await server.wait_closed()
        return seen[0]

    # in a thread of its own: a test before this one may have left an event loop running in this one
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


@pytest.fixture
def unpatched(monkeypatch):
    monkeypatch.setattr(starlette_server, "_bind_socket", starlette_server._bind_socket)


@pytest.mark.usefixtures("unpatched")
def test_streamlits_socket_alone_leaves_nagle_on():
    # the reason for server/tcp.py: if this starts failing, Streamlit (or asyncio) fixed it upstream
    assert _accepted_nodelay(starlette_server._bind_socket("127.0.0.1", 0, 8)) == 0


@pytest.mark.usefixtures("unpatched")
def test_installed_binding_gives_nodelay_connections():
    assert tcp.install() and tcp.install()  # idempotent
    assert _accepted_nodelay(starlette_server._bind_socket("127.0.0.1", 0, 8)) == 1


def test_as_tcp_keeps_other_sockets_as_they_are():
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        assert tcp.as_tcp(udp) is udp
    finally:
        udp.close()


@pytest.mark.usefixtures("unpatched")
def test_serve_installs_it_before_streamlit_binds(monkeypatch):
    from streamlit.web import cli

    seen = {}

    def fake_main():
        seen["wrapped"] = getattr(starlette_server._bind_socket, "as_tcp", False)
        seen["argv"] = list(__import__("sys").argv)
        return 0

    monkeypatch.setattr(cli, "main", fake_main)
    monkeypatch.setattr("sys.argv", ["serve.py"])
    assert serve.main(["--server.port", "9"]) == 0
    assert seen["wrapped"] and seen["argv"][1:3] == ["run", str(serve.Path(serve.__file__).with_name("asgi.py"))]
    assert seen["argv"][3:] == ["--server.port", "9"]
