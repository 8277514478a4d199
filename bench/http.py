"""HTTP measurements against the real server: throughput, latency at a fixed rate, memory.

- Throughput: for 1 and 2 workers, wrk (32 connections) against POST /bench/noop
  and POST /v1/decisions of the same server, alternating A B B A ... in short runs
  so both routes see the same neighbours; the figure per route is the median run.
- Fixed rate: with 2 workers, the open-loop generator (bench/openloop.py) at half
  the no-op route's measured ceiling, on POST /v1/decisions and the no-op route
  alternately, three runs each (median run reported); then the decision route at
  half its own ceiling, which tells slow answers from a lack of capacity.
- Memory: with 2 workers, VmRSS of each worker after the runs above (the warm-up),
  then again after 1,000,000 more decisions driven by wrk in chunks, with a sample
  after each chunk so growth that levels off can be told from a leak. They go
  through POST /v1/decisions as far as the time budget allows and the rest through
  the batch route (see `memory()`); the JSON says how many went which way.

The quick mode (the smoke test) skips wrk: one worker, a second of open-loop load
on each route and a few thousand decisions (single and batch) for the memory figures.
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from . import openloop, server, wrk
from .stats import median, ratio

NOOP = "/bench/noop"
DECIDE = "/v1/decisions"
BATCH = "/v1/decisions:batch"
Log = Callable[[str], None]


@dataclass(frozen=True)
class Plan:
    workers: tuple[int, ...]
    rounds: int
    run_seconds: float
    warmup_seconds: float
    fixed_rate_seconds: float
    fixed_rate_rounds: int
    memory_decisions: int
    memory_chunks: int
    memory_single_max: int
    use_wrk: bool


FULL = Plan(workers=(1, 2), rounds=3, run_seconds=4, warmup_seconds=2, fixed_rate_seconds=8,
            fixed_rate_rounds=3,
            memory_decisions=1_000_000, memory_chunks=10, memory_single_max=1_000_000, use_wrk=True)
QUICK = Plan(workers=(1,), rounds=1, run_seconds=1, warmup_seconds=0.5, fixed_rate_seconds=1,
             fixed_rate_rounds=1,
             memory_decisions=3_000, memory_chunks=3, memory_single_max=1_000, use_wrk=False)
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


def fixed_rate(srv: server.Server, bodies: Sequence[bytes], rate: float, own_rate: float, seconds: float,
               rounds: int, log: Log) -> dict[str, Any]:
    """Open-loop latency at `rate` (the target's: half the no-op ceiling) on both routes, and, to tell
    slow answers from a lack of capacity, on the decision route at `own_rate` (half its own ceiling).

    The two routes alternate A B B A A B ... over `rounds` runs each, so both see the same neighbours
    on this shared machine, and each route's figure is its run with the median p99 (the others are
    kept under "runs"): one noisy neighbour should not decide the result either way."""
    out: dict[str, Any] = {"rate": round(rate, 1), "rounds": rounds}
    runs: dict[str, list[dict[str, Any]]] = {DECIDE: [], NOOP: []}
    for number in range(rounds):
        for route in ((DECIDE, NOOP) if number % 2 == 0 else (NOOP, DECIDE)):
            runs[route].append(openloop.run(srv.host, srv.port, route, bodies, rate, seconds).as_dict())
    for route, results in runs.items():
        ordered = sorted(results, key=lambda result: result["latency_ms"]["p99"])
        out[route] = {**ordered[(len(ordered) - 1) // 2],
                      "runs": [{"latency_ms": result["latency_ms"], "achieved_rps": result["achieved_rps"]}
                               for result in results]}
    own = openloop.run(srv.host, srv.port, DECIDE, bodies, own_rate, seconds)
    out["decisions_at_half_own_ceiling"] = own.as_dict()
    decide = out[DECIDE]["latency_ms"]
    each = ", ".join(f"{run['latency_ms']['p99']:.2f}" for run in out[DECIDE]["runs"])
    log(f"  fixed rate {rate:.0f} req/s: decisions p50 {decide['p50']:.2f} ms, p99 {decide['p99']:.2f} ms "
        f"(runs: {each}); no-op p99 {out[NOOP]['latency_ms']['p99']:.2f} ms; decisions at {own_rate:.0f} req/s "
        f"(half their own ceiling) p99 {out['decisions_at_half_own_ceiling']['latency_ms']['p99']:.2f} ms")
    return out


def batch_body(bodies: Sequence[bytes]) -> bytes:
    """One POST /v1/decisions:batch body holding `bodies` as its events."""
    return b'{"events": [' + b", ".join(bodies) + b"]}"


def _decided_per_batch(srv: server.Server, body: bytes) -> int:
    request = urllib.request.Request(srv.url + BATCH, data=body, method="POST",
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    if answer["rejected"]:
        raise RuntimeError(f"the batch route refused {answer['rejected']} of the benchmark events")
    return int(answer["decided"])


class _Driver:
    """Sends requests to one route until a count is reached or a deadline passes (wrk, or open loop in quick mode)."""

    def __init__(self, srv: server.Server, route: str, bodies: Sequence[bytes], script: Path | None, rps: float):
        self.srv, self.route, self.bodies, self.script, self.rps = srv, route, bodies, script, rps

    def send(self, count: int, deadline: float) -> int:
        """Send about `count` requests (wrk runs for a duration, so it tops up); returns how many were answered."""
        if self.script is None:
            result = openloop.run(self.srv.host, self.srv.port, self.route, self.bodies, self.rps, count / self.rps)
            if result.statuses.get(200, 0) != result.completed:
                raise RuntimeError(f"requests failed during the memory run: {result.statuses}")
            return result.completed
        done = 0
        while done < count:
            left = deadline - time.monotonic()
            if left < 1:
                break
            done += self.run_for(min(left, max(1.0, (count - done) / self.rps * 1.02)))
        return done

    def run_for(self, seconds: float) -> int:
        assert self.script is not None
        run = wrk.run(self.srv.url, self.script, seconds)
        self.rps = run.rps  # the next chunk is sized on what this one achieved
        return run.requests


def memory(srv: server.Server, bodies: Sequence[bytes], plan: Plan, tmp: Path, rps_hint: float,
           deadline: float, log: Log) -> dict[str, Any]:
    """RSS per worker before and after `plan.memory_decisions` decisions, sampled after each chunk.

    The decisions go through POST /v1/decisions. When the machine is too busy for
    them all to fit in the time budget, the rest go through POST /v1/decisions:batch
    (100 events a request, the same decide path without the per-request HTTP work):
    single requests go on only while the batch route, at its last measured rate,
    could still finish the count before the deadline.
    """
    body = batch_body(bodies)
    single = _Driver(srv, DECIDE, bodies, wrk.script(tmp / "memory.lua", DECIDE, bodies) if plan.use_wrk else None,
                     rps_hint)
    batch = _Driver(srv, BATCH, [body], wrk.script(tmp / "memory-batch.lua", BATCH, [body]) if plan.use_wrk
                    else None, QUICK_RATE / 30)
    per_batch = _decided_per_batch(srv, body)
    # Warm the batch route up too (its first requests grow the workers' buffers once), and
    # measure its rate; these decisions come before the baseline and do not count.
    if plan.use_wrk:
        batch.run_for(3)
    else:
        batch.send(3, time.monotonic() + 30)
    baseline = srv.rss_kib()
    samples: list[dict[str, Any]] = [{"decisions": 0, "route": None, "rss_mib": _mib(baseline)}]
    by_route = {DECIDE: 0, BATCH: 0}
    target, per_chunk = plan.memory_decisions, plan.memory_decisions // plan.memory_chunks
    started = time.monotonic()

    def record(route: str, decisions: int) -> None:
        by_route[route] += decisions
        total = sum(by_route.values())
        samples.append({"decisions": total, "route": route, "rss_mib": _mib(srv.rss_kib())})
        log(f"  memory: {total:,} decisions ({by_route[DECIDE]:,} single, {by_route[BATCH]:,} in batches), "
            f"RSS {samples[-1]['rss_mib']} MiB")

    while (remaining := target - sum(by_route.values())) > 0 and time.monotonic() < deadline - 1:
        # Single requests while the batch route, at its last measured rate with room to spare
        # (the rate drops when neighbours load the machine), could still finish the count.
        spare = deadline - time.monotonic() - remaining / (batch.rps * per_batch) * 1.5 - 10
        if spare >= 3 and by_route[DECIDE] < plan.memory_single_max:
            wanted = min(per_chunk, remaining, plan.memory_single_max - by_route[DECIDE])
            if plan.use_wrk:
                wanted = min(wanted, max(1, int(spare * single.rps)))
            record(DECIDE, single.send(wanted, time.monotonic() + spare))
        else:
            record(BATCH, batch.send(max(1, -(-min(per_chunk, remaining) // per_batch)), deadline) * per_batch)
    total = sum(by_route.values())
    final = srv.rss_kib()
    growth = [round((after - before) / 1024, 2) for before, after in zip(baseline, final)]
    if total < target:
        log(f"  memory: the time budget ran out after {total:,} of {target:,} decisions")
    return {"workers": srv.workers, "decisions": total, "planned": target,
            "decisions_by_route": by_route, "seconds": round(time.monotonic() - started, 1),
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
        entry["fixed_rate"] = fixed_rate(srv, bodies, ceiling / 2, hint / 2, plan.fixed_rate_seconds,
                                         plan.fixed_rate_rounds, log)
        try:
            entry["memory"] = memory(srv, bodies, plan, tmp, hint, deadline, log)
        except RuntimeError as exc:  # e.g. wrk timeouts on an overloaded machine: report it, measure the rest
            log(f"  memory run failed: {exc}")
            entry["memory"] = {"error": str(exc)[:300]}
    return entry
