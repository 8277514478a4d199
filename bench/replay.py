"""Replays: `recovery simulate` in process (1 and 2 processes), as the file grows, and on Ray Data.

Events come from `service.authoring.samples.generate` (the distribution of samples/events.jsonl;
another seed), written as JSONL once per size. The baseline is the shipped rules and the
candidate a copy with one limit changed (the credit cap, 150 -> 120 EUR), so both sides are
really decided (the same rules on both sides are decided once, which would halve the work).
Each replay is `simulate.run` (or `rayreplay.run`) from the file to the summary, timed whole:
reading, validating, deciding twice, adding up; rules loading and worker start-up included.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import orjson

from service.authoring import samples, simulate

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"


def candidate(tmp: Path) -> Path:
    out = tmp / "rules-candidate"
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(RULES, out, ignore=shutil.ignore_patterns("cases", "invariants", "webhooks"))
    header = out / "ruleset.yaml"
    text = header.read_text()
    assert '    max: {EUR: "150.00"}' in text, "the shipped credit cap moved: update bench/replay.py"
    header.write_text(text.replace('    max: {EUR: "150.00"}', '    max: {EUR: "120.00"}'))
    return out


def events_file(tmp: Path, count: int) -> Path:
    path = tmp / f"replay-{count}.jsonl"
    if not path.exists() or path.stat().st_size == 0:
        with path.open("wb") as out:
            for event in samples.generate(count, seed=19):
                out.write(orjson.dumps(event) + b"\n")
    return path


def _timed(run: Callable[[], dict[str, Any]], count: int) -> dict[str, Any]:
    started = time.perf_counter()
    summary = run()
    seconds = time.perf_counter() - started
    assert summary["events"] == count, (summary["events"], count)
    return {"events": count, "seconds": round(seconds, 2), "events_per_second": round(count / seconds),
            "changed": summary["changed"], "summary_digest": _digest(summary)}


def _digest(summary: dict[str, Any]) -> str:
    import hashlib

    body = {key: value for key, value in summary.items() if key != "events_file"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def measure(tmp: Path, log: Callable[[str], None], quick: bool = False, ray: bool = True) -> dict[str, Any]:
    tmp.mkdir(parents=True, exist_ok=True)
    cand = candidate(tmp)
    cores = len(os.sched_getaffinity(0))
    target = 1_000 if quick else 100_000
    path = events_file(tmp, target)
    out: dict[str, Any] = {"cores": cores, "candidate_change": "credit cap 150 -> 120 EUR"}
    log(f"  in process: {target:,} events, 1 process")
    one = _timed(lambda: simulate.run(path, RULES, cand, workers=1, progress=False), target)
    log(f"    {one['events_per_second']:,} events/s")
    log(f"  in process: {target:,} events, 2 processes")
    two = _timed(lambda: simulate.run(path, RULES, cand, workers=2, progress=False), target)
    two["events_per_second_per_process"] = round(two["events_per_second"] / 2)
    log(f"    {two['events_per_second']:,} events/s ({two['events_per_second_per_process']:,} per process)")
    out["in_process"] = {"1": one, "2": two, "same_report": one["summary_digest"] == two["summary_digest"]}

    sizes = (1_000,) if quick else (10_000, 100_000, 1_000_000)
    growth = []
    for count in sizes:
        sized = events_file(tmp, count)
        log(f"  replay time, {count:,} events, 2 processes")
        entry = _timed(lambda: simulate.run(sized, RULES, cand, workers=2, progress=False), count)
        entry["file_mib"] = round(sized.stat().st_size / 2**20, 1)
        growth.append(entry)
        log(f"    {entry['seconds']} s")
    out["growth"] = growth

    out["ray"] = _ray(tmp, cand, sizes[-1], log, growth[-1]) if ray else {"ran": False, "reason": "not asked"}
    return out


def _ray(tmp: Path, cand: Path, count: int, log: Callable[[str], None], local: dict[str, Any]) -> dict[str, Any]:
    try:
        import ray  # noqa: F401

        from service.authoring import rayreplay
    except ImportError as exc:
        return {"ran": False, "reason": f"the `ray` extra is not installed ({exc})"}
    path = events_file(tmp, count)
    log(f"  Ray Data, local cluster: {count:,} events (JSONL)")
    try:
        entry = _timed(lambda: rayreplay.run(path, RULES, cand), count)
    except Exception as exc:  # a measurement, not a test: say what failed and go on
        return {"ran": False, "reason": f"{type(exc).__name__}: {str(exc)[:300]}"}
    finally:
        try:
            import ray

            ray.shutdown()
        except Exception:
            pass
    entry["ran"] = True
    entry["same_report_as_in_process"] = entry["summary_digest"] == local["summary_digest"]
    entry["format"] = "jsonl"
    log(f"    {entry['seconds']} s, {entry['events_per_second']:,} events/s; same report: "
        f"{entry['same_report_as_in_process']}")
    return entry
