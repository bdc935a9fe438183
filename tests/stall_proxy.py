"""A TCP proxy in front of PostgreSQL that can stall, for tests of a database that does not answer."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from sqlalchemy import make_url


class StallProxy:
    """A TCP proxy to PostgreSQL that can stall: keep accepting connections and bytes, forward none.

    Runs an asyncio loop in a daemon thread; :meth:`stall` and :meth:`forward` switch it at once
    for new and open connections alike (held bytes are passed on when forwarding resumes).
    """

    def __init__(self, host: str, port: int):
        self._upstream = (host, port)
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server = self._call(self._start())
        self.port = self._server.sockets[0].getsockname()[1]

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _start(self):
        self._open = asyncio.Event()
        self._open.set()
        return await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def _accept(self, reader, writer) -> None:
        self._writers.add(writer)
        await self._open.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.close()
            return
        self._writers.add(up_writer)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)

    async def _pipe(self, src, dst) -> None:
        try:
            while data := await src.read(65536):
                await self._open.wait()
                dst.write(data)
                await dst.drain()
        finally:
            dst.close()

    def stall(self) -> None:
        self._loop.call_soon_threadsafe(self._open.clear)

    def forward(self) -> None:
        self._loop.call_soon_threadsafe(self._open.set)

    def url(self, db_url: str) -> str:
        """``db_url`` pointed at the proxy."""
        return make_url(db_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def close(self) -> None:
        async def _close():
            self._server.close()
            for w in list(self._writers):
                w.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self._call(_close())
        self._loop.call_soon_threadsafe(self._loop.stop)


@contextlib.contextmanager
def stall_proxy(db_url: str):
    """A :class:`StallProxy` in front of the server of ``db_url``, closed afterwards."""
    u = make_url(db_url)
    proxy = StallProxy(u.host or "127.0.0.1", u.port or 5432)
    try:
        yield proxy
    finally:
        proxy.close()
