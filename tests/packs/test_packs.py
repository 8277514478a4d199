"""The published-policy packs under rules/packs: each passes `recovery rules test` at 100% rule
coverage, serves on its own (one real server per pack, over HTTP: a decision per failure type,
its case tables, a refused event naming a missing fact), and composes with goodwill
(rules/examples)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from service.authoring.cases import load_cases, run_case
from service.cli import main
from service.engine.loader import load_dir
from tests.support import RULES, running_server

PACKS = sorted(path.name for path in (RULES / "packs").iterdir() if (path / "ruleset.yaml").is_file())
EXAMPLES = sorted(path.name for path in (RULES / "examples").iterdir() if (path / "ruleset.yaml").is_file())


def rules_test(capsys: pytest.CaptureFixture[str], directory: Path, *args: str) -> tuple[int, str]:
    status = main(["rules", "test", str(directory), *args])
    return status, capsys.readouterr().out


@pytest.mark.parametrize("pack", PACKS)
def test_the_pack_passes_its_cases_and_invariants_at_full_coverage(pack: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    status, out = rules_test(capsys, RULES / "packs" / pack, "--min-coverage", "100", "--examples", "25")
    assert status == 0, out
    assert " 0 failed" in out and "rules fired by a case (100.0%)" in out and " 0 broken" in out, out


@pytest.mark.parametrize("example", EXAMPLES)
def test_a_composed_example_passes_its_cases(example: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = rules_test(capsys, RULES / "examples" / example, "--no-invariants")
    assert status == 0, out
    assert " 0 failed" in out


def test_every_pack_named_by_the_issue_is_here() -> None:
    assert {"eu261"} <= set(PACKS)


@pytest.fixture(scope="module")
def pack(request: pytest.FixtureRequest) -> Iterator[tuple[str, httpx.Client]]:
    """The real server on one pack (RECOVERY_RULES_DIR=rules/packs/<name>), shared by its tests."""
    name = request.param
    with running_server(f"pack-{name}", RULES / "packs" / name, ready_path="/readyz") as live, \
            live.client() as http:
        yield name, http


def order(amount: str, currency: str = "EUR") -> dict[str, Any]:
    return {"amount": {"amount": amount, "currency": currency}}


def event(failure_type: str, facts: dict[str, Any], amount: str = "300.00", currency: str = "EUR",
          **extra: Any) -> dict[str, Any]:
    return {"failure": {"type": failure_type, "severity": 3, "root_cause": "provider"},
            "order": order(amount, currency), "facts": facts, **extra}


# One decision per failure type of each pack: the owed lines (amount, how the basis starts) and
# where the money goes.
DECISIONS = [
    ("eu261", event("flight_delay", {"flight_distance_km": 2000, "arrival_delay_minutes": 200, "passengers": 2}),
     {"owed": [("800.00", "EU261 Art. 7(1)(b)")], "refund": "800.00"}),
    ("eu261", event("flight_cancellation", {"flight_distance_km": 9000, "intra_eu": False,
                                            "cancellation_notice_days": 3, "rerouted": True,
                                            "rerouted_arrival_delay_minutes": 200,
                                            "rerouted_departure_advance_minutes": 0}),
     {"owed": [("300.00", "EU261 Art. 7(1)(c), halved under Art. 7(2)(c)")], "refund": "300.00"}),
    ("eu261", event("denied_boarding", {"flight_distance_km": 700}, context={"customer_request": "refund"}),
     {"owed": [("250.00", "EU261 Art. 7(1)(a)"), ("300.00", "EU261 Art. 8(1)(a)")], "refund": "550.00",
      "recommended": "reimbursement"}),
]

# An event lacking a fact the policy needs: refused with a 422 that names it.
MISSING = [
    ("eu261", event("flight_delay", {"flight_distance_km": 800}), "arrival_delay_minutes"),
    ("eu261", event("flight_cancellation", {"flight_distance_km": 800}), "cancellation_notice_days"),
]


def _id(value: Any) -> str:
    return value if isinstance(value, str) else value["failure"]["type"] if isinstance(value, dict) \
        and "failure" in value else ""


@pytest.mark.parametrize("pack, body, expected", DECISIONS, indirect=["pack"], ids=lambda v: _id(v) or None)
def test_the_served_pack_decides_each_failure_type(pack: tuple[str, httpx.Client], body: dict[str, Any],
                                                  expected: dict[str, Any]) -> None:
    _, http = pack
    response = http.post("/v1/decisions", json=body)
    assert response.status_code == 200, response.text
    decision = response.json()
    lines = [(line["amount"]["amount"], line["basis"]) for line in decision["owed"]]
    assert [amount for amount, _ in lines] == [amount for amount, _ in expected["owed"]], lines
    assert all(basis.startswith(wanted) for (_, basis), (_, wanted) in zip(lines, expected["owed"])), lines
    for component in ("refund", "credit"):
        if component in expected:
            given = decision["mix"][component]
            assert (given and given["amount"]) == expected[component], decision["mix"]
    if "recommended" in expected:
        assert [option["id"] for option in decision["alternatives"] if option["recommended"]] == \
            [expected["recommended"]]


@pytest.mark.parametrize("pack, body, fact", MISSING, indirect=["pack"], ids=lambda v: _id(v) or None)
def test_the_served_pack_refuses_an_event_without_a_fact_it_needs(pack: tuple[str, httpx.Client],
                                                                 body: dict[str, Any], fact: str) -> None:
    _, http = pack
    response = http.post("/v1/decisions", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(error["loc"][-2:] == ["facts", fact] and fact in error["msg"]
               for error in response.json()["errors"]), response.text


@pytest.mark.parametrize("pack", PACKS, indirect=True)
def test_the_served_pack_answers_its_case_tables_and_lists_its_facts(pack: tuple[str, httpx.Client]) -> None:
    name, http = pack
    described = http.get("/v1/ruleset").json()
    declared = load_dir(RULES / "packs" / name).facts
    assert described["name"] == name and set(described["facts"]) == set(declared) and declared
    cases, findings = load_cases(RULES / "packs" / name / "cases")
    assert findings == [] and cases

    def over_http(body: object) -> tuple[int, dict[str, Any]]:
        response = http.post("/v1/decisions", json=body)
        return response.status_code, response.json()

    failed = [f"{case.where}: {case.note}: {result.mismatches}"
              for case in cases if not (result := run_case(case, over_http)).passed]
    assert failed == []
