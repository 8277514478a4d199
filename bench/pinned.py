"""Tail latency measured cleanly: the load generator on one core, the server's worker on the other.

On a 2-core machine the unpinned figures (bench/http.py) have the generator, the harness and two
workers fighting for both cores, so a request's tail includes waiting for a core. Here one worker
is pinned to core 1 (every thread of it, `taskset -a -p`) and the generators to core 0: wrk finds
the no-op route's ceiling of that one worker, then the open-loop generator (bench/openloop.py) sends
25%, 50% and 75% of that ceiling to POST /v1/decisions and to the no-op route, alternating, and
reports p50/p99 of each. Other engineers' processes still share both cores on this machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable, Sequence

from . import openloop, server, wrk

NOOP = "/bench/noop"
DECIDE = "/v1/decisions"
SHARES = (0.25, 0.5, 0.75)


def available() -> str | None:
    """Why pinning cannot run here, or None."""
    if shutil.which("taskset") is None:
        return "taskset is not installed (util-linux)"
    if len(os.sched_getaffinity(0)) < 2:
        return "fewer than 2 cores"
    return None


def _pin(pid: int, core: int) -> None:
    subprocess.run(["taskset", "-a", "-p", "-c", str(core), str(pid)], check=True, capture_output=True)


def measure(bodies: Sequence[bytes], tmp: Path, log: Callable[[str], None], seconds: float = 6,
            quick: bool = False) -> dict[str, Any]:
    reason = available()
    if reason is not None:
        return {"ran": False, "reason": reason}
    cores = sorted(os.sched_getaffinity(0))
    generator_core, server_core = cores[0], cores[1]
    mine = os.sched_getaffinity(0)
    out: dict[str, Any] = {"ran": True, "generator_core": generator_core, "server_core": server_core,
                           "workers": 1, "seconds": seconds}
    with server.running(1, tmp / "server-pinned.log") as srv:
        for pid in srv.worker_pids():
            _pin(pid, server_core)
        os.sched_setaffinity(0, {generator_core})
        try:
            if quick or not wrk.available():
                ceiling = 600.0
                out["ceiling_from"] = "fixed (quick mode, no wrk)"
            else:
                lua = wrk.script(tmp / "pinned-noop.lua", NOOP, bodies)
                command = ["taskset", "-c", str(generator_core)]
                wrk.run(srv.url, lua, 2, prefix=command)
                ceiling = wrk.run(srv.url, lua, 5, prefix=command).rps
                out["ceiling_from"] = "wrk on the generator's core, no-op route, 5 s"
            out["noop_ceiling_rps"] = round(ceiling, 1)
            log(f"  pinned: no-op ceiling of one worker {ceiling:,.0f} req/s")
            levels = []
            for share in SHARES:
                rate = ceiling * share
                entry: dict[str, Any] = {"share": share, "rate": round(rate, 1)}
                for route in (DECIDE, NOOP) if share != 0.5 else (NOOP, DECIDE):
                    result = openloop.run(srv.host, srv.port, route, bodies, rate, seconds).as_dict()
                    entry[route] = {"latency_ms": result["latency_ms"], "achieved_rps": result["achieved_rps"]}
                decide = entry[DECIDE]["latency_ms"]
                log(f"    {share:.0%} ({rate:,.0f} req/s): decisions p50 {decide['p50']:.2f} ms, p99 "
                    f"{decide['p99']:.2f} ms; no-op p99 {entry[NOOP]['latency_ms']['p99']:.2f} ms")
                levels.append(entry)
            out["levels"] = levels
        finally:
            os.sched_setaffinity(0, mine)
    return out
