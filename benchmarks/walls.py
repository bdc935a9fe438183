"""N wall sessions refreshed at the same moment: trigger → rendered p50/p95 and the server's CPU per refresh.

Honest by construction:

* The sessions are opened (and have drawn the wall once) *before* anything is timed, so the figure
  is what the server sustains, not how fast it accepts new sessions one after another.
* The client is light: one process speaking Streamlit's websocket protocol (the same protobuf
  ``BackMsg``/``ForwardMsg`` messages as the browser), so 30 or 100 walls do not mean 30 or 100
  Chromium renderers starving the server on the same 2 cores. A refresh is what a wall's browser
  sends when its ``st.fragment(run_every=…)`` timer fires: a fragment rerun of the wall. It counts as
  rendered when the server has sent the whole refresh (``script_finished``); the browser's own
  drawing is measured separately (``browser`` part: the warm wall in Chromium).
* All N refreshes are sent at once (one asyncio gather), after a data change (a write that bumps the
  data version), so every round includes rendering the new figures — the worst case of a live wall.
* CPU is read from the server process (``/proc/<pid>/stat`` utime + stime) around each round and
  divided by the refreshes in it: ``wall_refresh_server_cpu_ms_N``; ``wall_refresh_cpu_ratio_30`` is
  the figure at 30 walls over the figure at 1 (goal ≤ 1.5).
"""

from __future__ import annotations

import asyncio
import os
import time

from .common import PERIOD, percentile, rss_mb

CLK = os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) in ms."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / CLK


class WallClient:
    """One wall session over Streamlit's websocket protocol."""

    def __init__(self, base: str, query: str):
        self.url = base.replace("http://", "ws://") + "/_stcore/stream"
        self.origin = base
        self.query = query
        self.ws = None
        self.page_hash = ""
        self.fragment = ""

    async def open(self) -> float:
        """Connect and run the page once (the wall drawn); returns the seconds it took."""
        import websockets

        t = time.perf_counter()
        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=None, origin=self.origin,
                                           open_timeout=120, ping_interval=None)
        await self._run(fragment="")
        if not self.fragment:
            raise RuntimeError("the wall's fragment was not seen (did the page draw the wall?)")
        return time.perf_counter() - t

    async def refresh(self) -> float:
        """One timer refresh of the wall fragment; seconds from sending it to the last message of the run."""
        t = time.perf_counter()
        await self._run(fragment=self.fragment)
        return time.perf_counter() - t

    async def _run(self, fragment: str) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ClientState_pb2 import ClientState
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg(rerun_script=ClientState(query_string=self.query, page_script_hash=self.page_hash,
                                               fragment_id=fragment, is_auto_rerun=bool(fragment)))
        await self.ws.send(msg.SerializeToString())
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await asyncio.wait_for(self.ws.recv(), timeout=600))
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = fm.new_session.page_script_hash
            elif kind == "delta" and fm.delta.fragment_id and not self.fragment:
                self.fragment = fm.delta.fragment_id
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element" and \
                    fm.delta.new_element.WhichOneof("type") == "exception":
                raise RuntimeError(f"the page raised: {fm.delta.new_element.exception.message[:200]}")
            elif kind == "script_finished":
                if fm.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                return

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def _measure(base: str, query: str, n: int, pid: int, rounds: int, change, log) -> dict:
    clients = [WallClient(base, query) for _ in range(n)]
    opened = []
    for i in range(0, n, 10):  # open in small batches: set-up, not measured
        opened += await asyncio.gather(*(c.open() for c in clients[i:i + 10]))
    times, cpu = [], []
    try:
        for _ in range(rounds):
            change()
            await asyncio.sleep(1.5)  # past DATA_VERSION_POLL_S: every refresh of the round sees the new version
            c0 = cpu_ms(pid)
            times += await asyncio.gather(*(c.refresh() for c in clients))
            cpu.append((cpu_ms(pid) - c0) / n)
        rss = rss_mb(pid)  # with all N sessions still open
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    ms = [t * 1000 for t in times]
    return {f"sessions{n}_p50_ms": round(percentile(ms, 0.5)), f"sessions{n}_p95_ms": round(percentile(ms, 0.95)),
            f"sessions{n}_max_ms": round(max(ms)),
            f"wall_refresh_server_cpu_ms_{n}": round(sorted(cpu)[len(cpu) // 2], 1),
            f"sessions{n}_open_s_max": round(max(opened), 1), f"server_rss_mb_{n}": round(rss)}


def run(url: str, log=print, sessions: tuple[int, ...] | None = None, rounds: int = 3) -> dict:
    from data_access.accounts import create_session
    from data_access.db.engine import get_engine
    from data_access.db.retry import write_transaction

    from .browser import start_server

    sessions = sessions or tuple(int(n) for n in os.environ.get("BENCH_SESSIONS", "1,10,30,100").split(",") if n)
    eng = get_engine(url)
    token = create_session(eng, "display", "display", hours=2, note="benchmark")
    query = f"kiosk=1&period={PERIOD}&refresh=3600&token={token}"
    change = lambda: write_transaction(eng, lambda conn: None)  # noqa: E731 - a write: the data version moves
    proc, base = start_server(url)
    out: dict = {}
    try:
        for n in sessions:
            try:
                res = asyncio.run(_measure(base, query, n, proc.pid, rounds, change, log))
            except Exception as exc:  # noqa: BLE001 - report, go on with the other sizes
                out[f"sessions{n}_error"] = f"{type(exc).__name__}: {str(exc)[:160]}"
                log(f"  {n:3d} walls: failed: {out[f'sessions{n}_error']}")
                continue
            out |= res
            log(f"  {n:3d} walls refreshed at once: p50 {res[f'sessions{n}_p50_ms']} ms, "
                f"p95 {res[f'sessions{n}_p95_ms']} ms, server CPU {res[f'wall_refresh_server_cpu_ms_{n}']} ms "
                f"per refresh per wall, server RSS {res[f'server_rss_mb_{n}']} MB")
        if out.get("wall_refresh_server_cpu_ms_1") and out.get("wall_refresh_server_cpu_ms_30"):
            out["wall_refresh_cpu_ratio_30"] = round(out["wall_refresh_server_cpu_ms_30"]
                                                     / out["wall_refresh_server_cpu_ms_1"], 2)
    finally:
        proc.terminate()
        proc.wait(10)
    return out


if __name__ == "__main__":  # python -m benchmarks.walls [sqlite:///…]  (default: the district bench database)
    import json
    import sys

    from .common import bench_db

    db = sys.argv[1] if len(sys.argv) > 1 else bench_db("district", print)
    print(json.dumps(run(db, log=lambda m: print(m, file=sys.stderr, flush=True))))
