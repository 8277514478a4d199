"""Realistic deliveries, shaped as each vendor documents them, and how to sign them.

Zendesk: a webhook connected to a trigger, JSON body from the template in
docs/webhooks.md (placeholders render as strings, {{ticket.tags}} as one
space-separated string), or subscribed to ticket events (`zen:event-type:...`,
`detail` holding the ticket). Jira Cloud: the admin webhook envelope
(`timestamp`, `webhookEvent`, `user`, `issue.fields`, JSM's request type in
customfield_10010 and an SLA field). Freshdesk: the Trigger Webhook action's
`freshdesk_webhook` object ("Simple" content: display strings). ServiceNow: the
REST message body from docs/webhooks.md, a CSM case or an incident with Table-API
`{value, display_value}` fields, or the older plain `incident` body. Salesforce:
an outbound message SOAP envelope on Case. Intercom: a `notification_event` whose
item is a Conversation, signed with the app's client secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from typing import Any

ZENDESK_SECRET = "dGhpcy1pcy1hLXplbmRlc2stc2lnbmluZy1zZWNyZXQ="
JIRA_SECRET = "jira-webhook-secret-7f3a9c21e5b8"
JIRA_TOKEN = "jira-automation-token-55c1f0a2"
FRESHDESK_TOKEN = "freshdesk-token-0d9e8c7b6a5f"
FRESHDESK_USER = "freshdesk-bot"
FRESHDESK_PASSWORD = "freshdesk-password-4b3a2c1d"
SERVICENOW_TOKEN = "servicenow-token-a1b2c3d4e5f6"
SERVICENOW_USER = "snc.recovery"
SERVICENOW_PASSWORD = "servicenow-password-9z8y7x6w"
SALESFORCE_TOKEN = "salesforce-token-1q2w3e4r5t6y"
SALESFORCE_ORG = "00D5g000004Kx2eEAC"
INTERCOM_SECRET = "6f1d2c3b4a5e6f708192a3b4c5d6e7f8"

ENV = {
    "RECOVERY_WEBHOOK_ZENDESK_SECRET": ZENDESK_SECRET,
    "RECOVERY_WEBHOOK_JIRA_SECRET": JIRA_SECRET,
    "RECOVERY_WEBHOOK_JIRA_TOKEN": JIRA_TOKEN,
    "RECOVERY_WEBHOOK_FRESHDESK_TOKEN": FRESHDESK_TOKEN,
    "RECOVERY_WEBHOOK_FRESHDESK_USERNAME": FRESHDESK_USER,
    "RECOVERY_WEBHOOK_FRESHDESK_PASSWORD": FRESHDESK_PASSWORD,
    "RECOVERY_WEBHOOK_SERVICENOW_TOKEN": SERVICENOW_TOKEN,
    "RECOVERY_WEBHOOK_SERVICENOW_USERNAME": SERVICENOW_USER,
    "RECOVERY_WEBHOOK_SERVICENOW_PASSWORD": SERVICENOW_PASSWORD,
    "RECOVERY_WEBHOOK_SALESFORCE_TOKEN": SALESFORCE_TOKEN,
    "RECOVERY_WEBHOOK_SALESFORCE_ORGANIZATION_IDS": SALESFORCE_ORG[:15],
    "RECOVERY_WEBHOOK_INTERCOM_SECRET": INTERCOM_SECRET,
}
SECRETS = [value for key, value in ENV.items() if key.endswith(("SECRET", "TOKEN", "PASSWORD"))]

JSON = {"content-type": "application/json"}
XML = {"content-type": "text/xml; charset=utf-8", "SOAPAction": '""'}


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, indent=2).encode()


# --------------------------------------------------------------------------- Zendesk

def zendesk_timestamp(offset: timedelta = timedelta()) -> str:
    return (datetime.now(timezone.utc) + offset).strftime("%Y-%m-%dT%H:%M:%SZ")


def zendesk_headers(body: bytes, secret: str = ZENDESK_SECRET, timestamp: str | None = None) -> dict[str, str]:
    timestamp = timestamp or zendesk_timestamp()
    signature = base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest())
    return {**JSON, "X-Zendesk-Webhook-Id": "01HZX3Q9M2K7RWT5V8B4N6C0PD",
            "X-Zendesk-Webhook-Invocation-Id": "8350205582", "X-Zendesk-Account-Id": "12514403",
            "X-Zendesk-Webhook-Signature": signature.decode(), "X-Zendesk-Webhook-Signature-Timestamp": timestamp}


def zendesk_late_delivery() -> dict[str, Any]:
    """A trigger webhook for a gold customer's parcel that came four days late (our fault)."""
    return {"ticket": {
        "id": "48213", "subject": "Parcel four days late, birthday present missed", "priority": "High",
        "tags": "late_delivery cause_us order_issue", "via": "Web Form", "requester_id": "388190123",
        "customer_tier": "Gold", "order_id": "o-77", "order_amount": "80.00", "order_currency": "EUR",
        "prior_recoveries_90d": "0", "url": "https://example.zendesk.com/agent/tickets/48213"}}


def zendesk_ticket_event_rude_agent() -> dict[str, Any]:
    """A webhook subscribed to Zendesk ticket events: a ticket about a rude phone agent."""
    return {
        "type": "zen:event-type:ticket.created", "account_id": 12514403,
        "id": "2b24ef10-19d4-4740-93cf-8f98ec4776c0", "time": "2026-03-04T05:33:18Z",
        "zendesk_event_version": "2022-11-06", "subject": "zen:ticket:48377",
        "detail": {"actor_id": "388190124", "assignee_id": "0", "brand_id": "360001", "created_at": "2026-03-04T05:33:17Z",
                   "custom_status": "17", "description": "The agent on the phone laughed at me and hung up.",
                   "external_id": "", "form_id": "360000123", "group_id": "360002", "id": "48377",
                   "is_public": True, "organization_id": "0", "priority": "normal", "requester_id": "388190124",
                   "status": "NEW", "subject": "Agent was rude on the phone", "submitter_id": "388190124",
                   "tags": ["rude_agent", "cause_us"], "type": "PROBLEM", "updated_at": "2026-03-04T05:33:17Z",
                   "via": {"channel": "voice"}},
        "event": {"meta": {"sequence": {"id": "CE4A698AF24F35B3208649C6951E000E", "position": 1}}}}


# --------------------------------------------------------------------------- Jira

def jira_headers(body: bytes, secret: str = JIRA_SECRET, identifier: str = "7e2c4e1c-0a5b-4c4e-9d1f-0cc1f3c1b2a1"
                 ) -> dict[str, str]:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {**JSON, "X-Hub-Signature": signature, "X-Atlassian-Webhook-Identifier": identifier,
            "X-Atlassian-Webhook-Flow": "Primary"}


def jira_damaged_item(timestamp: int = 1772603597000, actor: str = "5b10ac8d82e05b22cc7d4ef5") -> dict[str, Any]:
    """jira:issue_created for a JSM request: a blender that arrived with a cracked jug."""
    return {
        "timestamp": timestamp, "webhookEvent": "jira:issue_created", "issue_event_type_name": "issue_created",
        "user": {"self": "https://example.atlassian.net/rest/api/2/user?accountId=" + actor, "accountId": actor,
                 "displayName": "Service desk agent", "active": True, "timeZone": "Europe/Berlin",
                 "accountType": "atlassian"},
        "issue": {
            "id": "10042", "self": "https://example.atlassian.net/rest/api/2/10042", "key": "CS-42",
            "fields": {
                "statuscategorychangedate": "2026-03-04T06:33:17.123+0100",
                "issuetype": {"id": "10003", "name": "Service Request", "subtask": False},
                "project": {"id": "10001", "key": "CS", "name": "Customer Service"},
                "summary": "Blender arrived with a cracked jug",
                "description": "The jug was cracked when I opened the box.",
                "priority": {"self": "https://example.atlassian.net/rest/api/2/priority/2", "name": "High",
                             "id": "2"},
                "labels": ["damaged_item", "cause_us"],
                "reporter": {"accountId": "qm:4c6f0e6b-2b5e-4c1a-8d0a-63b1e2f4a9c7:5e1c", "displayName": "Ana Ruiz",
                             "accountType": "customer"},
                "status": {"name": "Waiting for support", "id": "10018"},
                "customfield_10010": {"requestType": {"id": "12", "name": "Damaged item"},
                                      "currentStatus": {"status": "Waiting for support"}},
                "customfield_10050": 59.9,
                "customfield_10051": {"self": "https://example.atlassian.net/rest/api/2/customFieldOption/10020",
                                      "value": "EUR", "id": "10020"},
                "customfield_10052": {"value": "Silver", "id": "10031"},
                "customfield_10053": "o-5521",
                "customfield_10054": 0,
                "created": "2026-03-04T06:33:17.000+0100", "updated": "2026-03-04T06:33:17.000+0100"}}}


# --------------------------------------------------------------------------- Freshdesk

def freshdesk_double_charge() -> dict[str, Any]:
    """A Freshdesk Trigger Webhook: a customer charged twice for one order."""
    return {"freshdesk_webhook": {
        "triggered_event": "{ticket_action:created}", "ticket_id": "1207",
        "ticket_url": "https://example.freshdesk.com/helpdesk/tickets/1207", "ticket_type": "Incident",
        "ticket_subject": "Charged twice for order o-9910", "ticket_description": "<div>Two identical charges.</div>",
        "ticket_status": "Open", "ticket_priority": "Urgent", "ticket_source": "Email",
        "ticket_tags": "double_charge, cause_us", "ticket_cf_failure_type": "Charged twice",
        "ticket_cf_root_cause": "Us", "ticket_cf_order_id": "o-9910", "ticket_cf_order_amount": "45.00",
        "ticket_cf_order_currency": "GBP", "ticket_cf_customer_tier": "standard",
        "ticket_contact_id": "48000311290", "requester_name": "Sam Patel", "requester_email": "sam@example.com"}}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# --------------------------------------------------------------------------- ServiceNow

def servicenow_repeated_outage() -> dict[str, Any]:
    """A ServiceNow incident: the checkout was down again for a platinum customer."""
    return {"incident": {
        "sys_id": "9d385017c611228701d22104cc95c371", "number": "INC0010023",
        "short_description": "Checkout down again during the sale", "category": "outage", "priority": "2",
        "impact": "2", "urgency": "1", "contact_type": "phone", "caller_id": "62826bf03710200044e0bfc8bcbe5df1",
        "u_failure_type": "service_outage", "u_root_cause": "provider", "u_recurring": "true",
        "u_customer_tier": "platinum", "u_order_number": "o-31337", "u_order_amount": "300.00",
        "u_order_currency": "USD", "u_prior_recoveries_90d": "1",
        "sys_updated_on": "2026-03-04 05:33:18", "sys_mod_count": "4"}}


# --------------------------------------------------------------------------- Salesforce

def salesforce_case(case_id: str, number: str, fields: dict[str, str]) -> str:
    inner = "".join(f"<sf:{name}>{value}</sf:{name}>" for name, value in fields.items())
    return (f'<Notification><Id>04l5g00000Gx7Q{number[-4:]}</Id>'
            f'<sObject xsi:type="sf:Case" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
            f'<sf:Id>{case_id}</sf:Id><sf:CaseNumber>{number}</sf:CaseNumber>{inner}</sObject></Notification>')


def salesforce_message(*notifications: str, org: str = SALESFORCE_ORG) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
            f'<OrganizationId>{org}</OrganizationId><ActionId>04k5g000000CaRkAAK</ActionId>'
            '<SessionId xsi:nil="true"/>'
            '<EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/60.0/00D5g000004Kx2e</EnterpriseUrl>'
            '<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/60.0/00D5g000004Kx2e</PartnerUrl>'
            + "".join(notifications) + '</notifications></soapenv:Body></soapenv:Envelope>').encode()


RUDE_AGENT_CASE = salesforce_case("5005g00000AbCdEAAV", "00001026", {
    "Subject": "Agent refused to help and was sarcastic", "Priority": "Medium", "Origin": "Chat",
    "Failure_Type__c": "rude_agent", "Root_Cause__c": "provider", "Recurring__c": "false",
    "Customer_Tier__c": "gold", "ContactId": "0035g00000XyZabAAB"})
CUSTOMER_ERROR_CASE = salesforce_case("5005g00000AbCdFAAV", "00001027", {
    "Subject": "Parcel late: customer gave an old address", "Priority": "Low", "Origin": "Email",
    "Failure_Type__c": "late_delivery", "Root_Cause__c": "customer", "Recurring__c": "false",
    "Order_Number__c": "o-8812", "Order_Amount__c": "35.5", "CurrencyIsoCode": "EUR",
    "Prior_Recoveries_90d__c": "0.0", "ContactId": "0035g00000XyZacAAB"})


def servicenow_field(value: str, display: str | None = None) -> dict[str, str]:
    """A field as the Table API gives it with sysparm_display_value=all."""
    return {"value": value, "display_value": value if display is None else display}


# --------------------------------------------------------------------------- Intercom

def intercom_headers(body: bytes, secret: str = INTERCOM_SECRET) -> dict[str, str]:
    signature = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return {**JSON, "X-Hub-Signature": signature, "User-Agent": "intercom-parrot-service-sidekiq/1.0"}


def intercom_notification(conversation: dict[str, Any], topic: str = "conversation.user.created",
                          notification_id: str = "notif_7b5d7a10-2a5e-4c41-9bd3-1f0c5d2e8a11",
                          attempts: int = 1) -> dict[str, Any]:
    return {"type": "notification_event", "app_id": "abc12def", "data": {"type": "notification_event_data",
                                                                          "item": conversation},
            "links": {}, "id": notification_id, "topic": topic, "delivery_status": "pending",
            "delivery_attempts": attempts, "delivered_at": 0, "first_sent_at": 1772603598 + 60 * (attempts - 1),
            "created_at": 1772603597, "self": None}


def intercom_conversation(conversation_id: str, body: str, tags: list[str] = (),  # type: ignore[assignment]
                          attributes: dict[str, Any] | None = None, priority: str = "not_priority",
                          source_type: str = "conversation") -> dict[str, Any]:
    """A Conversation as Intercom's REST API (2.11) and its webhooks describe it."""
    return {
        "type": "conversation", "id": conversation_id, "created_at": 1772603590, "updated_at": 1772603597,
        "waiting_since": 1772603597, "snoozed_until": None, "open": True, "state": "open", "read": False,
        "priority": priority, "admin_assignee_id": None, "team_assignee_id": 5017691, "title": None,
        "tags": {"type": "tag.list", "tags": [{"type": "tag", "id": str(80 + index), "name": name,
                                               "applied_at": 1772603597,
                                               "applied_by": {"type": "admin", "id": "814860"}}
                                              for index, name in enumerate(tags)]},
        "source": {"type": source_type, "id": "403918330", "delivered_as": "customer_initiated", "subject": "",
                   "body": body, "author": {"type": "user", "id": "65f1c0a2e4b0a1b2c3d4e5f6", "name": "Mia Chen",
                                            "email": "mia@example.com"},
                   "attachments": [], "url": "https://shop.example.com/orders", "redacted": False},
        "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": "65f1c0a2e4b0a1b2c3d4e5f6",
                                                           "external_id": "cust-8812"}]},
        "teammates": None, "custom_attributes": attributes or {}, "topics": {},
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": [], "total_count": 0},
        "statistics": None, "sla_applied": None, "linked_objects": {"type": "list", "data": [], "total_count": 0,
                                                                     "has_more": False},
    }
