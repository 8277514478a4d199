"""Engine evaluation, side by side: the service's engine, zen-engine and plain Python predicates.

For one rules directory: load it with the real loader, build the service's engine
(`compile_ruleset` -> `Engine`), the same rules as a zen-engine decision table
and as Python predicates (bench/translate.py), normalise the shared events
(`normalize`), check that all three match the same rules for every event, then
time one evaluation at a time. The three are interleaved event by event, in a
rotating order, so that a noisy neighbour slows all three alike and the ratios
hold even when the absolute figures do not.

What each timing covers, from the flat event to the matching rule indexes:
- service: `Engine.match(flat)` as the service runs it: the event's class in each group of
  rules (service/engine/classes.py) looked up in the engine's cache, the Rete network asked
  only for classes not seen before. The cache is warmed first on other events from the same
  generator (another seed), so the figure is the steady state of a live worker, not a replay
  of events already seen; the share of measured events answered from the cache is reported;
- rete: the same engine without the cache, `Engine.evaluate(flat)`: every event through the
  network (fact JSON, the durable_rules C binding, the action queue, sorting);
- zen: `ZenDecision.evaluate(input)` from Python, the input dict prepared ahead
  (zen's own figure, `zen_core`, is what it reports in `performance`: the table
  evaluation without the Python binding's cost);
- python: the compiled predicate function.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import zen

from service.engine import compiler, loader
from service.engine.runtime import Engine
from service.models import FailureEvent
from service.recovery.normalize import EventRejected, normalize

from . import translate
from .stats import ratio, summary_us

ENGINES = ("service", "rete", "zen", "python")
WARM_UP = 20_000  # events that warm the class cache before the timed ones (another seed)
_UNITS = {"ns": 1, "µs": 1_000, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


def zen_reported_ns(performance: str) -> int:
    """zen's `performance` string ("70.4µs", "2.1ms") in nanoseconds."""
    found = re.fullmatch(r"\s*([0-9.]+)\s*(ns|µs|us|ms|s)\s*", performance)
    if found is None:
        raise ValueError(f"unexpected zen performance figure {performance!r}")
    return round(float(found.group(1)) * _UNITS[found.group(2)])


def _flats(ruleset: Any, bodies: Sequence[bytes]) -> tuple[list[dict[str, Any]], int]:
    flats, rejected = [], 0
    for body in bodies:
        try:
            flats.append(normalize(FailureEvent.model_validate_json(body), ruleset))
        except EventRejected:
            rejected += 1
    return flats, rejected


def compare(name: str, directory: Path, bodies: Sequence[bytes], rounds: int,
            warm_up: Sequence[bytes] = ()) -> dict[str, Any]:
    ruleset = loader.load_dir(directory)
    program = compiler.compile_ruleset(ruleset)
    engine = Engine(program, label=f"bench-{name}")
    rete = Engine(program, label=f"bench-{name}-rete", cache_size=0)
    try:
        for flat in _flats(ruleset, warm_up)[0]:
            engine.match(flat)
        asked_before, answered_before = engine.matches, engine.answered
        graph, fields = translate.zen_table(ruleset)
        decision = zen.ZenEngine().create_decision(json.dumps(graph))
        predicates = translate.python_matcher(ruleset)
        flats, rejected = _flats(ruleset, bodies)
        zen_inputs = [translate.zen_input(flat, fields) for flat in flats]

        matches, disagreements = [], []
        for number, (flat, zen_input) in enumerate(zip(flats, zen_inputs)):
            answers = {"service": engine.match(flat), "rete": rete.evaluate(flat),
                       "zen": translate.zen_matches(decision.evaluate(zen_input)),
                       "python": predicates(flat)}
            matches.append(len(answers["service"]))
            if not answers["service"] == answers["rete"] == answers["zen"] == answers["python"]:
                disagreements.append({"event": number, **{
                    key: [ruleset.rules[index].id for index in value] for key, value in answers.items()}})

        calls: dict[str, tuple[Callable[[Any], Any], Sequence[Any]]] = {
            "service": (engine.match, flats), "rete": (rete.evaluate, flats), "zen": (decision.evaluate, zen_inputs),
            "python": (predicates, flats)}
        samples: dict[str, list[int]] = {key: [] for key in ENGINES}
        zen_core: list[int] = []
        clock = time.perf_counter_ns
        for round_number in range(rounds):
            for number in range(len(flats)):
                shift = (number + round_number) % len(ENGINES)
                for key in ENGINES[shift:] + ENGINES[:shift]:
                    call, inputs = calls[key]
                    started = clock()
                    out = call(inputs[number])
                    samples[key].append(clock() - started)
                    if key == "zen":
                        zen_core.append(zen_reported_ns(out["performance"]))
        # The share of the measured evaluations (agreement pass and timed rounds) the cache answered.
        cache = {"groups": len(program.classifier.groups) if program.classifier else 0,
                 "classes": sum(len(part) for part in engine._caches), "warm_up_events": len(warm_up),
                 "hit_rate": round((engine.answered - answered_before) / max(1, engine.matches - asked_before), 4),
                 "probes": list(engine.probes), "bypassing": engine._bypass > 0}
    finally:
        engine.close()
        rete.close()

    timings = {key: summary_us(values) for key, values in samples.items()}
    timings["zen_core"] = summary_us(zen_core)
    service = timings["service"]
    return {
        "ruleset": name, "directory": str(directory), "rules": len(ruleset.rules),
        "durable_rules": program.rule_count, "shards": len(program.shards),
        "zen_rows": len(graph["nodes"][1]["content"]["rules"]), "events": len(flats), "rejected": rejected,
        "matches_per_event": {"mean": round(sum(matches) / max(1, len(matches)), 2),
                              "min": min(matches, default=0), "max": max(matches, default=0)},
        "agree": not disagreements, "disagreements": len(disagreements), "examples": disagreements[:3],
        "us": timings, "cache": cache,
        "ratios": {"service_vs_zen_p50": ratio(service["p50"], timings["zen"]["p50"]),
                   "service_vs_zen_p99": ratio(service["p99"], timings["zen"]["p99"]),
                   "service_vs_zen_core_p50": ratio(service["p50"], timings["zen_core"]["p50"]),
                   "service_vs_python_p50": ratio(service["p50"], timings["python"]["p50"]),
                   "rete_vs_python_p50": ratio(timings["rete"]["p50"], timings["python"]["p50"])},
    }
