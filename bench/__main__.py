"""`python -m bench`: the whole benchmark in one run (see bench/README.md).

    python -m bench                 full run (what `make bench` does, a few minutes):
                                    writes bench/results/latest.json and the table in bench/README.md
    python -m bench --quick         seconds: few events, one round, a second of HTTP load, no wrk;
                                    writes bench/results/tmp/quick.json and leaves the README alone
    python -m bench --skip-http     engines and the in-process decision only
    python -m bench --ledger-only   the ledger on against off, and the spool while PostgreSQL is down:
                                    writes bench/results/ledger.json

Exit status: 0 when the run completed (targets missed are reported, not failed);
1 when the three engines disagree on which rules match or a measurement failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from . import engines, events, http, inprocess, ledger, report, rulesets, targets

BENCH = Path(__file__).resolve().parent
SHIPPED = BENCH.parent / "rules"
SIZES = (100, 1000)


def _log(message: str) -> None:
    print(message, flush=True)


def run(quick: bool, tmp: Path, skip_http: bool, budget: float) -> dict[str, Any]:
    started = time.monotonic()
    results: dict[str, Any] = {"mode": "quick" if quick else "full", "machine": report.machine()}
    count, rounds = (60, 1) if quick else (500, 3)
    bodies = events.bodies(count)
    results["events"] = {"count": count, "seed": 7, "http_bodies": min(count, 100)}

    _log(f"engines: {count} events, {rounds} round(s), interleaved")
    directories = [("shipped", SHIPPED)] + [
        (f"generated-{size}", rulesets.write(tmp / f"rules-{size}", size)) for size in SIZES]
    results["engines"] = []
    warm_up = events.bodies(2_000 if quick else engines.WARM_UP, seed=3)
    for name, directory in directories:
        entry = engines.compare(name, directory, bodies, rounds, warm_up)
        results["engines"].append(entry)
        us = entry["us"]
        _log(f"  {name}: {entry['rules']} rules, {entry['matches_per_event']['mean']} matches/event; p50 µs "
             f"service {us['service']['p50']} (cache answered {entry['cache']['hit_rate']:.1%}), "
             f"rete {us['rete']['p50']}, zen {us['zen']['p50']} (own figure {us['zen_core']['p50']}), "
             f"python {us['python']['p50']}; agree: {entry['agree']}")

    _log("full decision in process")
    results["in_process"] = inprocess.measure(SHIPPED, bodies, 1 if quick else 10)
    _log(f"  p50 {results['in_process']['us']['p50']} µs, p99 {results['in_process']['us']['p99']} µs")

    if skip_http:
        results["http"] = None
    else:
        _log("HTTP" + (" (quick: open loop only)" if quick else ""))
        plan = http.QUICK if quick else http.FULL
        results["http"] = http.measure(bodies[:100], plan, tmp, started + budget, _log)
        _log("ledger: on against off" + (" (quick: SQLite, open loop only)" if quick else ""))
        results["ledger"] = ledger.measure(bodies[:100], tmp, _log, quick)

    results["targets"] = targets.evaluate(results)
    results["machine"]["load_average_at_end"] = list(os.getloadavg())
    results["seconds"] = round(time.monotonic() - started, 1)
    return results


def ledger_only(tmp: Path, out: Path) -> int:
    started = time.monotonic()
    tmp.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"mode": "ledger", "machine": report.machine(),
                               "ledger": ledger.measure(events.bodies(100), tmp, _log)}
    results["targets"] = targets.evaluate(results)
    results["machine"]["load_average_at_end"] = list(os.getloadavg())
    results["seconds"] = round(time.monotonic() - started, 1)
    report.write_json(results, out)
    _log(report.console(results))
    _log(f"\nwrote {out} in {results['seconds']} s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a run of seconds, for the smoke test")
    parser.add_argument("--skip-http", action="store_true", help="engines and in-process decision only")
    parser.add_argument("--ledger-only", action="store_true", help="only the ledger's part (bench/ledger.py)")
    parser.add_argument("--out", type=Path, help="where to write the JSON results")
    parser.add_argument("--tmp", type=Path, default=BENCH / "results" / "tmp",
                        help="scratch directory: generated rulesets, wrk scripts, server logs")
    parser.add_argument("--budget", type=float, default=480,
                        help="seconds the run may take; the memory run stops short when they run out "
                             "(default 480, so that `make bench` stays under 10 minutes with the install)")
    parser.add_argument("--readme", action=argparse.BooleanOptionalAction, default=None,
                        help="rewrite the results table in bench/README.md (default: only in a full run)")
    args = parser.parse_args(argv)
    if args.ledger_only:
        return ledger_only(args.tmp, args.out or BENCH / "results" / "ledger.json")
    out = args.out or (args.tmp / "quick.json" if args.quick else BENCH / "results" / "latest.json")
    readme = args.readme if args.readme is not None else not (args.quick or args.skip_http)

    results = run(args.quick, args.tmp, args.skip_http, args.budget)
    report.write_json(results, out)
    if readme:
        report.update_readme(results)
    _log(report.console(results))
    _log(f"\nwrote {out}" + (" and the table in bench/README.md" if readme else "") +
         f" in {results['seconds']} s")
    if not all(entry["agree"] for entry in results["engines"]):
        _log("the engines disagree on which rules match: see `examples` under `engines` in the JSON")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
