"""Where a run's figures go: the machine it ran on, latest.json, the console and bench/README.md."""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = Path(__file__).resolve().parent / "README.md"
START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout)
    except (OSError, subprocess.CalledProcessError, ValueError):
        nproc = len(os.sched_getaffinity(0))
    versions = {}
    for package in ("durable_rules", "zen-engine", "fastapi", "uvicorn", "pydantic", "orjson"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    try:
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split(" [")[0].strip()
    except OSError:
        wrk = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=ROOT).stdout.strip() or None
    except OSError:
        commit = None
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "nproc": nproc, "cpu": model, "python": platform.python_version(), "kernel": platform.release(),
            "commit": commit, "wrk": wrk, "versions": versions, "load_average_at_start": list(os.getloadavg())}


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(results: dict[str, Any]) -> str:
    """The README's results section: machine, targets, engine, in-process, HTTP and memory tables."""
    info = results["machine"]
    lines = [f"Run of {info['date']} (`{results['mode']}` mode, commit `{info['commit']}`) on a shared machine: "
             f"nproc {info['nproc']}, {info['cpu']}, Python {info['python']}; load average "
             f"{' / '.join(f'{v:.2f}' for v in info['load_average_at_start'])} at the start. "
             "Other engineers' test runs share these 2 cores, so absolute figures are noisy; the ratios, "
             "measured side by side, are what to compare.", ""]
    lines += ["| target | measured | rule | status |", "|---|---|---|---|"]
    for target in results["targets"]:
        lines.append(f"| {target['what']} | {_fmt(target['measured'], 3)} | {target['rule']} | "
                     f"**{target['status']}** |")
    lines += ["", "Engine, µs per evaluation (p50 / p99), the same events through all four; the service's engine "
              "as a worker runs it (class cache warmed on other events), the Rete network alone without the cache:",
              "",
              "| ruleset | rules (durable rules / zen rows) | matches per event | service engine (cache answered) "
              "| Rete alone | zen-engine | zen (own figure) | Python predicates | service / Python p50 "
              "| service / zen p50 | all agree |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for entry in results["engines"]:
        us = entry["us"]
        cache = entry.get("cache") or {}
        lines.append(
            f"| {entry['ruleset']} | {entry['rules']} ({entry['durable_rules']} / {entry['zen_rows']}) | "
            f"{entry['matches_per_event']['mean']} (max {entry['matches_per_event']['max']}) | "
            f"{_fmt(us['service']['p50'])} / {_fmt(us['service']['p99'])} "
            f"({_fmt(100 * cache.get('hit_rate', float('nan')), 1)}%{', bypassed' if cache.get('bypassing') else ''}) | "
            f"{_fmt(us['rete']['p50'])} / {_fmt(us['rete']['p99'])} | "
            f"{_fmt(us['zen']['p50'])} / {_fmt(us['zen']['p99'])} | "
            f"{_fmt(us['zen_core']['p50'])} / {_fmt(us['zen_core']['p99'])} | "
            f"{_fmt(us['python']['p50'])} / {_fmt(us['python']['p99'])} | "
            f"{_fmt(entry['ratios']['service_vs_python_p50'], 2)} | "
            f"{_fmt(entry['ratios']['service_vs_zen_p50'], 3)} | {'yes' if entry['agree'] else 'NO'} |")
    inproc = results["in_process"]
    stages = inproc["stage_means_us"]
    lines += ["", "Full decision in process (bytes in, bytes out, shipped rules): "
              f"p50 {_fmt(inproc['us']['p50'])} µs, p99 {_fmt(inproc['us']['p99'])} µs "
              f"(≈ {_fmt(inproc['decisions_per_second_one_core'])} decisions/s on one core). Mean µs by stage: "
              + ", ".join(f"{name} {_fmt(value)}" for name, value in stages.items()) + "."]
    http = results.get("http")
    if http:
        lines += ["", f"HTTP, wrk {http['connections']} connections (median of the runs):", "",
                  "| workers | no-op req/s | decisions req/s | decisions / no-op | no-op p50 / p99 ms "
                  "| decisions p50 / p99 ms | RSS per worker after warm-up, MiB |",
                  "|---|---|---|---|---|---|---|"]
        for workers, entry in http["workers"].items():
            flow = entry.get("throughput")
            if not flow:
                continue
            noop, decide = flow["/bench/noop"], flow["/v1/decisions"]
            lines.append(f"| {workers} | {_fmt(noop['rps'], 0)} | {_fmt(decide['rps'], 0)} | "
                         f"{_fmt(flow['decide_vs_noop_rps'], 3)} | {_fmt(noop['latency_ms']['p50'], 2)} / "
                         f"{_fmt(noop['latency_ms']['p99'], 2)} | {_fmt(decide['latency_ms']['p50'], 2)} / "
                         f"{_fmt(decide['latency_ms']['p99'], 2)} | {entry['rss_after_warmup_mib']} |")
        for workers, entry in http["workers"].items():
            fixed = entry.get("fixed_rate")
            if fixed:
                decide, noop = fixed["/v1/decisions"], fixed["/bench/noop"]
                rounds = fixed.get("rounds", 1)
                each = " / ".join(_fmt(run["latency_ms"]["p99"], 2) for run in decide.get("runs", []))
                lines += ["", f"Fixed rate, open loop, {workers} workers, {_fmt(fixed['rate'], 0)} req/s (half the "
                          f"no-op ceiling), median of {rounds} alternating runs per route"
                          f"{f' (decision p99 per run: {each} ms)' if each else ''}: decisions p50 {_fmt(decide['latency_ms']['p50'], 2)} ms, p99 "
                          f"{_fmt(decide['latency_ms']['p99'], 2)} ms, max {_fmt(decide['latency_ms']['max'], 2)} ms "
                          f"({_fmt(decide['achieved_rps'], 0)} req/s achieved); no-op p50 "
                          f"{_fmt(noop['latency_ms']['p50'], 2)} ms, p99 {_fmt(noop['latency_ms']['p99'], 2)} ms. "
                          f"Generator lag p99 {_fmt(decide['lag_ms']['p99'], 2)} ms."]
                own = fixed.get("decisions_at_half_own_ceiling")
                if own:
                    lines[-1] += (f" At half the decision route's own ceiling ({_fmt(own['target_rps'], 0)} req/s): "
                                  f"p50 {_fmt(own['latency_ms']['p50'], 2)} ms, p99 {_fmt(own['latency_ms']['p99'], 2)}"
                                  f" ms, max {_fmt(own['latency_ms']['max'], 2)} ms.")
            memory = entry.get("memory")
            if memory and "error" in memory:
                lines += ["", f"Memory, {workers} workers: the run failed ({memory['error']})."]
            elif memory:
                routes = memory["decisions_by_route"]
                lines += ["", f"Memory, {workers} workers: RSS after warm-up {memory['rss_after_warmup_mib']} MiB, "
                          f"after {memory['decisions']:,} more decisions {memory['rss_after_mib']} MiB: growth "
                          f"{memory['growth_mib']} MiB per worker (each worker made about "
                          f"{memory['decisions'] // int(workers):,}; {routes['/v1/decisions']:,} came as single "
                          f"requests, {routes['/v1/decisions:batch']:,} in batches of 100). RSS samples: "
                          + ", ".join(f"{sample['rss_mib']}" for sample in memory["samples"]) + "."]
    lines += _pinned(results.get("pinned")) + _replay(results.get("replay")) + _cost(results.get("cost"))
    return "\n".join(lines)


def _pinned(pinned: dict[str, Any] | None) -> list[str]:
    if not pinned:
        return []
    if not pinned.get("ran"):
        return ["", f"Pinned tail latency: not measured ({pinned.get('reason')})."]
    lines = ["", f"Pinned (taskset): one worker on core {pinned['server_core']}, the generators on core "
             f"{pinned['generator_core']}; no-op ceiling of that worker {_fmt(pinned['noop_ceiling_rps'], 0)} req/s "
             f"({pinned['ceiling_from']}); open loop, {pinned['seconds']:g} s per route and level:", "",
             "| share of the no-op ceiling | req/s | decisions p50 / p99 ms | no-op p50 / p99 ms |", "|---|---|---|---|"]
    for level in pinned.get("levels", []):
        decide, noop = level["/v1/decisions"]["latency_ms"], level["/bench/noop"]["latency_ms"]
        lines.append(f"| {level['share']:.0%} | {_fmt(level['rate'], 0)} | {_fmt(decide['p50'], 2)} / "
                     f"{_fmt(decide['p99'], 2)} | {_fmt(noop['p50'], 2)} / {_fmt(noop['p99'], 2)} |")
    return lines


def _replay(replay: dict[str, Any] | None) -> list[str]:
    if not replay:
        return []
    one, two = replay["in_process"]["1"], replay["in_process"]["2"]
    lines = ["", f"Replay (`recovery simulate`, shipped rules against a candidate with the {replay['candidate_change']}, "
             f"both decided): {one['events']:,} events in one process {_fmt(one['events_per_second'])} events/s; "
             f"in 2 processes {_fmt(two['events_per_second'])} events/s ({_fmt(two['events_per_second_per_process'])} "
             f"per process); same report: {'yes' if replay['in_process']['same_report'] else 'NO'}.", "",
             "| events | file MiB | seconds (2 processes) | events/s |", "|---|---|---|---|"]
    for entry in replay.get("growth", []):
        lines.append(f"| {entry['events']:,} | {_fmt(entry.get('file_mib'))} | {_fmt(entry['seconds'], 2)} | "
                     f"{_fmt(entry['events_per_second'])} |")
    ray = replay.get("ray") or {}
    if ray.get("ran"):
        lines += ["", f"Ray Data (local cluster on this machine, JSONL ranges through `map_batches` with a callable "
                  f"class): {ray['events']:,} events in {_fmt(ray['seconds'], 2)} s ({_fmt(ray['events_per_second'])} "
                  f"events/s, start-up included); same report as in process: "
                  f"{'yes' if ray.get('same_report_as_in_process') else 'NO'}."]
    else:
        lines += ["", f"Ray Data: not run ({ray.get('reason')})."]
    return lines


def _cost(cost: list[dict[str, Any]] | None) -> list[str]:
    if not cost:
        return []
    lines = ["", "Cost as the rules grow (generated rules; each size in a fresh interpreter):", "",
             "| rules | durable rules / shards / groups | build s | service p50 / p99 µs (cache answered) "
             "| Rete alone p50 µs | Python p50 µs | RSS engine MiB | session state MiB | class cache MiB "
             "| RSS growth over 5,000 evaluations MiB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for entry in cost:
        if "error" in entry:
            lines.append(f"| {entry['rules']:,} | failed | | | | | | | | |")
            continue
        us, rss = entry["us"], entry["rss_mib"]
        lines.append(f"| {entry['rules']:,} | {entry['durable_rules']:,} / {entry['shards']} / {entry['groups']} | "
                     f"{_fmt(entry['build_seconds'], 2)} | {_fmt(us['service']['p50'])} / {_fmt(us['service']['p99'])} "
                     f"({_fmt(100 * entry['cache_hit_rate'], 0)}%) | {_fmt(us['rete']['p50'])} | "
                     f"{_fmt(us['python']['p50'])} | {_fmt(rss['engine'])} | {_fmt(rss.get('session'))} | "
                     f"{_fmt(rss['cache'])} | {_fmt(rss.get('after_warm_up'))} |")
    return lines


def update_readme(results: dict[str, Any], path: Path = README) -> None:
    text = path.read_text()
    if START not in text or END not in text:
        raise RuntimeError(f"{path} has no {START} ... {END} section to replace")
    section = f"{START}\n{table(results)}\n{END}"
    path.write_text(re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: section, text, flags=re.S))


def console(results: dict[str, Any]) -> str:
    lines = ["", "targets:"]
    for target in results["targets"]:
        lines.append(f"  {target['status']:<4} {target['what']}: {_fmt(target['measured'], 3)} "
                     f"(target {target['rule']})" + (f" [{target['reason']}]" if "reason" in target else ""))
    return "\n".join(lines)
