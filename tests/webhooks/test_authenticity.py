"""Unsigned, wrongly signed, tampered, stale and unconfigured deliveries get 401 and no decision."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.support import Server
from tests.webhooks import deliveries as d


def refused(response: httpx.Response, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "www-authenticate" in response.headers
    body = response.json()
    assert "decision" not in body and "decision_id" not in body
    for secret in d.SECRETS:
        assert secret not in response.text
    if code is not None:
        assert body["code"] == code, body
    return body


ZENDESK = d.body_of(d.zendesk_late_delivery())
JIRA = d.body_of(d.jira_damaged_item())


def tampered(body: bytes) -> bytes:
    changed = body.replace(b'"80.00"', b'"800.00"').replace(b"59.9", b"599.9")
    assert changed != body
    return changed


def test_zendesk_unsigned(hooks: httpx.Client) -> None:
    refused(hooks.post("/v1/webhooks/zendesk", content=ZENDESK, headers=d.JSON), "webhook-unsigned")


def test_zendesk_tampered_body(hooks: httpx.Client) -> None:
    headers = d.zendesk_headers(ZENDESK)
    refused(hooks.post("/v1/webhooks/zendesk", content=tampered(ZENDESK), headers=headers), "webhook-bad-signature")


def test_zendesk_wrong_secret(hooks: httpx.Client) -> None:
    headers = d.zendesk_headers(ZENDESK, secret="not-the-zendesk-signing-secret")
    refused(hooks.post("/v1/webhooks/zendesk", content=ZENDESK, headers=headers), "webhook-bad-signature")


def test_zendesk_timestamp_is_signed_too(hooks: httpx.Client) -> None:
    headers = d.zendesk_headers(ZENDESK)
    headers["X-Zendesk-Webhook-Signature-Timestamp"] = d.zendesk_timestamp(timedelta(seconds=1))
    if headers["X-Zendesk-Webhook-Signature-Timestamp"] == d.zendesk_headers(ZENDESK)[
            "X-Zendesk-Webhook-Signature-Timestamp"]:
        headers["X-Zendesk-Webhook-Signature-Timestamp"] = d.zendesk_timestamp(timedelta(seconds=2))
    refused(hooks.post("/v1/webhooks/zendesk", content=ZENDESK, headers=headers), "webhook-bad-signature")


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(hours=-3), timedelta(minutes=6)])
def test_zendesk_stale_or_replayed_delivery(hooks: httpx.Client, offset: timedelta) -> None:
    headers = d.zendesk_headers(ZENDESK, timestamp=d.zendesk_timestamp(offset))
    body = refused(hooks.post("/v1/webhooks/zendesk", content=ZENDESK, headers=headers), "webhook-stale")
    assert "replay" in body["detail"]


def test_zendesk_within_the_window_is_accepted(hooks: httpx.Client) -> None:
    headers = d.zendesk_headers(ZENDESK, timestamp=d.zendesk_timestamp(timedelta(minutes=-4)))
    assert hooks.post("/v1/webhooks/zendesk", content=ZENDESK, headers=headers).status_code == 200


def test_jira_unsigned(hooks: httpx.Client) -> None:
    body = refused(hooks.post("/v1/webhooks/jira", content=JIRA, headers=d.JSON), "webhook-unsigned")
    assert "X-Hub-Signature" in body["detail"] and "X-Webhook-Token" in body["detail"]


def test_jira_tampered_body(hooks: httpx.Client) -> None:
    refused(hooks.post("/v1/webhooks/jira", content=tampered(JIRA), headers=d.jira_headers(JIRA)),
            "webhook-bad-signature")


@pytest.mark.parametrize("signature", ["sha1=" + "0" * 40, "sha256=", "deadbeef", "sha256=" + "a" * 64])
def test_jira_malformed_or_wrong_signature(hooks: httpx.Client, signature: str) -> None:
    refused(hooks.post("/v1/webhooks/jira", content=JIRA, headers={**d.JSON, "X-Hub-Signature": signature}),
            "webhook-bad-signature")


def test_jira_wrong_token(hooks: httpx.Client) -> None:
    refused(hooks.post("/v1/webhooks/jira", content=JIRA, headers={**d.JSON, "X-Webhook-Token": "guess-" * 4}),
            "webhook-bad-credentials")


@pytest.mark.parametrize("system, payload", [("freshdesk", d.freshdesk_double_charge()),
                                             ("servicenow", d.servicenow_repeated_outage())])
@pytest.mark.parametrize("headers, code", [
    ({}, "webhook-unsigned"),
    ({"X-Webhook-Token": "wrong-token-0123456789"}, "webhook-bad-credentials"),
    (d.basic("freshdesk-bot", "wrong-password-0123"), "webhook-bad-credentials"),
    (d.basic("snc.recovery", "wrong-password-0123"), "webhook-bad-credentials"),
    ({"Authorization": "Basic not-base64!"}, "webhook-bad-credentials"),
    ({"Authorization": "Bearer " + d.FRESHDESK_TOKEN}, "webhook-unsigned"),
])
def test_token_and_basic_systems_refuse_wrong_credentials(hooks: httpx.Client, system: str, payload: dict[str, Any],
                                                          headers: dict[str, str], code: str) -> None:
    response = hooks.post(f"/v1/webhooks/{system}", content=d.body_of(payload), headers={**d.JSON, **headers})
    body = refused(response, code)
    if code == "webhook-bad-credentials" and "Authorization" in headers:
        assert response.headers["www-authenticate"].startswith("Basic")
    assert body["system"] == system


def test_other_systems_credentials_do_not_pass(hooks: httpx.Client) -> None:
    body = d.body_of(d.servicenow_repeated_outage())
    refused(hooks.post("/v1/webhooks/servicenow", content=body, headers={**d.JSON, "X-Webhook-Token": d.FRESHDESK_TOKEN}))
    refused(hooks.post("/v1/webhooks/freshdesk", content=d.body_of(d.freshdesk_double_charge()),
                       headers={**d.JSON, **d.basic(d.SERVICENOW_USER, d.SERVICENOW_PASSWORD)}))


def test_salesforce_without_or_with_a_wrong_token(hooks: httpx.Client) -> None:
    message = d.salesforce_message(d.RUDE_AGENT_CASE)
    refused(hooks.post("/v1/webhooks/salesforce", content=message, headers=d.XML), "webhook-unsigned")
    response = hooks.post("/v1/webhooks/salesforce", params={"token": "wrong-token-0123456789"}, content=message,
                          headers=d.XML)
    refused(response, "webhook-bad-credentials")
    assert "<Ack>" not in response.text


def test_salesforce_from_another_org_is_refused(hooks: httpx.Client) -> None:
    message = d.salesforce_message(d.RUDE_AGENT_CASE, org="00D000000000001AAA")
    response = hooks.post("/v1/webhooks/salesforce", params={"token": d.SALESFORCE_TOKEN}, content=message,
                          headers=d.XML)
    refused(response, "webhook-bad-credentials")
    assert "<Ack>" not in response.text


def test_nothing_in_the_body_is_read_before_authentication(hooks: httpx.Client) -> None:
    for system in ("zendesk", "jira", "freshdesk", "servicenow"):
        refused(hooks.post(f"/v1/webhooks/{system}", content=b"{not json", headers=d.JSON))
    refused(hooks.post("/v1/webhooks/salesforce", content=b"<not-xml", headers=d.XML))


def test_webhooks_do_not_take_api_keys(hooks: httpx.Client) -> None:
    from tests.webhooks.conftest import API_KEY

    refused(hooks.post("/v1/webhooks/zendesk", content=ZENDESK, headers={**d.JSON, "X-API-Key": API_KEY}))
    assert hooks.post("/v1/decisions", json={"failure": {"type": "late_delivery", "severity": 1,
                                                         "root_cause": "provider"}}).status_code == 401


@pytest.mark.parametrize("system, variable", [
    ("zendesk", "RECOVERY_WEBHOOK_ZENDESK_SECRET"), ("jira", "RECOVERY_WEBHOOK_JIRA_SECRET"),
    ("freshdesk", "RECOVERY_WEBHOOK_FRESHDESK_TOKEN"), ("servicenow", "RECOVERY_WEBHOOK_SERVICENOW_USERNAME"),
    ("salesforce", "RECOVERY_WEBHOOK_SALESFORCE_TOKEN")])
def test_a_system_without_credentials_refuses_everything(server: Server, system: str, variable: str) -> None:
    # The shared server has no webhook variables set: even correctly signed deliveries are refused.
    headers = d.zendesk_headers(ZENDESK) if system == "zendesk" else {**d.JSON, "X-Webhook-Token": d.FRESHDESK_TOKEN}
    with server.client() as http:
        body = refused(http.post(f"/v1/webhooks/{system}", content=ZENDESK, headers=headers),
                       "webhook-not-configured")
    assert variable in body["detail"]
