"""The full decision in process: request bytes to response bytes, without HTTP.

One sample is what POST /v1/decisions does between reading the body and writing
the response: `FailureEvent.model_validate_json(body)`, `decide(snapshot, event)`
and `orjson.dumps(decision)`. The same events are then timed stage by stage
(validation, normalisation, engine match, the rest of `decide` = combine and
render, serialisation) to show where the in-process time goes; the stages are
timed in separate passes, so they add up only roughly to the whole.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

import orjson

from service.engine.registry import load_snapshot
from service.models import FailureEvent
from service.recovery.decide import EventRejected, decide
from service.recovery.normalize import normalize

from .stats import summary_us


def measure(directory: Path, bodies: Sequence[bytes], rounds: int) -> dict[str, Any]:
    snapshot = load_snapshot(directory)
    clock = time.perf_counter_ns
    try:
        events = [FailureEvent.model_validate_json(body) for body in bodies]
        decided = [body for body, event in zip(bodies, events) if _decides(snapshot, event)]
        full: list[int] = []
        for _ in range(rounds):
            for body in decided:
                started = clock()
                orjson.dumps(decide(snapshot, FailureEvent.model_validate_json(body)))
                full.append(clock() - started)

        stages: dict[str, list[int]] = {"validate": [], "normalize": [], "match": [], "decide": [], "dumps": []}
        ruleset, engine = snapshot.ruleset, snapshot.engine
        for _ in range(max(1, rounds // 2)):
            for body in decided:
                started = clock()
                event = FailureEvent.model_validate_json(body)
                stages["validate"].append(clock() - started)
                started = clock()
                flat = normalize(event, ruleset)
                stages["normalize"].append(clock() - started)
                started = clock()
                engine.match(flat)
                stages["match"].append(clock() - started)
                started = clock()
                decision = decide(snapshot, event)
                stages["decide"].append(clock() - started)
                started = clock()
                orjson.dumps(decision)
                stages["dumps"].append(clock() - started)
    finally:
        snapshot.engine.close()
    summaries = {name: summary_us(values) for name, values in stages.items()}
    rest = summaries["decide"]["mean"] - summaries["normalize"]["mean"] - summaries["match"]["mean"]
    whole = summary_us(full)
    return {
        "events": len(decided), "rejected": len(bodies) - len(decided), "us": whole,
        "decisions_per_second_one_core": round(1e6 / whole["mean"]) if whole["mean"] else None,
        "stages_us": summaries,
        "stage_means_us": {"validate": summaries["validate"]["mean"], "normalize": summaries["normalize"]["mean"],
                           "match": summaries["match"]["mean"], "combine_render": round(rest, 2),
                           "dumps": summaries["dumps"]["mean"]},
    }


def _decides(snapshot: Any, event: FailureEvent) -> bool:
    try:
        decide(snapshot, event)
    except EventRejected:
        return False
    return True
