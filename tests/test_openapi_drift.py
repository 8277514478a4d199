"""The committed openapi/openapi.json is what the app serves; the contract's names are in it."""

from __future__ import annotations

import json

import httpx

from tests.support import ROOT

COMMITTED = ROOT / "openapi" / "openapi.json"


def test_committed_spec_matches_what_the_server_serves(client: httpx.Client) -> None:
    served = client.get("/openapi.json").json()
    committed = json.loads(COMMITTED.read_text())
    assert served == committed, "openapi/openapi.json is stale: run `make openapi` and commit it"


def test_spec_carries_the_contract_routes_and_fields() -> None:
    spec = json.loads(COMMITTED.read_text())
    for path, method in [("/v1/decisions", "post"), ("/v1/decisions:batch", "post"), ("/v1/ruleset", "get"),
                         ("/livez", "get"), ("/readyz", "get"), ("/healthz", "get")]:
        assert method in spec["paths"][path]
    schemas = spec["components"]["schemas"]
    assert set(schemas["FailureEvent"]["properties"]) == {"event_id", "failure", "customer", "order", "context",
                                                          "facts"}
    assert {"amount_at_stake", "value_received"} <= set(schemas["Failure"]["properties"])
    assert {"already_done", "locale"} <= set(schemas["Context"]["properties"])
    assert {"owed", "alternatives", "messages", "not_assessed", "costs"} <= set(schemas["Decision"]["properties"])
    assert "agent_may_offer_now" in schemas["ApprovalOut"]["properties"]
    assert schemas["FailureEvent"]["additionalProperties"] is False
    assert set(schemas["Decision"]["required"]) >= {"decision_id", "event_id", "ruleset", "mix", "estimated_cost",
                                                     "justice", "approval", "process_recovery", "rules_fired"}
    assert set(schemas["Mix"]["required"]) >= {"refund", "credit", "discount", "apology"}
    errors = spec["paths"]["/v1/decisions"]["post"]["responses"]
    for status in ("400", "413", "415", "422", "503"):
        assert "application/problem+json" in errors[status]["content"]
