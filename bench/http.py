"""HTTP measurements against the real server: throughput, latency at a fixed rate, memory.

- Throughput: for 1 and 2 workers, wrk (32 connections) against POST /bench/noop
  and POST /v1/decisions of the same server, alternating A B B A ... in short runs
  so both routes see the same neighbours; the figure per route is the median run.
- Fixed rate: with 2 workers, the open-loop generator (bench/openloop.py) at half
  the no-op route's measured ceiling, against POST /v1/decisions, then the no-op.
- Memory: with 2 workers, VmRSS of each worker after the runs above (the warm-up),
  then again after 1,000,000 more decisions driven by wrk in chunks, with a sample
  after each chunk so growth that levels off can be told from a leak. On a machine
  too busy to make them within the run's time budget, the run stops short and says
  so (the memory target is then not judged).

The quick mode (the smoke test) skips wrk: one worker, a second of open-loop load
on each route and a few thousand decisions for the memory figures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from . import openloop, server, wrk
from .stats import median, ratio

NOOP = "/bench/noop"
DECIDE = "/v1/decisions"
Log = Callable[[str], None]


@dataclass(frozen=True)
class Plan:
    workers: tuple[int, ...]
    rounds: int
    run_seconds: float
    warmup_seconds: float
    fixed_rate_seconds: float
    memory_decisions: int
    memory_chunks: int
    use_wrk: bool


FULL = Plan(workers=(1, 2), rounds=3, run_seconds=4, warmup_seconds=2, fixed_rate_seconds=10,
            memory_decisions=1_000_000, memory_chunks=10, use_wrk=True)
QUICK = Plan(workers=(1,), rounds=1, run_seconds=1, warmup_seconds=0.5, fixed_rate_seconds=1,
             memory_decisions=2_000, memory_chunks=2, use_wrk=False)
QUICK_RATE = 300.0


def _mib(kib: Sequence[int]) -> list[float]:
    return [round(value / 1024, 2) for value in kib]


def throughput(srv: server.Server, bodies: Sequence[bytes], plan: Plan, tmp: Path, log: Log) -> dict[str, Any]:
    scripts = {route: wrk.script(tmp / f"post{route.replace('/', '-')}.lua", route, bodies)
               for route in (NOOP, DECIDE)}
    for route in (NOOP, DECIDE):
        wrk.run(srv.url, scripts[route], plan.warmup_seconds)
    runs: dict[str, list[wrk.Result]] = {NOOP: [], DECIDE: []}
    for number in range(plan.rounds):
        order = (NOOP, DECIDE) if number % 2 == 0 else (DECIDE, NOOP)
        for route in order:
            runs[route].append(wrk.run(srv.url, scripts[route], plan.run_seconds))
    out: dict[str, Any] = {}
    for route, results in runs.items():
        out[route] = {"rps": round(median([result.rps for result in results]), 1),
                      "latency_ms": {key: round(median([result.latency_us[key] for result in results]) / 1000, 3)
                                     for key in ("p50", "p99")},
                      "runs": [result.as_dict() for result in results]}
    out["decide_vs_noop_rps"] = ratio(out[DECIDE]["rps"], out[NOOP]["rps"])
    log(f"  {srv.workers} worker(s): no-op {out[NOOP]['rps']:.0f} req/s, decisions {out[DECIDE]['rps']:.0f} req/s "
        f"({out['decide_vs_noop_rps']:.0%})")
    return out


def fixed_rate(srv: server.Server, bodies: Sequence[bytes], rate: float, seconds: float, log: Log) -> dict[str, Any]:
    out: dict[str, Any] = {"rate": round(rate, 1)}
    for route, share in ((DECIDE, 1.0), (NOOP, 0.5)):
        result = openloop.run(srv.host, srv.port, route, bodies, rate, seconds * share)
        out[route] = result.as_dict()
    decide = out[DECIDE]["latency_ms"]
    log(f"  fixed rate {rate:.0f} req/s: decisions p50 {decide['p50']:.2f} ms, p99 {decide['p99']:.2f} ms; "
        f"no-op p99 {out[NOOP]['latency_ms']['p99']:.2f} ms")
    return out


def _drive(srv: server.Server, bodies: Sequence[bytes], count: int, script: Path | None, rps_hint: float,
           deadline: float) -> int:
    """Send `count` (or a few more) decisions, or as many as fit before `deadline`; returns how many."""
    if script is not None:
        done = 0
        while done < count:  # wrk runs for a duration: top up until the count is reached
            left = deadline - time.monotonic()
            if left < 1:
                break
            seconds = min(left, max(1.0, (count - done) / max(rps_hint, 1.0) * 1.02))
            done += wrk.run(srv.url, script, seconds).requests
        return done
    result = openloop.run(srv.host, srv.port, DECIDE, bodies, QUICK_RATE * 2, count / (QUICK_RATE * 2))
    if result.statuses.get(200, 0) != result.completed:
        raise RuntimeError(f"decisions failed during the memory run: {result.statuses}")
    return result.completed


def memory(srv: server.Server, bodies: Sequence[bytes], plan: Plan, tmp: Path, rps_hint: float,
           deadline: float, log: Log) -> dict[str, Any]:
    script = wrk.script(tmp / "memory.lua", DECIDE, bodies) if plan.use_wrk else None
    baseline = srv.rss_kib()
    samples = [{"decisions": 0, "rss_mib": _mib(baseline)}]
    per_chunk = plan.memory_decisions // plan.memory_chunks
    total = 0
    started = time.monotonic()
    while total < plan.memory_decisions and time.monotonic() < deadline - 1:
        total += _drive(srv, bodies, min(per_chunk, plan.memory_decisions - total), script, rps_hint, deadline)
        samples.append({"decisions": total, "rss_mib": _mib(srv.rss_kib())})
        log(f"  memory: {total:,} decisions, RSS {samples[-1]['rss_mib']} MiB")
    final = srv.rss_kib()
    growth = [round((after - before) / 1024, 2) for before, after in zip(baseline, final)]
    if total < plan.memory_decisions:
        log(f"  memory: the time budget ran out after {total:,} of {plan.memory_decisions:,} decisions")
    return {"workers": srv.workers, "decisions": total, "planned": plan.memory_decisions,
            "seconds": round(time.monotonic() - started, 1),
            "rss_after_warmup_mib": _mib(baseline), "rss_after_mib": _mib(final), "growth_mib": growth,
            "max_growth_mib": max(growth), "samples": samples}


def _check_alive(srv: server.Server, pids: list[int]) -> None:
    if srv.process.poll() is not None:
        raise RuntimeError(f"the server stopped during the run (exit status {srv.process.returncode}); "
                           f"see {srv.log}")
    if srv.worker_pids() != pids:
        raise RuntimeError(f"a server worker died or was replaced during the run; see {srv.log}")


def measure(bodies: Sequence[bytes], plan: Plan, tmp: Path, deadline: float, log: Log) -> dict[str, Any]:
    """Every HTTP figure; the memory run stops at `deadline` (time.monotonic()) if it has not finished."""
    if plan.use_wrk and not wrk.available():
        raise RuntimeError("wrk is not installed; `make bench` installs it (apt-get install wrk)")
    out: dict[str, Any] = {"connections": wrk.CONNECTIONS, "wrk_threads": wrk.THREADS, "workers": {}}
    for workers in plan.workers:
        with server.running(workers, tmp / f"server-{workers}w.log") as srv:
            pids = srv.worker_pids()
            try:
                out["workers"][str(workers)] = _measure_server(srv, bodies, plan, tmp, deadline, log)
            except RuntimeError:
                _check_alive(srv, pids)  # name the real cause when the server went away
                raise
            _check_alive(srv, pids)
    return out


def _measure_server(srv: server.Server, bodies: Sequence[bytes], plan: Plan, tmp: Path, deadline: float,
                    log: Log) -> dict[str, Any]:
    entry: dict[str, Any] = {"rss_at_start_mib": _mib(srv.rss_kib())}
    if plan.use_wrk:
        entry["throughput"] = throughput(srv, bodies, plan, tmp, log)
        ceiling = entry["throughput"][NOOP]["rps"]
        hint = entry["throughput"][DECIDE]["rps"]
    else:
        ceiling, hint = QUICK_RATE * 2, QUICK_RATE * 4
    entry["rss_after_warmup_mib"] = _mib(srv.rss_kib())
    if srv.workers == max(plan.workers):
        entry["fixed_rate"] = fixed_rate(srv, bodies, ceiling / 2, plan.fixed_rate_seconds, log)
        entry["memory"] = memory(srv, bodies, plan, tmp, hint, deadline, log)
    return entry
