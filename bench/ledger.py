"""The ledger's cost on the decision path, and the spool while the database is down.

Servers of 2 workers run side by side: the ledger off, on an embedded SQLite file,
on SQLite with idempotency off (records only: nothing on the request path waits for
the database), and on a throw-away PostgreSQL server (Debian's, started here;
skipped when it is not installed). Every request carries an event_id of its own, so with the
ledger on each one is claimed (idempotency) and recorded: the full cost, never a
cheap replay. Runs alternate between the servers (A B C, C B A, ...) so that each
meets the same neighbours, and the figure per server is the median run.

- throughput: wrk, 32 connections, POST /v1/decisions;
- fixed rate: the open-loop generator at the same rate for all (half the slowest
  configuration's ceiling, so that every server keeps up), with the servers' CPU per request (user + system of every
  worker thread: the spool writes and the database batches included);
- outage (PostgreSQL): the database stopped while the open-loop load goes on at
  the same rate: answers and latency during the outage, spool bytes and backlog at
  its end; then the database started again: how long the spool takes to drain, and
  whether every decision answered is in the database (none lost, none twice).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, Sequence

from . import openloop, server, wrk
from .stats import median, ratio

DECIDE = "/v1/decisions"
Log = Callable[[str], None]


def with_marks(bodies: Sequence[bytes]) -> list[bytes]:
    """The bench events with their event_id replaced by wrk.ID_MARK (each request fills in its own)."""
    out = []
    for body in bodies:
        event = json.loads(body)
        event["event_id"] = wrk.ID_MARK
        out.append(json.dumps(event, separators=(",", ":")).encode())
    return out


def unique(bodies: Sequence[bytes], count: int, prefix: str) -> list[bytes]:
    """`count` bodies with ids of their own, for the open-loop generator (which cycles its list)."""
    return [bodies[index % len(bodies)].replace(wrk.ID_MARK.encode(), f"{prefix}-{index}".encode())
            for index in range(count)]


def _readyz(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/readyz", timeout=5) as response:
        return dict(json.load(response))


def _fixed(srv: server.Server, bodies: Sequence[bytes], rate: float, seconds: float) -> dict[str, Any]:
    before = srv.cpu_seconds()
    result = openloop.run(srv.host, srv.port, DECIDE, bodies, rate, seconds).as_dict()
    time.sleep(0.6)  # the recorder's batch for the last requests belongs to this run's cost
    result["cpu_us_per_request"] = round((srv.cpu_seconds() - before) / max(result["completed"], 1) * 1e6, 1)
    return result


def _count(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT count(*) FROM ledger_decisions").fetchone()
    return int(row[0]) if row else 0


def measure(bodies: Sequence[bytes], tmp: Path, log: Log, quick: bool = False) -> dict[str, Any]:
    from .postgres import binaries, launch, teardown

    marked = with_marks(bodies)
    scratch = Path(tempfile.mkdtemp(prefix="bench-ledger-", dir=tmp if tmp.exists() else None))
    results: dict[str, Any] = {"workers": 2, "events_cycled": len(marked)}
    pg = None
    with ExitStack() as stack:
        configs: dict[str, dict[str, str]] = {
            "off": {},
            "sqlite": {"RECOVERY_LEDGER_URL": f"sqlite:///{scratch / 'ledger.sqlite3'}",
                       "RECOVERY_LEDGER_SPOOL_DIR": str(scratch / "spool-sqlite")},
            # Records only: no idempotency claim waits for the database on the request path.
            "sqlite_records_only": {"RECOVERY_LEDGER_URL": f"sqlite:///{scratch / 'records.sqlite3'}",
                                    "RECOVERY_LEDGER_SPOOL_DIR": str(scratch / "spool-records"),
                                    "RECOVERY_LEDGER_IDEMPOTENCY_WINDOW_SECONDS": "0"},
        }
        if binaries() is not None and not quick:
            pg, pg_root = launch()
            stack.callback(teardown, pg, pg_root)
            url = pg.create_database("bench_ledger")
            from service.ledger import migrate
            from service.ledger.store import open_engine

            engine = open_engine(url)
            migrate.upgrade(engine)
            engine.dispose()
            configs["postgresql"] = {"RECOVERY_LEDGER_URL": url,
                                     "RECOVERY_LEDGER_SPOOL_DIR": str(scratch / "spool-postgresql")}
        else:
            results["postgresql"] = "skipped: " + ("quick mode" if quick else "PostgreSQL is not installed")
        servers = stack.enter_context(server.running_all(
            {name: (2, tmp / f"server-ledger-{name}.log", env) for name, env in configs.items()}))
        names = list(servers)
        use_wrk = wrk.available() and not quick
        if use_wrk:
            log(f"  ledger throughput (wrk, 32 connections): {', '.join(names)}, alternating")
            runs: dict[str, list[wrk.Result]] = {name: [] for name in names}
            rounds, seconds = 3, 4
            for number in range(rounds + 1):
                order = names if number % 2 == 0 else names[::-1]
                for name in order:
                    lua = wrk.unique_script(tmp / f"ledger-{name}-{number}.lua", DECIDE, marked,
                                            f"wrk-{name}-{number}")
                    result = wrk.run(servers[name].url, lua, 2 if number == 0 else seconds)
                    if number:  # the first round warms every server up
                        runs[name].append(result)
            flow: dict[str, Any] = {name: {"rps": round(median([r.rps for r in found]), 1),
                                           "latency_ms": {key: round(median([r.latency_us[key] for r in found]) / 1000,
                                                                     3) for key in ("p50", "p99")},
                                           "runs_rps": [round(r.rps, 1) for r in found]}
                                    for name, found in runs.items()}
            for name in names[1:]:
                flow[f"{name}_vs_off_rps"] = ratio(flow[name]["rps"], flow["off"]["rps"])
            results["throughput"] = flow
            log("    " + ", ".join(f"{name} {flow[name]['rps']:.0f} req/s" for name in names))
            # The same load for all: half the slowest configuration's ceiling, so every server keeps
            # up and the comparison is of cost and latency, not of queues.
            rate = round(min(flow[name]["rps"] for name in names) / 2, -1)
        else:
            rate = 300.0
        seconds = 1.0 if quick else 6.0
        rounds = 1 if quick else 3
        log(f"  ledger at a fixed rate ({rate:.0f} req/s, {rounds} round(s) each)")
        fixed_runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        for number in range(rounds):
            for name in (names if number % 2 == 0 else names[::-1]):
                load = unique(marked, int(rate * seconds), f"fixed-{name}-{number}")
                fixed_runs[name].append(_fixed(servers[name], load, rate, seconds))
        fixed: dict[str, Any] = {"rate": rate, "seconds": seconds, "rounds": rounds}
        for name, found in fixed_runs.items():
            fixed[name] = {"latency_ms": {key: round(median([run["latency_ms"][key] for run in found]), 3)
                                          for key in ("p50", "p99")},
                           "cpu_us_per_request": round(median([run["cpu_us_per_request"] for run in found]), 1),
                           "statuses": _statuses(found)}
        for name in names[1:]:
            fixed[f"{name}_vs_off_cpu"] = ratio(fixed[name]["cpu_us_per_request"], fixed["off"]["cpu_us_per_request"])
        results["fixed_rate"] = fixed
        log("    " + ", ".join(f"{name} p50 {fixed[name]['latency_ms']['p50']} ms, "
                               f"{fixed[name]['cpu_us_per_request']} µs CPU/request" for name in names))

        if pg is not None:
            results["outage"] = _outage(pg, servers["postgresql"], configs["postgresql"]["RECOVERY_LEDGER_URL"],
                                        marked, rate, log)
    shutil.rmtree(scratch, ignore_errors=True)
    return results


def _statuses(runs: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for run in runs:
        for code, count in run["statuses"].items():
            out[code] = out.get(code, 0) + count
    return out


def _outage(pg: Any, srv: server.Server, url: str, marked: Sequence[bytes], rate: float, log: Log) -> dict[str, Any]:
    seconds = 10.0
    time.sleep(1.0)
    before = _count(url)
    log(f"  ledger outage: PostgreSQL stopped for {seconds:.0f} s of load at {rate:.0f} req/s")
    pg.stop()
    try:
        during = openloop.run(srv.host, srv.port, DECIDE, unique(marked, int(rate * seconds), "outage"), rate,
                              seconds).as_dict()
        at_end = _readyz(srv.url)["ledger"]
    finally:
        pg.start()
    started = time.monotonic()
    answered = during["statuses"].get("200", 0)
    recorded = _count(url) - before
    while recorded < answered and time.monotonic() - started < 120:
        time.sleep(0.25)
        recorded = _count(url) - before
    drained = time.monotonic() - started
    after = _readyz(srv.url)["ledger"]
    out = {"seconds": seconds, "rate": rate, "sent": during["sent"], "statuses": during["statuses"],
           "latency_ms": during["latency_ms"], "spool_bytes_at_end": at_end["spool_bytes"],
           "backlog_records_at_end": at_end["backlog_records"], "database_up_during": at_end["database_up"],
           "drain_seconds": round(drained, 2), "recorded": recorded, "lost": max(answered - recorded, 0),
           "spool_bytes_after": after["spool_bytes"]}
    log(f"    {answered} of {during['sent']} answered 200 (p99 {during['latency_ms']['p99']} ms); spool "
        f"{at_end['spool_bytes']:,} bytes, ~{at_end['backlog_records']} records; drained in {drained:.1f} s; "
        f"{recorded} recorded, {out['lost']} lost")
    return out
