"""Intercom at POST /v1/webhooks/intercom: X-Hub-Signature (sha1, the app's client secret), the ping
topic, topics without a conversation, and notification ids already handled."""

from __future__ import annotations

import httpx

from tests.webhooks import deliveries as d
from tests.webhooks import tickets as t


def post(http: httpx.Client, payload: dict[str, object], secret: str = d.INTERCOM_SECRET) -> httpx.Response:
    body = d.body_of(payload)
    return http.post("/v1/webhooks/intercom", content=body, headers=d.intercom_headers(body, secret))


def test_a_signed_conversation_is_decided(hooks: httpx.Client) -> None:
    response = post(hooks, t.intercom("415001", "<p>Charged twice!</p>", tags=["double_charge", "cause_us"],
                                      attributes={"Order amount": "45.00", "Currency": "GBP"},
                                      notification_id="notif_a1"))
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["event_id"] == "intercom:415001"
    assert reply["decision"]["mix"]["refund"] == {"amount": "45.00", "currency": "GBP"}
    assert reply["writeback"] == {"status": "off"}


def test_wrong_or_missing_signatures_are_401(hooks: httpx.Client) -> None:
    payload = t.intercom("415002", "<p>late</p>", tags=["late_delivery"], notification_id="notif_a2")
    wrong = post(hooks, payload, secret="not-the-client-secret-of-this-app")
    assert wrong.status_code == 401 and wrong.json()["code"] == "webhook-bad-signature"
    body = d.body_of(payload)
    jira_style = d.jira_headers(body, d.INTERCOM_SECRET)["X-Hub-Signature"]   # sha256=...
    sha256 = hooks.post("/v1/webhooks/intercom", content=body, headers={**d.JSON, "X-Hub-Signature": jira_style})
    assert sha256.status_code == 401 and "sha1=" in sha256.json()["detail"]
    unsigned = hooks.post("/v1/webhooks/intercom", content=body, headers=d.JSON)
    assert unsigned.status_code == 401 and unsigned.json()["code"] == "webhook-unsigned"
    tampered = body.replace(b"late", b"LATE")
    assert hooks.post("/v1/webhooks/intercom", content=tampered,
                      headers=d.intercom_headers(body)).status_code == 401


def test_ping_is_answered_without_a_decision(hooks: httpx.Client) -> None:
    ping = {"type": "notification_event", "app_id": "abc12def", "id": "notif_ping_1", "topic": "ping",
            "data": {"type": "notification_event_data", "item": {"type": "ping", "message": "something"}},
            "delivery_attempts": 1, "first_sent_at": 1772603598, "created_at": 1772603597, "self": None}
    response = post(hooks, ping)
    assert response.status_code == 200
    assert response.json() == {"system": "intercom", "ignored": True, "reason": "ping", "topic": "ping"}


def test_a_topic_without_a_conversation_is_answered_and_ignored(hooks: httpx.Client) -> None:
    contact = {"type": "notification_event", "app_id": "abc12def", "id": "notif_c1", "topic": "contact.user.created",
               "data": {"type": "notification_event_data", "item": {"type": "contact", "id": "65f1c0a2"}}}
    response = post(hooks, contact)
    assert response.status_code == 200 and response.json()["ignored"] is True
    assert "contact.user.created" in response.json()["reason"]


def test_a_notification_id_already_decided_is_answered_at_once(hooks: httpx.Client) -> None:
    payload = t.intercom("415003", "<p>It arrived broken</p>", attributes={"Order amount": "30.00"},
                         notification_id="notif_dup_1")
    first = post(hooks, payload).json()
    payload["delivery_attempts"], payload["first_sent_at"] = 2, 1772603658   # Intercom's retry, a minute on
    again = post(hooks, payload).json()
    assert again == {"system": "intercom", "ignored": True, "reason": "this notification was already decided",
                     "topic": "conversation.user.created", "notification_id": "notif_dup_1",
                     "decision_id": first["decision_id"]}
    payload["id"] = "notif_dup_2"   # another notification about the same conversation is decided again
    assert post(hooks, payload).json()["decision_id"] == first["decision_id"]


def test_an_unmappable_conversation_is_not_remembered(hooks: httpx.Client) -> None:
    payload = t.intercom("415004", "<p>Hello there</p>", notification_id="notif_u1")
    assert post(hooks, payload).status_code == 422
    payload["data"]["item"]["tags"]["tags"].append({"type": "tag", "id": "99", "name": "late_delivery"})
    assert post(hooks, payload).status_code == 200   # fixed, redelivered with the same id: decided now


def test_not_a_notification_is_422(hooks: httpx.Client) -> None:
    response = post(hooks, {"conversation": {"id": "1"}})
    assert response.status_code == 422 and response.json()["code"] == "invalid-payload"
