"""POST /v1/simulations: compare the live ruleset with a candidate over HTTP (what the console uses)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.support import RULES, running_server
from tests.test_decisions_http import CONTRACT_EXAMPLE

RAISED = (RULES / "20-outcome.yaml").read_text().replace("            - {from: 3, percent_of_order: 15}\n",
                                                           "            - {from: 3, percent_of_order: 25}\n")


def test_a_pasted_file_is_compared_on_the_shipped_sample(client: httpx.Client) -> None:
    live = client.get("/v1/ruleset").json()["digest"]
    response = client.post("/v1/simulations", json={"candidate": {"files": {"20-outcome.yaml": RAISED}}})
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["events"] == 3000 and summary["events_file"] == "sample events.jsonl"
    assert summary["baseline"]["digest"] == live and summary["candidate"]["digest"] != live
    assert 0 < summary["changed"] < summary["compared"]
    eur = summary["cost_by_currency"]["EUR"]
    assert Decimal(eur["candidate"]) > Decimal(eur["baseline"])


def test_the_request_can_bring_its_own_events_and_ask_for_html(client: httpx.Client) -> None:
    response = client.post("/v1/simulations?format=html", json={
        "candidate": {"files": {"20-outcome.yaml": RAISED}}, "events": [CONTRACT_EXAMPLE] * 5})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<svg" in response.text and "Cost by tier" in response.text


def test_a_broken_candidate_is_a_422_with_findings(client: httpx.Client) -> None:
    broken = RAISED.replace("failure.severity: 1", "failure.sevrity: 1", 1)
    response = client.post("/v1/simulations", json={"candidate": {"files": {"20-outcome.yaml": broken}}})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    finding = response.json()["findings"][0]
    assert finding["file"] == "20-outcome.yaml" and finding["rule_id"] == "outcome-value-full-token" and finding["line"]


@pytest.mark.parametrize("body", [
    {"candidate": {"files": {"../../etc/passwd.yaml": "x"}}},
    {"candidate": {"files": {"rules.yaml": "x"}, "directory": "other"}},
    {"candidate": {}},
    {"candidate": {"directory": "nowhere"}},
    {"candidate": {"files": {"a.yaml": "x"}}, "events": []},
    {"candidate": {"files": {"a.yaml": "x"}}, "decisions": True},  # decisions need the request's events
    {"candidate": {"files": {"a.yaml": "x"}}, "decisions": 0, "events": [{}]},  # a boolean, not a number
    {"candidate": {"files": {"a.yaml": "x"}}, "decisions": True, "events": [{"failure": {}}] * 21},
])
def test_bad_requests_are_422(client: httpx.Client, body: dict) -> None:  # type: ignore[type-arg]
    response = client.post("/v1/simulations", json=body)
    assert response.status_code == 422, response.text


def test_a_directory_the_service_was_told_about(tmp_path: Path) -> None:
    candidate = tmp_path / "candidate"
    candidate.mkdir()
    for path in RULES.glob("*.yaml"):
        (candidate / path.name).write_text(path.read_text())
    (candidate / "20-outcome.yaml").write_text(RAISED)
    env = {"RECOVERY_SIMULATION_DIRS": f"next-quarter={candidate}"}
    with running_server("simulation-dirs", RULES, env=env, ready_path="/readyz") as server, \
            server.client() as http:
        assert http.get("/v1/simulations/directories").json() == {"directories": ["next-quarter"]}
        summary = http.post("/v1/simulations", json={"candidate": {"directory": "next-quarter"},
                                                     "events": [CONTRACT_EXAMPLE]}).json()
        assert summary["changed"] == 1
        assert summary["candidate"]["directory"] == "directory next-quarter"


def test_problem_titles_say_what_was_invalid(client: httpx.Client) -> None:
    broken = client.post("/v1/simulations", json={"candidate": {"files": {"x.yaml": "rules: [1]"}}}).json()
    assert broken["title"] == "Invalid rules" and broken["code"] == "invalid-rules"
    malformed = client.post("/v1/simulations", json={"candidate": {}}).json()
    assert malformed["title"] == "Invalid simulation" and malformed["code"] == "invalid-simulation"
    assert client.post("/v1/decisions?explain=maybe", json=CONTRACT_EXAMPLE).json()["title"] == "Invalid request"


def test_decisions_are_whole_decisions_under_both_rulesets(client: httpx.Client) -> None:
    from tests.test_decisions_http import CONTRACT_EXAMPLE

    live = client.post("/v1/decisions", json=CONTRACT_EXAMPLE).json()
    summary = client.post("/v1/simulations", json={"candidate": {"files": {}}, "decisions": True,
                                                    "events": [CONTRACT_EXAMPLE]}).json()
    assert summary["decisions"][0]["line"] == 1
    assert summary["decisions"][0]["baseline"] == live  # what POST /v1/decisions answers, byte for byte
    assert summary["decisions"][0]["candidate"] == live  # no file changed: the same decision
