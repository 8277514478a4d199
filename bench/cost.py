"""Cost as the rules grow: evaluation time and memory at 10, 100, 1,000 and 5,000 generated rules.

Each size runs in a fresh interpreter (`python -m bench.cost SIZE DIR`), so its memory is its own:
resident memory before loading the rules and after building the engine (compile + the durable_rules
networks), the session state durable_rules allocates at the first evaluation (it is renewed every
`runtime.RENEW_EVERY` evaluations), the Python memory the class cache holds after the warm-up
(tracemalloc; a cache the probe found useless is let go of) and the RSS growth over the warm-up (the
warm-up events' own memory left out; the comparison engines are built only after these readings); then µs per evaluation (p50, p99) of the
engine as served (class cache warmed on other events), of the Rete network alone, and of the same
rules as Python predicates, interleaved event by event.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable

SIZES = (10, 100, 1000, 5000)


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def one(size: int, directory: Path, events_count: int = 300, warm_up: int = 5000) -> dict[str, Any]:
    from service.engine import compiler, loader
    from service.engine.runtime import Engine

    from . import events, rulesets, translate
    from .engines import _flats
    from .stats import summary_us

    rulesets.write(directory, size)
    before = _rss_mib()
    started = time.perf_counter()
    ruleset = loader.load_dir(directory)
    program = compiler.compile_ruleset(ruleset)
    engine = Engine(program, label=f"cost-{size}")
    build_seconds = time.perf_counter() - started
    built = _rss_mib()
    warm_flats = _flats(ruleset, events.bodies(warm_up, seed=3))[0]
    generated = _rss_mib()  # the warm-up events themselves, apart from what the engine keeps of them
    engine.evaluate(warm_flats[0])
    session = _rss_mib()  # durable_rules allocates a session's state at its first fact (runtime.RENEW_EVERY)
    tracemalloc.start()
    for flat in warm_flats:
        engine.match(flat)
    cache_bytes = tracemalloc.get_traced_memory()[0]  # what the warm-up left allocated: the class cache
    tracemalloc.stop()
    warmed = _rss_mib()
    del warm_flats
    # Built after the readings above, so the engine's figures hold nothing of the comparison engines.
    rete = Engine(program, label=f"cost-{size}-rete", cache_size=0)
    predicates = translate.python_matcher(ruleset)
    flats = _flats(ruleset, events.bodies(events_count))[0]
    calls: dict[str, Callable[[Any], Any]] = {"service": engine.match, "rete": rete.evaluate, "python": predicates}
    samples: dict[str, list[int]] = {key: [] for key in calls}
    clock = time.perf_counter_ns
    names = list(calls)
    for number, flat in enumerate(flats):
        shift = number % len(names)
        for key in names[shift:] + names[:shift]:
            started_ns = clock()
            calls[key](flat)
            samples[key].append(clock() - started_ns)
    asked, answered = engine.matches, engine.answered
    for flat in flats:
        engine.match(flat)
    result = {"rules": size, "durable_rules": program.rule_count, "shards": len(program.shards),
              "groups": len(program.classifier.groups) if program.classifier else 0,
              "build_seconds": round(build_seconds, 2),
              "rss_mib": {"before": before, "built": built, "warmed": warmed,
                          "engine": round(built - before, 1), "session": round(session - generated, 1),
                          "cache": round(cache_bytes / 2**20, 1), "after_warm_up": round(warmed - generated, 1)},
              "classes_held": engine.cached_classes,
              "us": {key: summary_us(values) for key, values in samples.items()},
              "cache_hit_rate": round((engine.answered - answered) / max(1, engine.matches - asked), 3)}
    engine.close()
    rete.close()
    return result


def measure(tmp: Path, log: Callable[[str], None], sizes: tuple[int, ...] = SIZES) -> list[dict[str, Any]]:
    out = []
    for size in sizes:
        log(f"  {size:,} rules")
        done = subprocess.run([sys.executable, "-m", "bench.cost", str(size), str(tmp / f"rules-cost-{size}")],
                              capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent,
                              timeout=900)
        if done.returncode != 0:
            out.append({"rules": size, "error": done.stderr[-500:]})
            log(f"    failed: {done.stderr[-300:]}")
            continue
        entry = json.loads(done.stdout.strip().splitlines()[-1])
        out.append(entry)
        us = entry["us"]
        log(f"    p50 µs service {us['service']['p50']}, rete {us['rete']['p50']}, python {us['python']['p50']}; "
            f"engine {entry['rss_mib']['engine']} MiB, session {entry['rss_mib']['session']} MiB, "
            f"cache {entry['rss_mib']['cache']} MiB")
    return out


if __name__ == "__main__":
    print(json.dumps(one(int(sys.argv[1]), Path(sys.argv[2]))))
