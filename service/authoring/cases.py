"""Case tables: example events beside the rules, with what their decision must show.

A case file under `rules/cases/` holds a list of cases:

    cases:
      - note: a gold customer's parcel is 4 days late      # what the case is about
        event: {failure: {...}, customer: {...}, order: {...}}
        expect:                                            # only what is listed is checked
          refund: "40.00"          # amount, or null for no refund
          credit: "10.00"
          discount: 15             # percent, or null
          apology: sincere         # level
          approval: agent          # level (agent: no approval needed)
          fired: [outcome-firm-sev3]

`EXPECT_KEYS` lists every key `expect` accepts. `check()` compares an expectation
with a decision body (as the HTTP route returns it), so the same tables run in
pytest against a real server and in `recovery rules test` in process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import orjson
from pydantic import ValidationError

from ..engine.findings import Finding
from ..engine.registry import Snapshot
from ..engine.yamlsource import read
from ..models import event_from_json
from ..problems import from_errors, from_validation
from ..recovery.decide import EventRejected, decide

EXPECT_KEYS = {
    "status": "HTTP-like status: 200 (default) or 422 for an event the ruleset refuses",
    "refund": "refund amount string, or null",
    "credit": "credit amount string, or null",
    "credit_expires_in_days": "credit expiry in days",
    "discount": "discount percent, or null",
    "discount_valid_days": "discount validity in days",
    "replacement": "exchange, re_performance, repair, or null",
    "estimated_cost": "estimated cost amount string, or null",
    "currency": "the currency of the amounts",
    "apology": "apology level: none, standard, sincere, personal",
    "apology_from": "agent, supervisor or manager",
    "explanation": "true when the cause is explained",
    "respond_within_minutes": "response deadline in minutes, or null",
    "follow_up_within_hours": "follow-up in hours, or null",
    "approval": "who must approve, as the ruleset names the level (agent means none needed)",
    "approval_reasons_contain": "substrings that some approval reason contains",
    "root_cause_review": "true or false",
    "justice": "mapping of dimension to addressed (true/false)",
    "reason_contains": "mapping of dimension to a substring of its reason",
    "fired": "rule ids that must fire",
    "not_fired": "rule ids that must not fire",
    "fired_exactly": "the complete list of rule ids that fire, in order",
    "limits": "limit names that must clip something",
    "no_limits": "true when no limit may clip anything",
    "error_loc": "for status 422: the loc of an error, as a list",
    "error_contains": "for status 422: a substring of some error message",
    "owed": "the amounts of the owed lines, in order (a list of strings; [] for none)",
    "owed_kinds": "the kinds of the owed lines, in order",
    "owed_basis_contains": "a substring of some owed line's basis",
    "not_assessed_contains": "a substring of some not-assessed entitlement",
    "replacement_value": "the replacement's value (amount string), or null",
    "goodwill_cost": "costs.goodwill amount string",
    "alternatives": "the ids of the alternatives offered, in order ([] for none)",
    "recommended": "the id of the recommended alternative, or null",
    "answers_request": "true when the recommended alternative answers the customer's request",
    "offer_now": "mapping of refund/credit (amount), discount (percent), replacement (kind) to what the agent "
                 "may offer now (null: nothing of it)",
    "locale": "the locale the messages were rendered in",
    "locale_fallback": "true when the requested locale was not available",
    "apology_text_contains": "substrings the rendered apology contains",
    "explanation_contains": "substrings the rendered explanation contains",
    "note_contains": "substrings the rendered agent note contains",
}


@dataclass(frozen=True)
class Case:
    file: str
    line: int | None
    note: str
    event: Any
    expect: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Mismatch:
    key: str
    expected: Any
    actual: Any


@dataclass
class CaseResult:
    case: Case
    status: int
    mismatches: list[Mismatch] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.mismatches


def load_cases(directory: str | Path) -> tuple[list[Case], list[Finding]]:
    root = Path(directory)
    cases: list[Case] = []
    findings: list[Finding] = []
    if not root.is_dir():
        return cases, findings
    for path in sorted(root.glob("*.yaml")):
        if path.name.startswith("."):
            continue
        name = f"{root.name}/{path.name}"
        source, problems = read(name, path.read_bytes())
        findings.extend(problems)
        if source is None or problems:
            continue
        data = source.data
        if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
            findings.append(Finding("error", "cases", "a case file holds `cases:`, a list of cases", name, 1))
            continue
        for index, raw in enumerate(data["cases"]):
            line = source.line_of(("cases", index))
            if not isinstance(raw, dict) or set(raw) - {"note", "event", "expect"}:
                findings.append(Finding("error", "cases", "a case has exactly `note`, `event` and `expect`",
                                        name, line))
                continue
            note, event, expect = raw.get("note"), raw.get("event"), raw.get("expect")
            if not isinstance(note, str) or not note.strip():
                findings.append(Finding("error", "cases", "every case needs a `note` saying what it is about",
                                        name, line))
                continue
            if not isinstance(expect, dict) or not expect:
                findings.append(Finding("error", "cases", f"case `{note}` expects nothing", name, line))
                continue
            unknown = sorted(set(expect) - set(EXPECT_KEYS))
            if unknown:
                findings.append(Finding("error", "cases", f"case `{note}`: unknown expect key(s) "
                                        f"{', '.join(unknown)}", name, source.line_of(("cases", index, "expect")),
                                        None, f"expect takes {', '.join(EXPECT_KEYS)}"))
                continue
            shape = _misshapen(expect)
            if shape is not None:
                findings.append(Finding("error", "cases", f"case `{note}`: `{shape}` takes {EXPECT_KEYS[shape]}",
                                        name, source.line_of(("cases", index, "expect", shape)) or line))
                continue
            cases.append(Case(name, line, note.strip(), event, expect))
    return cases, findings


_MAPPINGS = ("justice", "reason_contains", "offer_now")
_LISTS = ("approval_reasons_contain", "fired", "not_fired", "fired_exactly", "limits", "error_loc", "owed",
          "owed_kinds", "alternatives", "apology_text_contains", "explanation_contains", "note_contains")


def _misshapen(expect: dict[str, Any]) -> str | None:
    """The first expect key whose value has the wrong shape (a text where a mapping or a list is
    taken), which would otherwise fail only when the case runs."""
    for key, value in expect.items():
        if key in _MAPPINGS and not isinstance(value, dict) or key in _LISTS and not isinstance(value, list):
            return key
    return None


def _amount(value: Any) -> str | None:
    return None if value is None else value.get("amount")


def _get(decision: dict[str, Any], key: str) -> Any:
    mix = decision["mix"]
    if key == "refund":
        return _amount(mix["refund"])
    if key == "credit":
        return _amount(mix["credit"])
    if key == "credit_expires_in_days":
        return None if mix["credit"] is None else mix["credit"]["expires_in_days"]
    if key == "discount":
        return None if mix["discount"] is None else mix["discount"]["percent"]
    if key == "discount_valid_days":
        return None if mix["discount"] is None else mix["discount"]["valid_days"]
    if key == "replacement":
        return None if mix.get("replacement") is None else mix["replacement"]["kind"]
    if key == "estimated_cost":
        return _amount(decision["estimated_cost"])
    if key == "currency":
        return None if decision["estimated_cost"] is None else decision["estimated_cost"]["currency"]
    if key == "apology":
        return mix["apology"]["level"]
    if key == "apology_from":
        return mix["apology"]["from"]
    if key == "explanation":
        return mix["apology"]["explanation"]
    if key in ("respond_within_minutes", "follow_up_within_hours"):
        return decision["justice"]["procedural"][key]
    if key == "approval":
        return decision["approval"].get("approver", decision["approval"]["level"])
    if key == "root_cause_review":
        return decision["process_recovery"]["root_cause_review"]
    if key == "owed":
        return [line["amount"]["amount"] for line in decision.get("owed", [])]
    if key == "owed_kinds":
        return [line["kind"] for line in decision.get("owed", [])]
    if key == "replacement_value":
        replacement = mix.get("replacement")
        return None if replacement is None else _amount(replacement.get("value"))
    if key == "goodwill_cost":
        return None if decision.get("costs") is None else decision["costs"]["goodwill"]["amount"]
    if key == "alternatives":
        return [option["id"] for option in decision.get("alternatives", [])]
    if key == "recommended":
        return next((option["id"] for option in decision.get("alternatives", []) if option["recommended"]), None)
    if key == "answers_request":
        return next((option["answers_request"] for option in decision.get("alternatives", [])
                     if option["recommended"]), False)
    if key == "locale":
        return decision["messages"]["locale"]
    if key == "locale_fallback":
        return decision["messages"].get("fallback", False)
    raise KeyError(key)


_TEXTS = {"owed_basis_contains": lambda d: [line["basis"] for line in d.get("owed", [])],
          "not_assessed_contains": lambda d: [item["what"] for item in d.get("not_assessed", [])],
          "apology_text_contains": lambda d: [d["messages"]["apology"] or ""],
          "explanation_contains": lambda d: [d["messages"]["explanation"] or ""],
          "note_contains": lambda d: [d["messages"]["agent_note"]]}


def _spaced(text: str) -> str:
    """Case-insensitive, with the no-break spaces locales put in amounts read as spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ").lower()


def _offer_now(now: dict[str, Any], name: str) -> Any:
    value = now.get(name)
    if value is None:
        return None
    if name in ("refund", "credit"):
        return value["amount"]
    return value["percent"] if name == "discount" else value["kind"]


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) and isinstance(actual, str):
        return str(expected) == actual
    return bool(expected == actual)


def check(expect: dict[str, Any], status: int, body: dict[str, Any]) -> list[Mismatch]:
    """What in `body` (a decision, or a problem when status is not 200) differs from `expect`."""
    out: list[Mismatch] = []
    wanted_status = expect.get("status", 200)
    if status != wanted_status:
        detail = body.get("detail") if status != 200 else "a decision"
        return [Mismatch("status", wanted_status, f"{status}: {detail}")]
    if status != 200:
        if "error_loc" in expect:
            locs = [error["loc"] for error in body.get("errors", [])]
            if expect["error_loc"] not in locs:
                out.append(Mismatch("error_loc", expect["error_loc"], locs))
        if "error_contains" in expect:
            messages = [error["msg"] for error in body.get("errors", [])]
            if not any(expect["error_contains"].lower() in message.lower() for message in messages):
                out.append(Mismatch("error_contains", f"contains {expect['error_contains']!r}", messages))
        return out
    fired = [rule["id"] for rule in body["rules_fired"]]
    limits = [entry["limit"] for entry in body.get("limits_applied", [])]
    for key, expected in expect.items():
        if key in ("status", "error_loc", "error_contains"):
            continue
        if key == "justice":
            for dimension, addressed in expected.items():
                actual = body["justice"][dimension]["addressed"]
                if actual != addressed:
                    out.append(Mismatch(f"justice.{dimension}", addressed, actual))
        elif key == "reason_contains":
            for dimension, text in expected.items():
                reason = body["justice"][dimension].get("reason") or ""
                if text.lower() not in reason.lower():
                    out.append(Mismatch(f"reason.{dimension}", f"contains {text!r}", reason or None))
        elif key == "approval_reasons_contain":
            reasons = body["approval"]["reasons"]
            for text in expected:
                if not any(text.lower() in reason.lower() for reason in reasons):
                    out.append(Mismatch("approval_reasons", f"contains {text!r}", reasons))
        elif key == "fired":
            missing = [rule for rule in expected if rule not in fired]
            if missing:
                out.append(Mismatch("fired", expected, fired))
        elif key == "not_fired":
            unexpected = [rule for rule in expected if rule in fired]
            if unexpected:
                out.append(Mismatch("not_fired", expected, fired))
        elif key == "fired_exactly":
            if list(expected) != fired:
                out.append(Mismatch("fired_exactly", expected, fired))
        elif key == "limits":
            missing = [limit for limit in expected if not any(applied.startswith(limit) for applied in limits)]
            if missing:
                out.append(Mismatch("limits", expected, limits))
        elif key == "no_limits":
            if expected and limits:
                out.append(Mismatch("no_limits", [], limits))
        elif key in _TEXTS:
            texts = [_spaced(item) for item in _TEXTS[key](body)]
            wanted = [expected] if isinstance(expected, str) else list(expected)
            for text in wanted:
                if not any(_spaced(text) in item for item in texts):
                    out.append(Mismatch(key, f"contains {text!r}", texts))
        elif key == "offer_now":
            now = body["approval"].get("agent_may_offer_now") or {}
            for name, value in expected.items():
                actual = _offer_now(now, name)
                if not _same(value, actual):
                    out.append(Mismatch(f"offer_now.{name}", value, actual))
        else:
            actual = _get(body, key)
            if not _same(expected, actual):
                out.append(Mismatch(key, expected, actual))
    return out


Decider = Callable[[Any], tuple[int, dict[str, Any]]]


def local_decider(snapshot: Snapshot) -> Decider:
    """Decide case events in process, exactly as POST /v1/decisions would."""

    def run(event: Any) -> tuple[int, dict[str, Any]]:
        try:
            parsed = event_from_json(orjson.dumps(event))
            return 200, decide(snapshot, parsed)
        except ValidationError as exc:
            problem = from_validation(exc)
        except EventRejected as exc:
            problem = from_errors(exc.errors)
        return problem.status, problem.body()

    return run


def run_case(case: Case, decide: Decider) -> CaseResult:
    status, body = decide(case.event)
    result = CaseResult(case, status, check(case.expect, status, body))
    if status == 200:
        result.fired = [rule["id"] for rule in body["rules_fired"]]
    return result
