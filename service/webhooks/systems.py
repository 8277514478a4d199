"""The six ticketing systems: how each delivers, and what OpenAPI says about it.

Request bodies of Zendesk triggers, Freshdesk rules and ServiceNow REST messages
are JSON the admin writes (docs/webhooks.md gives a template for each); Zendesk
ticket events, Jira and Intercom send their webhook envelopes; Salesforce sends a
SOAP envelope. The schemas below describe those shapes loosely (the mapping file
decides which fields matter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class System:
    name: str
    title: str
    body: Literal["json", "soap"]
    description: str
    schema: dict[str, Any]
    example: Any
    headers: tuple[dict[str, Any], ...] = field(default=())


_OBJECT = {"type": "object", "additionalProperties": True}

SYSTEMS: dict[str, System] = {system.name: system for system in (
    System(
        "zendesk", "Zendesk", "json",
        "A Zendesk webhook connected to a trigger (JSON body from the template in docs/webhooks.md) or "
        "subscribed to ticket events (`zen:event-type:ticket.*`). Signed: X-Zendesk-Webhook-Signature is "
        "base64(HMAC-SHA256(secret, timestamp + body)) with X-Zendesk-Webhook-Signature-Timestamp within "
        "RECOVERY_WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS (default 300) of the service's clock.",
        {**_OBJECT, "properties": {"ticket": _OBJECT, "detail": _OBJECT, "type": {"type": "string"}}},
        {"ticket": {"id": "48213", "subject": "Parcel four days late", "priority": "high",
                    "tags": "late_delivery cause_us", "via": "Web Form", "requester_id": "3612",
                    "customer_tier": "gold", "order_id": "o-77", "order_amount": "80.00", "order_currency": "EUR",
                    "prior_recoveries_90d": "0"}},
        ({"name": "X-Zendesk-Webhook-Signature-Timestamp", "in": "header", "required": False,
          "description": "The signing time Zendesk sends with X-Zendesk-Webhook-Signature",
          "schema": {"type": "string"}},),
    ),
    System(
        "jira", "Jira Service Management", "json",
        "A Jira Cloud admin webhook (`webhookEvent`, `issue.fields...`), signed with X-Hub-Signature: "
        "sha256=<hex HMAC-SHA256 of the body> when it has a secret; or a Jira automation rule's web request "
        "with the issue payload and the X-Webhook-Token header.",
        {**_OBJECT, "properties": {"webhookEvent": {"type": "string"}, "timestamp": {"type": "integer"},
                                   "issue": _OBJECT}},
        {"timestamp": 1767225600000, "webhookEvent": "jira:issue_created", "issue_event_type_name": "issue_created",
         "issue": {"id": "10042", "key": "CS-42", "fields": {
             "summary": "Blender arrived with a cracked jug", "priority": {"name": "High", "id": "2"},
             "labels": ["damaged_item", "cause_us"], "customfield_10050": 59.9,
             "customfield_10051": {"value": "EUR"}, "customfield_10052": {"value": "Silver"}}}},
    ),
    System(
        "freshdesk", "Freshdesk", "json",
        "A Freshdesk automation rule's Trigger Webhook action, JSON encoding, simple content "
        "(`freshdesk_webhook`) or the advanced template in docs/webhooks.md; authenticated by the "
        "X-Webhook-Token custom header or by basic auth.",
        {**_OBJECT, "properties": {"freshdesk_webhook": _OBJECT}},
        {"freshdesk_webhook": {"ticket_id": "1207", "ticket_subject": "Charged twice for order o-5521",
                               "ticket_priority": "Urgent", "ticket_tags": "double_charge,cause_us",
                               "ticket_cf_order_amount": "45.00", "ticket_cf_order_currency": "GBP"}},
    ),
    System(
        "servicenow", "ServiceNow", "json",
        "A ServiceNow outbound REST message (sent from a business rule or a flow) with the JSON body from "
        "docs/webhooks.md: a CSM case (`sn_customerservice_case`) or an incident, its fields as plain values "
        "or as Table API `{value, display_value}` objects, under `record` (or `result`, or `incident`); "
        "authenticated by the X-Webhook-Token header or by a basic auth profile.",
        {**_OBJECT, "properties": {"table": {"type": "string"}, "record": _OBJECT, "result": _OBJECT,
                                   "incident": _OBJECT}},
        {"table": "sn_customerservice_case", "record": {
            "sys_id": {"value": "9d385017c611228701d22104cc95c371",
                       "display_value": "9d385017c611228701d22104cc95c371"},
            "number": {"value": "CS0001042", "display_value": "CS0001042"},
            "short_description": {"value": "Checkout down again", "display_value": "Checkout down again"},
            "priority": {"value": "2", "display_value": "2 - High"},
            "u_failure_type": {"value": "service_outage", "display_value": "Service outage"}}},
    ),
    System(
        "salesforce", "Salesforce Service Cloud", "soap",
        "A Salesforce outbound message (SOAP 1.1 `notifications` envelope with up to 100 Case notifications). "
        "Authenticated by the `token` query parameter of the endpoint URL and, when configured, the message's "
        "OrganizationId. Answered with the SOAP acknowledgement `<Ack>true</Ack>` only when every "
        "notification was decided; the decision ids are in the X-Recovery-Decision-Ids header.",
        {"type": "string", "description": "A SOAP envelope (text/xml)"},
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv='
        '"http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notifications '
        'xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00D5g000004Kx2eEAC</OrganizationId>'
        '<ActionId>04k5g000000CaRkAAK</ActionId><Notification><Id>04l5g00000Gx7QzAAJ</Id><sObject '
        'xsi:type="sf:Case" xmlns:sf="urn:sobject.enterprise.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><sf:Id>5005g00000AbCdEAAV</sf:Id>'
        '<sf:Priority>Medium</sf:Priority></sObject></Notification></notifications></soapenv:Body>'
        '</soapenv:Envelope>',
    ),
    System(
        "intercom", "Intercom", "json",
        "An Intercom app's webhook notification (`notification_event`, topics such as "
        "conversation.user.created), signed with X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body with the "
        "app's client secret>. The `ping` topic and items that are not conversations are answered 200 without "
        "a decision; a notification id this worker has already handled is answered without deciding or "
        "writing back again.",
        {**_OBJECT, "properties": {"type": {"type": "string"}, "id": {"type": "string"},
                                   "topic": {"type": "string"}, "data": _OBJECT}},
        {"type": "notification_event", "app_id": "abc12def", "id": "notif_7b5d7a10-2a5e-4c41-9bd3-1f0c5d2e8a11",
         "topic": "conversation.user.created", "delivery_attempts": 1, "first_sent_at": 1772603598,
         "data": {"type": "notification_event_data", "item": {
             "type": "conversation", "id": "215472", "priority": "not_priority",
             "source": {"type": "conversation", "subject": "", "body": "<p>I was charged twice for order 5521</p>",
                        "author": {"type": "user", "id": "65f1c0a2e4b0a1b2c3d4e5f6"}},
             "tags": {"type": "tag.list", "tags": [{"type": "tag", "id": "81", "name": "double_charge"}]},
             "custom_attributes": {"Order amount": "45.00", "Currency": "GBP"}}}},
    ),
)}
