"""The targets issues 7 and 19 set, checked against one run's figures.

A target is PASS or MISS when the run measured what it names, and `n/a` when it
did not (the quick mode sends no 1,000,000 decisions and runs no wrk); `n/a` is
never counted as met.
"""

from __future__ import annotations

from typing import Any

NOOP = "/bench/noop"
DECIDE = "/v1/decisions"


def _target(key: str, what: str, measured: float | None, limit: float, better: str,
            reason: str | None = None) -> dict[str, Any]:
    if measured is None or measured != measured:  # absent or NaN
        status = "n/a"
    elif better == "lower":
        status = "PASS" if measured <= limit else "MISS"
    else:
        status = "PASS" if measured >= limit else "MISS"
    out = {"key": key, "what": what, "measured": measured, "limit": limit,
           "rule": f"{'<=' if better == 'lower' else '>='} {limit}", "status": status}
    if status == "n/a":
        out["reason"] = reason or "not measured in this run"
    return out


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    engines = {entry["ruleset"]: entry for entry in results.get("engines", [])}
    shipped = engines.get("shipped", {}).get("ratios", {}).get("service_vs_zen_p50")
    largest = engines.get("generated-1000", {}).get("ratios", {}).get("service_vs_zen_p50")
    http = results.get("http") or {}
    two = http.get("workers", {}).get("2", {})
    throughput = two.get("throughput", {}).get("decide_vs_noop_rps")
    fixed = two.get("fixed_rate", {}).get(DECIDE, {}).get("latency_ms", {}).get("p99")
    memory = two.get("memory", {})
    decisions = memory.get("decisions", 0)
    growth = memory.get("max_growth_mib") if decisions >= 1_000_000 else None
    growth_reason = (f"only {decisions:,} decisions fitted in the time budget (machine busy)"
                     if memory.get("planned", 0) >= 1_000_000 else "needs 1,000,000 decisions (full mode)")
    if "error" in memory:
        growth_reason = f"the memory run failed: {memory['error']}"
    ratio_shipped = engines.get("shipped", {}).get("ratios", {}).get("service_vs_python_p50")
    ratio_largest = engines.get("generated-1000", {}).get("ratios", {}).get("service_vs_python_p50")
    pinned = results.get("pinned") or {}
    half = next((level for level in pinned.get("levels", []) if level["share"] == 0.5), {})
    pinned_p99 = half.get(DECIDE, {}).get("latency_ms", {}).get("p99")
    replay = results.get("replay") or {}
    in_process = replay.get("in_process") or {}
    one = (in_process.get("1") or {}).get("events_per_second")
    two = (in_process.get("2") or {}).get("events_per_second_per_process")
    ray = replay.get("ray") or {}
    ray_same = (1.0 if ray.get("same_report_as_in_process") else 0.0) if ray.get("ran") else None
    ray_events = ray.get("events", 0) if ray.get("ran") else 0
    ledger = results.get("ledger") or {}
    ledger_rps = (ledger.get("throughput") or {}).get("sqlite_vs_off_rps")
    ledger_pg_rps = (ledger.get("throughput") or {}).get("postgresql_vs_off_rps")
    lost = (ledger.get("outage") or {}).get("lost")
    return [
        _target("engine_shipped_vs_python", "engine p50 on the shipped ruleset, as a multiple of plain Python's",
                ratio_shipped, 3.0, "lower"),
        _target("engine_1000_vs_python", "engine p50 on 1,000 generated rules, as a multiple of plain Python's",
                ratio_largest, 3.0, "lower"),
        _target("engine_shipped_vs_zen", "engine p50 on the shipped ruleset, as a share of zen-engine's",
                shipped, 0.3, "lower"),
        _target("engine_1000_vs_zen", "engine p50 on 1,000 generated rules, as a share of zen-engine's",
                largest, 0.3, "lower"),
        _target("decisions_vs_noop_rps_2w", "POST /v1/decisions req/s as a share of the no-op route's, 2 workers",
                throughput, 0.85, "higher", "needs wrk and 2 workers (full mode)"),
        _target("p99_at_half_ceiling_ms", "POST /v1/decisions p99 (ms) at half the no-op ceiling, 2 workers",
                fixed, 5.0, "lower", "needs the no-op ceiling from wrk with 2 workers (full mode)"),
        _target("pinned_p99_at_half_ceiling_ms", "POST /v1/decisions p99 (ms) at half the no-op ceiling, one worker "
                "and the generator pinned to a core each", pinned_p99, 5.0, "lower",
                pinned.get("reason") or "needs taskset and 2 cores"),
        _target("replay_events_per_s_1p", "recovery simulate, events/s in one process (two rulesets decided)",
                float(one) if one else None, 20000, "higher"),
        _target("replay_events_per_s_per_process_2p", "recovery simulate, events/s per process with 2 processes",
                float(two) if two else None, 20000, "higher"),
        _target("ray_replay_same_report", f"Ray Data replay of {ray_events:,} events gives the in-process report "
                "(1 = yes)", ray_same, 1.0, "higher", ray.get("reason") or "needs the `ray` extra (full mode)"),
        _target("rss_growth_1m_mib", "largest worker RSS growth (MiB) over 1,000,000 decisions",
                growth, 5.0, "lower", growth_reason),
        _target("ledger_sqlite_vs_off_rps", "POST /v1/decisions req/s with the ledger on (SQLite) as a share of off",
                ledger_rps, 0.85, "higher", "needs wrk (full or --ledger-only mode)"),
        _target("ledger_postgresql_vs_off_rps", "the same with the ledger on PostgreSQL",
                ledger_pg_rps, 0.85, "higher", "needs wrk and PostgreSQL (full or --ledger-only mode)"),
        _target("ledger_outage_lost", "decisions answered during a PostgreSQL outage missing from it afterwards",
                float(lost) if lost is not None else None, 0, "lower", "needs PostgreSQL (full or --ledger-only mode)"),
    ]
