"""What the OpenAPI document shows integrators is true: its examples validate against their schemas and
the decision example is what the service answers; `Problem.code` lists every code the service raises."""

from __future__ import annotations

import ast
import json

import httpx
import jsonschema
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from service import examples, problems
from tests.support import ROOT

SPEC = json.loads((ROOT / "openapi" / "openapi.json").read_text())
OPERATION = SPEC["paths"]["/v1/decisions"]["post"]


def validator(name: str) -> jsonschema.Draft202012Validator:
    registry = Registry().with_resource("urn:spec", DRAFT202012.create_resource(SPEC))
    return jsonschema.Draft202012Validator({"$ref": f"urn:spec#/components/schemas/{name}"}, registry=registry)


def shown(status: str, media: str) -> dict:
    return next(iter(OPERATION["responses"][status]["content"][media]["examples"].values()))["value"]


@pytest.mark.parametrize(("schema", "value"), [
    ("FailureEvent", examples.EVENT),
    ("Decision", shown("200", "application/json")),
    ("Problem", shown("422", "application/problem+json")),
])
def test_examples_validate_against_their_schemas(schema: str, value: dict) -> None:
    errors = [error.message for error in validator(schema).iter_errors(value)]
    assert errors == []


def test_the_decision_example_is_what_the_service_answers(client: httpx.Client) -> None:
    answered = client.post("/v1/decisions", json=examples.EVENT).json()
    for field in ("event_id", "mix", "estimated_cost", "justice", "approval", "costs", "owed"):
        assert examples.DECISION[field] == answered[field], field
    assert {rule["id"] for rule in examples.DECISION["rules_fired"]} <= {rule["id"] for rule in answered["rules_fired"]}


def test_the_422_example_is_what_the_service_answers(client: httpx.Client) -> None:
    event = json.loads(json.dumps(examples.EVENT))
    event["customer"]["teir"] = event["customer"].pop("tier")
    answered = client.post("/v1/decisions", json=event)
    assert answered.status_code == 422
    assert answered.json() == examples.INVALID_EVENT


def raised_codes() -> set[str]:
    """Every literal code passed to ProblemError(status, code, ...) or a webhook's unauthorized(system, code)."""
    found = set()
    for path in (ROOT / "service").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in ("ProblemError", "unauthorized") and len(node.args) >= 2:
                code = node.args[1]
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    found.add(code.value)
    return found


def test_problem_code_enum_lists_every_code_raised() -> None:
    enum = set(SPEC["components"]["schemas"]["Problem"]["properties"]["code"]["enum"])
    made = {f"invalid-{what}" for what in ("event", "batch", "erasure", "outcome", "simulation")} | \
        {"simulation-too-large", "simulation-too-costly", "duplicate-key", "malformed-json"} | \
        set(problems.HTTP_CODES.values()) | {"http-error"}
    raised = raised_codes()
    assert len(raised) > 30  # the scan finds the service's codes
    assert raised | made <= enum
    assert enum == set(problems.CODES)


def test_every_response_documents_the_request_id() -> None:
    for item in SPEC["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                assert "X-Request-ID" in response["headers"]
                assert ("Retry-After" in response["headers"]) == (status in ("429", "503"))


def test_an_answer_carries_the_documented_request_id(client: httpx.Client) -> None:
    answered = client.post("/v1/decisions", json={"failure": {}}, headers={"X-Request-ID": "crm-req-7"})
    assert answered.status_code == 422 and answered.headers["x-request-id"] == "crm-req-7"


def test_request_fields_with_defaults_are_optional_and_carry_no_default_keyword() -> None:
    customer = SPEC["components"]["schemas"]["Customer"]
    assert "required" not in customer
    assert "default" not in customer["properties"]["tier"]
    assert "`standard`" in customer["properties"]["tier"]["description"]
    assert customer["properties"]["tier"]["examples"] == ["gold"]
    assert SPEC["components"]["schemas"]["Context"]["properties"]["channel"]["anyOf"][0]["examples"] == ["chat"]

