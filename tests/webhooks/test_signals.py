"""Phrase matching and the lint of phrase lists (`python -m service.webhooks check`)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from service.engine.findings import RulesetInvalid
from service.webhooks import mapfile, signals
from tests.support import ROOT, RULES


def phrase_set(text: str) -> signals.PhraseSet:
    [found] = mapfile.load_phrases("p.yaml", textwrap.dedent(text).encode())
    return found


def texts(*items: str) -> list[tuple[str, str]]:
    return [(f"t{index}", signals.normalise(signals.plain_text(item) or "")) for index, item in enumerate(items)]


TYPES = phrase_set("""\
    failure.type:
      double_charge: [charged twice]
      damaged_item: [cracked, arrived broken]
      late_delivery: [days late]
    """)


@pytest.mark.parametrize("text, value, phrase", [
    ("The jug was CRACKED!", "damaged_item", "cracked"),
    ("the jug   was\ncracked", "damaged_item", "cracked"),
    ("It arrived\u00a0broken", "damaged_item", "arrived broken"),
    ("<p>I was <b>charged</b> twice</p>", "double_charge", "charged twice"),
    ("three days late and cracked", "damaged_item", "cracked"),   # the file's order decides, not the text's
    ("Crackers arrived", None, None),                               # whole words only
    ("", None, None),
])
def test_first_row_in_file_order_with_a_whole_word_phrase(text: str, value: str | None, phrase: str | None) -> None:
    hit = TYPES.first(texts(text))
    found = (hit.value, hit.phrase) if hit is not None else (None, None)
    assert found == (value, phrase)


def test_scripts_without_spaces_match_inside_words() -> None:
    chinese = phrase_set("context.customer_request:\n  refund: [退款]\n")
    hit = chinese.first(texts("我要退款，谢谢"))
    assert hit is not None and hit.value == "refund"


def test_atlassian_documents_are_read_as_text() -> None:
    doc = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "The lid arrived "},
        {"type": "text", "text": "broken", "marks": [{"type": "strong"}]}]}]}
    hit = TYPES.first([("d", signals.normalise(signals.plain_text(doc) or ""))])
    assert hit is not None and hit.value == "damaged_item"


def test_severity_cues_take_the_highest() -> None:
    cues = phrase_set("failure.severity:\n  3: [again]\n  5: [caught fire]\n  4: [ruined]\n")
    hit = cues.highest(texts("It broke again and ruined the carpet; then it caught fire."))
    assert hit is not None and hit.value == 5


@pytest.mark.parametrize("text, expected", [
    ("failure.type:\n  double_charge: [charged twice]\n  rude_agent: [charged twice]\n",
     "p.yaml:3: error phrase-twice: `charged twice` is listed under `rude_agent` and already under `double_charge`"),
    ("failure.type:\n  double_charge: []\n", "p.yaml:2: error empty-list: `failure.type: double_charge` lists no"),
    ("failure.type:\n  double_charge: ['  ']\n", "p.yaml:2: error bad-phrase: a phrase cannot be empty"),
    ("failure.type:\n  twice_charged: [charged twice]\n", None),
    ("failure.sevrity:\n  5: [fire]\n", "p.yaml:1: error unknown-field: `failure.sevrity` is not an event field"),
    ("order.amount.amount:\n  '5.00': [cheap]\n", "p.yaml:1: error schema: `order.amount.amount` cannot be set"),
    ("failure.root_cause:\n  carrier: [courier]\n", "p.yaml:2: error bad-value: `carrier`: expected one of provider"),
])
def test_phrase_file_mistakes_are_findings(text: str, expected: str | None) -> None:
    if expected is None:   # a slug the catalogue may not know is not the phrase file's business
        assert mapfile.load_phrases("p.yaml", text.encode())
        return
    with pytest.raises(RulesetInvalid) as caught:
        mapfile.load_phrases("p.yaml", text.encode())
    assert any(finding.render().startswith(expected) for finding in caught.value.findings), caught.value.findings


def test_a_phrase_an_earlier_one_always_beats_is_a_warning() -> None:
    findings = mapfile.check_phrases("p.yaml", b"failure.type:\n  billing_error: [charged]\n"
                                               b"  double_charge: [charged twice]\n")
    [warning] = findings
    assert warning.severity == "warning" and warning.line == 3
    assert "`charged twice` (`double_charge`) can never decide" in warning.message
    assert warning.hint == "move `double_charge` above `billing_error`, or drop one of the phrases"


def test_check_lints_the_shared_phrase_file(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(RULES / "webhooks", tmp_path / "webhooks")
    phrases = tmp_path / "webhooks" / "signals.yaml"
    phrases.write_text(phrases.read_text().replace("rude_agent: [rude,", "rude_agent: [broken, rude,"))
    command = [sys.executable, "-m", "service.webhooks", "check", str(tmp_path / "webhooks")]
    broken = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert broken.returncode == 1
    assert "error phrase-twice: `broken` is listed under `rude_agent` and already under `damaged_item`" in broken.stdout
    assert "zendesk.yaml" in broken.stdout and "phrases-invalid" in broken.stdout


def test_a_mapping_names_a_phrase_file_beside_it() -> None:
    base = "system: zendesk\nticket_id: {from: ticket.id}\nfields:\n  failure.type: {default: wrong_item}\n" \
           "  failure.severity: {default: 2}\n  failure.root_cause: {default: unknown}\n"
    with pytest.raises(RulesetInvalid) as caught:
        mapfile.load("zendesk.yaml", (base + "signals: {text: ticket.subject, phrases: ../secrets.yaml}\n").encode(),
                     "zendesk", lambda name: b"")
    assert "is not a phrase file's name" in caught.value.findings[0].message
    with pytest.raises(RulesetInvalid) as missing:
        mapfile.load("zendesk.yaml", (base + "signals: {text: ticket.subject, phrases: nope.yaml}\n").encode(),
                     "zendesk", lambda name: (_ for _ in ()).throw(FileNotFoundError(2, "No such file")))
    assert "cannot read the phrase file `nope.yaml`" in missing.value.findings[0].message
    inline = mapfile.load("zendesk.yaml", (base + "signals:\n  text: ticket.subject\n  phrases:\n"
                                           "    failure.type: {late_delivery: [late]}\n").encode(), "zendesk")
    assert inline.phrase_set("failure.type") is not None and inline.shared_files == ()
