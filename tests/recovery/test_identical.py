"""Every decision of a fixed corpus is byte for byte what the stored digests say.

The digests (`tests/recovery/identical.txt`) were written by `python -m bench.identical --write`
from the shipped rules; speed work on the decision path must leave every byte alone, so a
change here means either a regression or an intended rule change (then regenerate them).
"""

from __future__ import annotations

import pytest

from bench import identical
from service.engine.registry import load_snapshot


@pytest.fixture(scope="module")
def snapshot():
    snapshot = load_snapshot(identical.RULES)
    yield snapshot
    snapshot.engine.close()


def test_the_corpus_covers_what_the_decision_path_does(snapshot):
    labels = [label for label, _ in identical.corpus()]
    kinds = {label.split(":")[0] for label in labels}
    assert kinds == {"samples", "bench", "case", "variant"}
    assert len(labels) == len(set(labels)) > 4000


def test_every_decision_is_byte_identical_to_the_stored_digests(snapshot):
    stored = identical.DIGESTS.read_text(encoding="utf-8").splitlines()
    problems = identical.compare(stored, identical.digests(snapshot))
    assert not problems, "decisions changed (regenerate with `python -m bench.identical --write` only for " \
                         "an intended rule change):\n" + "\n".join(problems)


def test_a_changed_decision_is_caught(snapshot):
    stored = identical.DIGESTS.read_text(encoding="utf-8").splitlines()
    label, body = next(identical.corpus())
    altered = identical.answer(snapshot, body.replace(b'"severity":3', b'"severity":5'), False)
    assert altered != identical.answer(snapshot, body, False)
    changed = [stored[0].replace(stored[0].split()[1], "0" * 12)] + stored[1:]
    assert identical.compare(stored, changed) and label in identical.compare(stored, changed)[0]


def test_the_replay_summary_is_the_full_decisions_parts(snapshot):
    """`recovery simulate` reads `outcome_summary`, which combines only the recommended option: it must say
    exactly what the full decision says, for every event of the corpus."""
    from service.models import FailureEvent
    from service.recovery.decide import SUMMARY_KEYS, EventRejected, decide, outcome_summary

    compared = 0
    for label, body in identical.corpus():
        try:
            event = FailureEvent.model_validate_json(body)
            full = decide(snapshot, event)
        except (ValueError, EventRejected):
            continue
        assert outcome_summary(snapshot, event) == {key: full[key] for key in SUMMARY_KEYS}, label
        compared += 1
    assert compared > 4000
