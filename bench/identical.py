"""Byte identity of decisions: digests of what the shipped rules decide for a fixed corpus.

Speed work on the decision path must not change a byte of any answer. This module decides a
fixed corpus of events under the shipped rules and writes one digest per decision (SHA-256 of
the response bytes, plain and with `explain`) to `tests/recovery/identical.txt`, which
`tests/recovery/test_identical.py` compares with what the code decides now.

    python -m bench.identical            compare; exit 1 and name the first event that differs
    python -m bench.identical --write    regenerate the file (only for an intended rule change)

The corpus: `samples/events.jsonl` (3,000 events), the benchmark's 500 events, every event of
the case tables under `rules/cases/`, and variants of the benchmark's events that carry the
ruleset's facts, a locale (each locale of the shipped messages, a regional tag, one without
texts) and a customer's request, so that alternatives, owed lines from facts and every
locale's money formats are covered. Rejected events count too (their problem list).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any, Iterator

import orjson
from pydantic import ValidationError

from service.engine.registry import Snapshot, load_snapshot
from service.authoring.cases import load_cases
from service.models import FailureEvent
from service.recovery.decide import EventRejected, decide

from . import events as bench_events

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
SAMPLES = ROOT / "samples" / "events.jsonl"
DIGESTS = ROOT / "tests" / "recovery" / "identical.txt"
LOCALES = ("en", "id", "zh-CN", "lv", "en-GB", "zh-TW", "de-DE", "xx-QQ")
REQUESTS = ("refund", "credit", "discount", "replacement", "apology")


def _variant(number: int, event: dict[str, Any]) -> dict[str, Any]:
    """The same event with facts, a locale and a request, chosen by its number."""
    out = orjson.loads(orjson.dumps(event))
    context = out.setdefault("context", {})
    context["locale"] = LOCALES[number % len(LOCALES)]
    context["customer_request"] = REQUESTS[number % len(REQUESTS)]
    if out["failure"]["type"] == "service_outage" or number % 3 == 0:
        out["facts"] = {"downtime_hours": (number * 7) % 200, "sla_credit_percent": (number * 13) % 101}
        if number % 2:
            out["facts"]["billing_period_hours"] = 168 + number % 600
    return out


def corpus() -> Iterator[tuple[str, bytes]]:
    """(label, request body) for every event the digests cover, in a fixed order."""
    with SAMPLES.open("rb") as source:
        for number, line in enumerate(source, start=1):
            if line.strip():
                yield f"samples:{number}", line.strip()
    generated = bench_events.events(500)
    for number, event in enumerate(generated):
        yield f"bench:{number}", orjson.dumps(event)
    cases, _ = load_cases(RULES / "cases")
    for case in cases:
        yield f"case:{case.where}", orjson.dumps(case.event, default=str)
    for number, event in enumerate(generated):
        yield f"variant:{number}", orjson.dumps(_variant(number, event))


def answer(snapshot: Snapshot, body: bytes, explain: bool) -> bytes:
    """The bytes a client would get for the body: the decision, or the rejection's errors."""
    try:
        event = FailureEvent.model_validate_json(body)
    except ValidationError as exc:
        return b"invalid:" + orjson.dumps(exc.errors(include_url=False), default=str)
    try:
        return orjson.dumps(decide(snapshot, event, explain=explain))
    except EventRejected as exc:
        return b"rejected:" + orjson.dumps(exc.errors)


def digests(snapshot: Snapshot) -> list[str]:
    """One line per event: label, digest of the plain decision, digest with explain."""
    lines = []
    for label, body in corpus():
        plain = hashlib.sha256(answer(snapshot, body, False)).hexdigest()[:12]
        explained = hashlib.sha256(answer(snapshot, body, True)).hexdigest()[:12]
        lines.append(f"{label} {plain} {explained}")
    return lines


def compare(expected: list[str], actual: list[str]) -> list[str]:
    """The lines that differ (at most 5), as readable messages; empty when identical."""
    problems = []
    if len(expected) != len(actual):
        problems.append(f"{len(actual)} events decided, {len(expected)} digests stored")
    for old, new in zip(expected, actual):
        if old != new:
            problems.append(f"stored {old!r}, now {new!r}")
            if len(problems) >= 5:
                break
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.identical", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="regenerate the digests (an intended rule change)")
    args = parser.parse_args(argv)
    snapshot = load_snapshot(RULES)
    try:
        lines = digests(snapshot)
    finally:
        snapshot.engine.close()
    if args.write:
        DIGESTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {len(lines)} digests to {DIGESTS.relative_to(ROOT)}")
        return 0
    problems = compare(DIGESTS.read_text(encoding="utf-8").splitlines(), lines)
    for problem in problems:
        print(problem)
    print("identical" if not problems else "decisions differ")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
