"""Examples in the OpenAPI document: a decision (200) and a refused event (422) for POST /v1/decisions.

The 200 example is what the shipped rules answer for the request example (`FailureEvent`'s);
tests/test_openapi_clients.py checks that it still is, and that both validate against their
schemas, so Swagger UI and generated clients never show a shape the service does not send.
"""

from __future__ import annotations

from typing import Any

from .models import FailureEvent

EVENT: dict[str, Any] = FailureEvent.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]

_EUR_17 = {"amount": "17.00", "currency": "EUR"}

DECISION: dict[str, Any] = {
    "decision_id": "dec_2f6ddf34ae56a43e13043e47ffe26eb3",
    "event_id": "crm-48213",
    "ruleset": {"name": "default", "version": "2026.12.1", "digest": "sha256:698334ee10d15bcf..."},
    "mix": {"refund": _EUR_17, "credit": None, "discount": None,
            "apology": {"level": "sincere", "from": "agent", "explanation": True}, "replacement": None},
    "estimated_cost": _EUR_17,
    "justice": {"distributive": {"addressed": True, "by": ["refund"]},
                "procedural": {"addressed": True, "respond_within_minutes": 10, "follow_up_within_hours": 24},
                "interactional": {"addressed": True, "by": ["apology", "explanation"]}},
    "approval": {"required": False, "level": "agent", "approver": "agent", "reasons": [],
                 "agent_may_offer_now": {"refund": _EUR_17, "credit": None, "discount": None, "replacement": None}},
    "process_recovery": {"root_cause_review": False},
    "rules_fired": [
        {"id": "acknowledge-every-failure", "description": "Every failure: apologise, explain, respond and follow up."},
        {"id": "outcome-value-full", "description": "The customer still got the service: a partial refund."},
        {"id": "customer-asks-for-money-back", "description": "The customer asked for a refund: goodwill as money."},
    ],
    "limits_applied": [
        {"limit": "money_back_only (customer-asks-for-money-back)", "component": "credit", "before": "5.00",
         "after": "0.00", "currency": "EUR"},
    ],
    "owed": [],
    "costs": {"owed": {"amount": "0.00", "currency": "EUR"}, "goodwill": _EUR_17, "replacement": None,
              "total": _EUR_17},
    "not_assessed": [],
    "alternatives": [],
    "messages": {"locale": "en",
                 "apology": "We are truly sorry about the late delivery. This should not have happened, and we are "
                            "putting it right.",
                 "explanation": "The late delivery was our mistake, and we have looked at how it happened so that "
                                "it does not happen again.",
                 "agent_note": "Service recovery: late delivery, severity 3.\n- Refund €17.00 to the original "
                               "payment.\n..."},
}

INVALID_EVENT: dict[str, Any] = {
    "type": "/problems/invalid-event", "title": "Invalid event", "status": 422,
    "detail": "customer.teir: unknown field: the contract has no such field here (check the spelling)",
    "code": "invalid-event",
    "errors": [{"loc": ["customer", "teir"],
                "msg": "unknown field: the contract has no such field here (check the spelling)"}],
}


def document(schema: dict[str, Any]) -> None:
    """Put the examples on POST /v1/decisions."""
    responses = schema["paths"]["/v1/decisions"]["post"]["responses"]
    responses["200"]["content"]["application/json"]["examples"] = {
        "late-delivery": {"summary": "A late parcel for a gold customer who asked for a refund", "value": DECISION}}
    problem = next(iter(responses["422"]["content"].values()))
    problem["examples"] = {"misspelt-field": {"summary": "`teir` for `tier`", "value": INVALID_EVENT}}
