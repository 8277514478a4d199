"""The published-policy packs under rules/packs: each passes `recovery rules test` at 100% rule
coverage, serves on its own (one real server per pack, over HTTP: a decision per failure type,
its case tables, a refused event naming a missing fact), and composes with goodwill
(rules/examples)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable, Iterator

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
    assert len({pack for pack, _, _ in DECISIONS}) == len(PACKS) == len(PROMISED)  # each is served below
    assert {"eu261", "eu_rail", "tau2_airline", "uk_delay_repay", "us_dot_refunds"} <= set(PACKS)


# The failure types and facts integrators rely on (issue 13's table): each pack declares them so.
PROMISED = {
    "eu261": ({"flight_delay", "flight_cancellation", "denied_boarding"},
              {"flight_distance_km": "number", "intra_eu": "boolean", "arrival_delay_minutes": "integer",
               "cancellation_notice_days": "integer", "rerouted": "boolean",
               "rerouted_arrival_delay_minutes": "integer", "extraordinary_circumstances": "boolean",
               "passengers": "integer"}),
    "eu_rail": ({"train_delay", "train_cancellation"}, {"arrival_delay_minutes": "integer", "force_majeure": "boolean"}),
    "uk_delay_repay": ({"train_delay"}, {"delay_minutes": "integer", "ticket_type": "slug", "scheme": "slug"}),
    "us_dot_refunds": ({"flight_cancellation", "flight_significant_change", "bag_delayed"},
                       {"domestic": "boolean", "arrival_delay_minutes": "integer", "accepted_alternative": "boolean",
                        "bag_fee": "money", "bag_delay_hours": "integer", "flight_duration_hours": "number"}),
    "tau2_airline": ({"flight_cancellation", "flight_delay"},
                     {"membership": "slug", "travel_insurance": "boolean", "cabin": "slug", "passengers": "integer",
                      "compensation_requested": "boolean", "reservation_changed_or_cancelled": "boolean"}),
}
SLUGS = {("uk_delay_repay", "ticket_type"): ["single", "return"], ("uk_delay_repay", "scheme"): ["dr15", "dr30"],
         ("tau2_airline", "membership"): ["regular", "silver", "gold"],
         ("tau2_airline", "cabin"): ["basic_economy", "economy", "business"]}


@pytest.mark.parametrize("name", sorted(PROMISED))
def test_the_pack_declares_the_promised_failure_types_and_facts(name: str) -> None:
    ruleset = load_dir(RULES / "packs" / name)
    types, facts = PROMISED[name]
    assert set(ruleset.catalogues.failure_types) == types
    assert {fact: ruleset.facts[fact].type for fact in facts if fact in ruleset.facts} == facts
    for (pack, fact), values in SLUGS.items():
        if pack == name:
            assert ruleset.facts[fact].values == values


@pytest.fixture(scope="module")
def served() -> Iterator[Callable[[str], httpx.Client]]:
    """A client of the real server on a pack (RECOVERY_RULES_DIR=rules/packs/<name>), started the
    first time a test asks for that pack and shared by all of them: one server per pack."""
    with contextlib.ExitStack() as stack:
        clients: dict[str, httpx.Client] = {}

        def client(name: str) -> httpx.Client:
            if name not in clients:
                live = stack.enter_context(running_server(f"pack-{name}", RULES / "packs" / name,
                                                          ready_path="/readyz"))
                clients[name] = stack.enter_context(live.client())
            return clients[name]

        yield client


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
    ("eu_rail", event("train_delay", {"arrival_delay_minutes": 120}, "80.00"),
     {"owed": [("40.00", "Regulation (EU) 2021/782 Art. 19(1)(b)")], "refund": "40.00"}),
    ("eu_rail", event("train_cancellation", {"arrival_delay_minutes": 60, "return_ticket": True}, "80.00"),
     {"owed": [("10.00", "Regulation (EU) 2021/782 Art. 19(1)(a), on half a return ticket's price")],
      "refund": "10.00"}),
    ("uk_delay_repay", event("train_delay", {"delay_minutes": 45, "ticket_type": "return", "scheme": "dr15"},
                             "40.00", "GBP"),
     {"owed": [("10.00", "National Rail Delay Repay (DR15 and DR30): 50% of half the return fare")],
      "refund": "10.00"}),
    ("us_dot_refunds", event("flight_cancellation", {"accepted_alternative": False}, "389.40", "USD"),
     {"owed": [("389.40", "14 CFR 260.6")], "refund": "389.40"}),
    ("us_dot_refunds", event("flight_significant_change", {"domestic": False, "arrival_delay_minutes": 360,
                                                           "accepted_alternative": False}, "389.40", "USD"),
     {"owed": [("389.40", "14 CFR 260.6: the fare back for an international flight")], "refund": "389.40"}),
    ("us_dot_refunds", event("bag_delayed", {"domestic": True, "bag_fee": {"amount": "35.00", "currency": "USD"},
                                             "bag_delay_hours": 13, "mishandled_bag_report_filed": True},
                             "389.40", "USD"),
     {"owed": [("35.00", "14 CFR 260.5")], "refund": "35.00"}),
    ("tau2_airline", event("flight_cancellation", {"membership": "silver", "travel_insurance": False,
                                                   "cabin": "economy", "passengers": 3,
                                                   "compensation_requested": True,
                                                   "reservation_changed_or_cancelled": True}, "640.00", "USD"),
     {"owed": [("640.00", "tau2 airline policy, Cancel flight")], "refund": "640.00", "credit": "300.00"}),
    ("tau2_airline", event("flight_delay", {"membership": "regular", "travel_insurance": False, "cabin": "business",
                                            "passengers": 2, "compensation_requested": True,
                                            "reservation_changed_or_cancelled": True}, "640.00", "USD"),
     {"owed": [], "refund": None, "credit": "100.00"}),
]

# An event lacking a fact the policy needs: refused with a 422 that names it.
MISSING = [
    ("eu261", event("flight_delay", {"flight_distance_km": 800}), "arrival_delay_minutes"),
    ("eu261", event("flight_cancellation", {"flight_distance_km": 800}), "cancellation_notice_days"),
    ("eu_rail", event("train_cancellation", {"force_majeure": True}, "80.00"), "arrival_delay_minutes"),
    ("uk_delay_repay", event("train_delay", {"delay_minutes": 45, "ticket_type": "single"}, "40.00", "GBP"), "scheme"),
    ("us_dot_refunds", event("bag_delayed", {"domestic": True, "bag_delay_hours": 13,
                                             "mishandled_bag_report_filed": True}, "389.40", "USD"), "bag_fee"),
    ("tau2_airline", event("flight_cancellation", {"membership": "gold", "travel_insurance": False, "cabin": "economy",
                                                   "compensation_requested": True}, "640.00", "USD"), "passengers"),
]


def _id(value: Any) -> str:
    return value if isinstance(value, str) else value["failure"]["type"] if isinstance(value, dict) \
        and "failure" in value else ""


@pytest.mark.parametrize("pack, body, expected", DECISIONS, ids=lambda v: _id(v) or None)
def test_the_served_pack_decides_each_failure_type(served: Callable[[str], httpx.Client], pack: str,
                                                  body: dict[str, Any], expected: dict[str, Any]) -> None:
    http = served(pack)
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


@pytest.mark.parametrize("pack, body, fact", MISSING, ids=lambda v: _id(v) or None)
def test_the_served_pack_refuses_an_event_without_a_fact_it_needs(served: Callable[[str], httpx.Client], pack: str,
                                                                 body: dict[str, Any], fact: str) -> None:
    http = served(pack)
    response = http.post("/v1/decisions", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(error["loc"][-2:] == ["facts", fact] and fact in error["msg"]
               for error in response.json()["errors"]), response.text


@pytest.mark.parametrize("name", PACKS)
def test_the_served_pack_answers_its_case_tables_and_lists_its_facts(served: Callable[[str], httpx.Client],
                                                                    name: str) -> None:
    http = served(name)
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
