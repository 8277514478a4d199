"""Realistic tickets for every system, written from the vendors' documented payloads,
with what a person reading each ticket would say it is.

`deliver()` sends a payload the way its system does (signed, with its headers).
`CASES` are whole tickets: what went wrong, who caused it, how badly, the tier and
the amount, some said in fields, some only in the customer's words. `typed()`
builds, per system, a ticket whose structured field names one failure type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.webhooks import deliveries as d

FAILURE_TYPES = ("late_delivery", "damaged_item", "wrong_item", "missing_item", "double_charge", "billing_error",
                 "service_outage", "missed_appointment", "cancelled_booking", "rude_agent", "ignored_request",
                 "slow_response", "long_wait", "misinformation")
SYSTEMS = ("zendesk", "jira", "freshdesk", "servicenow", "salesforce", "intercom")


def deliver(http: httpx.Client, system: str, payload: Any, **params: str) -> httpx.Response:
    """POST a delivery as `system` sends it."""
    if system == "salesforce":
        body = payload if isinstance(payload, bytes) else d.salesforce_message(payload)
        return http.post("/v1/webhooks/salesforce", params={"token": d.SALESFORCE_TOKEN, **params}, content=body,
                         headers=d.XML)
    body = d.body_of(payload)
    headers = {
        "zendesk": lambda: d.zendesk_headers(body),
        "jira": lambda: d.jira_headers(body),
        "freshdesk": lambda: {**d.JSON, **d.basic(d.FRESHDESK_USER, d.FRESHDESK_PASSWORD)},
        "servicenow": lambda: {**d.JSON, **d.basic(d.SERVICENOW_USER, d.SERVICENOW_PASSWORD)},
        "intercom": lambda: d.intercom_headers(body),
    }[system]()
    return http.post(f"/v1/webhooks/{system}", content=body, headers=headers, params=params)


# --------------------------------------------------------------------------- builders

def zendesk_trigger(ticket_id: str, subject: str, description: str, tags: str = "", priority: str = "normal",
                    **fields: Any) -> dict[str, Any]:
    """The trigger template of docs/webhooks.md, placeholders rendered (all strings)."""
    ticket = {"id": ticket_id, "subject": subject, "description": description, "priority": priority, "tags": tags,
              "via": "Web Form", "requester_id": "388190777", "customer_tier": "", "order_id": "",
              "order_amount": "", "order_currency": "", "prior_recoveries_90d": "0", "requester_locale": "en-US",
              "custom_fields": [{"id": 360012345, "value": fields.pop("failure_type", None)},
                                {"id": 360012346, "value": fields.pop("root_cause", None)},
                                {"id": 360012347, "value": fields.pop("order_number", None)},
                                {"id": 360012348, "value": fields.pop("amount", None)},
                                {"id": 360012349, "value": fields.pop("currency", None)}]}
    ticket.update(fields)
    return {"ticket": ticket}


def zendesk_event(ticket_id: str, subject: str, description: str, tags: list[str], priority: str = "normal",
                  channel: str = "web") -> dict[str, Any]:
    """A webhook subscribed to zen:event-type:ticket.created (the documented detail properties)."""
    return {
        "type": "zen:event-type:ticket.created", "account_id": 12514403,
        "id": "01HZY6C4M1XK3Q2V7N8B5T9W0R", "time": "2026-03-04T05:33:18Z", "zendesk_event_version": "2022-11-06",
        "subject": f"zen:ticket:{ticket_id}",
        "detail": {"actor_id": "388190555", "assignee_id": "0", "brand_id": "360001",
                   "created_at": "2026-03-04T05:33:17Z",
                   "custom_status": "17", "description": description, "external_id": "", "form_id": "360000123",
                   "group_id": "360002", "id": ticket_id, "is_public": True, "organization_id": "0",
                   "priority": priority, "requester_id": "388190555", "status": "NEW", "subject": subject,
                   "submitter_id": "388190555", "tags": tags, "type": "PROBLEM",
                   "updated_at": "2026-03-04T05:33:17Z", "via": {"channel": channel}},
        "event": {"meta": {"sequence": {"id": "CE4A698AF24F35B3208649C6951E000E", "position": 1}}}}


def jira_issue(key: str, summary: str, description: str, labels: list[str] = (),  # type: ignore[assignment]
               request_type: str | None = "Get help", priority: str = "Medium", **fields: Any) -> dict[str, Any]:
    """jira:issue_created for a JSM request (v2 webhook format: the description is wiki text)."""
    payload = d.jira_damaged_item()
    issue_fields = payload["issue"]["fields"]
    payload["issue"]["key"], payload["issue"]["id"] = key, str(10000 + int(key.split("-")[1]))
    issue_fields.update({"summary": summary, "description": description, "labels": list(labels),
                         "priority": {"name": priority, "id": "3"},
                         "customfield_10010": {"requestType": {"id": "12", "name": request_type}} if request_type
                         else None,
                         "customfield_10050": None, "customfield_10051": None, "customfield_10052": None,
                         "customfield_10053": None, "customfield_10054": None,
                         "customfield_10030": {"id": "1", "name": "Time to first response",
                                               "completedCycles": [],
                                               "ongoingCycle": {"breached": False, "paused": False,
                                                                "goalDuration": {"millis": 14400000,
                                                                                 "friendly": "4h"}}}})
    issue_fields.update(fields)
    return payload


def freshdesk_ticket(ticket_id: str, subject: str, description: str, tags: str = "", priority: str = "Medium",
                     **fields: str) -> dict[str, Any]:
    """Trigger Webhook, "Simple" content: display strings, custom fields as ticket_cf_<name>."""
    ticket = {"triggered_event": "{ticket_action:created}", "ticket_id": ticket_id,
              "ticket_url": f"https://example.freshdesk.com/helpdesk/tickets/{ticket_id}", "ticket_type": "Problem",
              "ticket_subject": subject, "ticket_description": f"<div>{description}</div>", "ticket_status": "Open",
              "ticket_priority": priority, "ticket_source": "Email", "ticket_tags": tags,
              "ticket_cf_failure_type": "", "ticket_cf_root_cause": "", "ticket_cf_customer_tier": "",
              "ticket_cf_order_id": "", "ticket_cf_order_amount": "", "ticket_cf_order_currency": "",
              "ticket_contact_id": "48000311777", "requester_name": "Jo Smith", "requester_email": "jo@example.com"}
    ticket.update({f"ticket_cf_{name}": value for name, value in fields.items()})
    return {"freshdesk_webhook": ticket}


def servicenow_case(sys_id: str, number: str, short: str, description: str,
                    priority: tuple[str, str] = ("3", "3 - Moderate"), table: str = "sn_customerservice_case",
                    **fields: tuple[str, str] | str) -> dict[str, Any]:
    """The business rule of docs/webhooks.md: every field as {value, display_value}."""
    record = {"sys_id": d.servicenow_field(sys_id), "number": d.servicenow_field(number),
              "sys_class_name": d.servicenow_field(table, "Case" if table == "sn_customerservice_case" else "Incident"),
              "short_description": d.servicenow_field(short), "description": d.servicenow_field(description),
              "priority": d.servicenow_field(*priority), "state": d.servicenow_field("1", "New"),
              "contact_type": d.servicenow_field("web", "Web"),
              "contact": {"value": "62826bf03710200044e0bfc8bcbe5df1", "display_value": "Abel Tuter",
                          "link": "https://example.service-now.com/api/now/table/customer_contact/62826bf0"},
              "account": {"value": "86837a386f0331003b3c498f5d3ee4ca", "display_value": "Boxeo",
                          "link": "https://example.service-now.com/api/now/table/customer_account/86837a38"}}
    for name, value in fields.items():
        record[name] = d.servicenow_field(*value) if isinstance(value, tuple) else d.servicenow_field(value)
    return {"table": table, "record": record}


def salesforce_case(case_id: str, number: str, fields: dict[str, str]) -> str:
    return d.salesforce_case(case_id, number, fields)


def intercom(conversation_id: str, body: str, tags: list[str] = (),  # type: ignore[assignment]
             attributes: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    notification_id = options.pop("notification_id", f"notif_{conversation_id}-0001")
    return d.intercom_notification(d.intercom_conversation(conversation_id, body, list(tags), attributes, **options),
                                   notification_id=notification_id)


# --------------------------------------------------------------------------- one ticket per failure type

_FRESHDESK_TYPES = {"late_delivery": "Late delivery", "damaged_item": "Damaged item", "wrong_item": "Wrong item",
                    "missing_item": "Missing item", "double_charge": "Charged twice", "billing_error": "Billing error",
                    "service_outage": "Service outage", "missed_appointment": "Missed appointment",
                    "cancelled_booking": "Cancelled booking", "rude_agent": "Rude agent",
                    "ignored_request": "Ignored request", "slow_response": "Slow response",
                    "long_wait": "Long wait", "misinformation": "Misinformation"}


def typed(system: str, failure_type: str, index: int) -> Any:
    """A ticket whose structured field (tag, label, dropdown, picklist, choice, tag object) names the type;
    the subject says nothing a phrase would match."""
    subject, text = "Order 5521", "Please see the order."
    if system == "zendesk":
        return zendesk_trigger(str(50100 + index), subject, text, tags=f"{failure_type} cause_us",
                               order_number="o-5521", amount="80.00", currency="EUR")
    if system == "jira":
        return jira_issue(f"CS-{500 + index}", subject, text, labels=[failure_type, "cause_us"], request_type=None,
                          customfield_10050=80, customfield_10051={"value": "EUR", "id": "10020"})
    if system == "freshdesk":
        return freshdesk_ticket(str(2100 + index), subject, text, failure_type=_FRESHDESK_TYPES[failure_type],
                                root_cause="Us", order_amount="80.00", order_currency="EUR")
    if system == "servicenow":
        return servicenow_case(f"{index:032x}", f"CS00{2100 + index}", subject, text,
                               u_failure_type=(failure_type, _FRESHDESK_TYPES[failure_type]),
                               u_root_cause=("provider", "Us"), u_order_amount="80.00", u_order_currency="EUR")
    if system == "salesforce":
        return salesforce_case(f"5005g00000TyPe{index:02d}AAV"[:18], f"000021{index:02d}",
                               {"Subject": subject, "Failure_Type__c": failure_type, "Root_Cause__c": "provider",
                                "Order_Amount__c": "80.0", "CurrencyIsoCode": "EUR", "Priority": "Medium"})
    return intercom(str(216000 + index), f"<p>{text}</p>", tags=[failure_type, "cause_us"],
                    attributes={"Order amount": "80.00", "Currency": "EUR"})


# --------------------------------------------------------------------------- whole tickets

@dataclass(frozen=True)
class Case:
    name: str
    system: str
    payload: Any
    expect: dict[str, Any]
    """Dotted event fields and the values a person reading the ticket would give."""
    by: dict[str, str] = field(default_factory=dict)
    """For some fields, how the answer must say they were read (field, text, default)."""
    caveat: str | None = None
    """Text the agent note must carry (a band amount)."""


CASES = [
    # Zendesk ---------------------------------------------------------------------------------------
    Case("zendesk: the $649 order, gold tag, missed guarantee (issue 15)", "zendesk",
         zendesk_trigger("48500", "Next-day delivery did not come",
                         "I paid extra for guaranteed next-day delivery and it took four days. You missed your own "
                         "guarantee.", tags="late_delivery loyalty_tier_gold", priority="high",
                         order_number="o-6490", amount="649.00", currency="USD"),
         {"failure.type": "late_delivery", "failure.root_cause": "provider", "failure.severity": 3,
          "customer.tier": "gold", "order.amount": {"amount": "649.00", "currency": "USD"}},
         {"failure.type": "field", "failure.root_cause": "text", "customer.tier": "field"}),
    Case("zendesk: ticket.created event, text only: charged twice, band tag", "zendesk",
         zendesk_event("48501", "Two charges on my card",
                       "Hi, you charged me twice for the same order this morning. I want my money back.",
                       ["order_value_500_plus"], priority="high", channel="email"),
         {"failure.type": "double_charge", "failure.root_cause": "unknown", "failure.severity": 3,
          "order.amount": {"amount": "500.00", "currency": "EUR"}, "context.customer_request": "refund",
          "context.channel": "email"},
         {"failure.type": "text", "order.amount.amount": "field", "context.customer_request": "text"},
         caveat="is the lower bound of a band (the ticket's `order_value_500_plus`)"),
    Case("zendesk: the customer typed the wrong address", "zendesk",
         zendesk_trigger("48502", "Where is my parcel?",
                         "The courier says the parcel could not be delivered. I think I typed the wrong address "
                         "at checkout, sorry.", order_number="o-7001", amount="35.00", currency="EUR"),
         {"failure.type": "late_delivery", "failure.root_cause": "customer", "failure.severity": 2},
         {"failure.type": "text", "failure.root_cause": "text"}),
    Case("zendesk: severity cue raises a normal-priority ticket", "zendesk",
         zendesk_trigger("48503", "Charger", "The charger I bought caught fire on the first day. Luckily nobody "
                         "was hurt.", tags="damaged_item cause_us", order_number="o-7002", amount="29.90",
                         currency="GBP"),
         {"failure.type": "damaged_item", "failure.severity": 5, "failure.root_cause": "provider"},
         {"failure.severity": "text"}),
    # Jira ------------------------------------------------------------------------------------------
    Case("jira: request type and labels, gold by label, amount in USD", "jira",
         jira_issue("CS-601", "Charged twice", "Two identical charges of 649 on my statement.",
                    labels=["loyalty_tier_gold"], request_type="Charged twice", priority="High",
                    customfield_10050=649, customfield_10051={"value": "USD", "id": "10021"}),
         {"failure.type": "double_charge", "failure.severity": 3, "customer.tier": "gold",
          "order.amount": {"amount": "649.00", "currency": "USD"}},
         {"failure.type": "field", "customer.tier": "field"}),
    Case("jira: wrong size the customer ordered", "jira",
         jira_issue("CS-602", "Wrong size", "The shoes are too small, I ordered the wrong size. Can I exchange it?",
                    request_type="Wrong item", customfield_10050=89.5,
                    customfield_10051={"value": "EUR", "id": "10020"}),
         {"failure.type": "wrong_item", "failure.root_cause": "customer", "context.customer_request": "replacement"},
         {"failure.type": "field", "failure.root_cause": "text"}),
    Case("jira: a breached first-response SLA is a slow response", "jira",
         jira_issue("CS-603", "Question about my invoice", "When will I get an answer?", request_type="Ask a question",
                    customfield_10030={"id": "1", "name": "Time to first response",
                                       "completedCycles": [{"breached": True, "goalDuration": {"millis": 14400000}}],
                                       "ongoingCycle": None}),
         {"failure.type": "slow_response", "failure.severity": 2},
         {"failure.type": "field"}),
    # Freshdesk -------------------------------------------------------------------------------------
    Case("freshdesk: damaged in the words of the customer, tier by tag, band amount", "freshdesk",
         freshdesk_ticket("1301", "Vase", "The vase arrived smashed, the box was crushed.",
                          tags="loyalty_tier_gold,order_value_100_plus", priority="High"),
         {"failure.type": "damaged_item", "failure.severity": 3, "customer.tier": "gold",
          "order.amount": {"amount": "100.00", "currency": "EUR"}},
         {"failure.type": "text", "customer.tier": "field"}, caveat="lower bound of a band"),
    Case("freshdesk: the customer was not at home", "freshdesk",
         freshdesk_ticket("1302", "Parcel returned", "The parcel went back to the depot because I wasn't home for "
                          "two days. Is it lost?", failure_type="Missing item", order_amount="42.00",
                          order_currency="GBP"),
         {"failure.type": "missing_item", "failure.root_cause": "customer",
          "order.amount": {"amount": "42.00", "currency": "GBP"}},
         {"failure.type": "field", "failure.root_cause": "text"}),
    # ServiceNow ------------------------------------------------------------------------------------
    Case("servicenow: CSM case with {value, display_value} fields", "servicenow",
         servicenow_case("a1b2c3d4e5f60718293a4b5c6d7e8f90", "CS0001042", "Delivery four days late",
                         "You promised delivery on Monday and missed your own guarantee.",
                         priority=("2", "2 - High"), u_failure_type=("late_delivery", "Late delivery"),
                         u_customer_tier=("gold", "Gold"), u_order_amount="649.00", u_order_currency="USD"),
         {"failure.type": "late_delivery", "failure.severity": 3, "failure.root_cause": "provider",
          "customer.tier": "gold", "order.amount": {"amount": "649.00", "currency": "USD"},
          "customer.id": "62826bf03710200044e0bfc8bcbe5df1"},
         {"failure.type": "field", "failure.root_cause": "text"}),
    Case("servicenow: Table API incident, outage by subcategory", "servicenow",
         {"result": {"sys_id": "9d385017c611228701d22104cc95c372", "number": "INC0010099",
                     "short_description": "Cannot log in to the portal", "description": "",
                     "subcategory": "outage", "category": "software", "priority": "1", "contact_type": "phone",
                     "caller_id": {"value": "62826bf03710200044e0bfc8bcbe5df2", "link": "https://x"},
                     "sys_class_name": "incident"}},
         {"failure.type": "service_outage", "failure.severity": 4, "context.channel": "phone"},
         {"failure.type": "field"}),
    Case("servicenow: case the customer caused", "servicenow",
         servicenow_case("b1b2c3d4e5f60718293a4b5c6d7e8f91", "CS0001043", "Wrong colour",
                         "My mistake: I chose the wrong colour when ordering.",
                         u_order_amount="120.00", u_order_currency="EUR"),
         {"failure.type": "wrong_item", "failure.root_cause": "customer", "failure.severity": 2},
         {"failure.type": "text", "failure.root_cause": "text"}),
    # Salesforce ------------------------------------------------------------------------------------
    Case("salesforce: standard Case fields only", "salesforce",
         salesforce_case("5005g00000StdFdAAV", "00001101", {
             "Subject": "Blender stopped working", "Description": "It stopped after two days.",
             "Type": "Damaged Item", "Reason": "Breakdown", "Priority": "High", "Origin": "Web",
             "Order_Amount__c": "649.0", "CurrencyIsoCode": "USD", "Customer_Tier__c": "gold",
             "ContactId": "0035g00000XyZadAAB"}),
         {"failure.type": "damaged_item", "failure.severity": 3, "customer.tier": "gold",
          "order.amount": {"amount": "649.00", "currency": "USD"}, "context.channel": "web"},
         {"failure.type": "field"}),
    Case("salesforce: Reason says the customer skipped the training", "salesforce",
         salesforce_case("5005g00000TrnNgAAV", "00001102", {
             "Subject": "Machine not working", "Description": "The machine shows wrong information on setup.",
             "Reason": "User didn't attend training", "Priority": "Low", "Origin": "Phone",
             "Failure_Type__c": "misinformation"}),
         {"failure.type": "misinformation", "failure.root_cause": "customer", "failure.severity": 1},
         {"failure.root_cause": "field"}),
    # Intercom --------------------------------------------------------------------------------------
    Case("intercom: tags and custom attributes", "intercom",
         intercom("215472", "<p>I was charged twice for order 5521</p>", tags=["double_charge", "cause_us"],
                  attributes={"Order amount": "45.00", "Currency": "GBP", "Customer tier": "Silver"}),
         {"failure.type": "double_charge", "failure.root_cause": "provider", "customer.tier": "silver",
          "order.amount": {"amount": "45.00", "currency": "GBP"}, "context.channel": "chat"},
         {"failure.type": "field", "customer.tier": "field"}),
    Case("intercom: the carrier in the customer's words, priority conversation", "intercom",
         intercom("215473", "<p>My parcel is <b>five days late</b>. The courier keeps saying tomorrow.</p>",
                  priority="priority", attributes={"Order amount": "60.00", "Currency": "EUR"}),
         {"failure.type": "late_delivery", "failure.root_cause": "third_party", "failure.severity": 3},
         {"failure.type": "text", "failure.root_cause": "text"}),
    Case("intercom: the customer typed the wrong address", "intercom",
         intercom("215474", "<p>Sorry, I typed the wrong address &ndash; the parcel is late now.</p>",
                  tags=["late_delivery"], attributes={"Order amount": "25.00", "Currency": "EUR"}),
         {"failure.type": "late_delivery", "failure.root_cause": "customer"},
         {"failure.type": "field", "failure.root_cause": "text"}),
]


UNMAPPABLE = [
    ("zendesk", zendesk_trigger("48599", "Question", "Do you ship to Norway?"), "zendesk.yaml", "failure.type"),
    ("jira", jira_issue("CS-699", "Hello", "Can you tell me your opening hours?", request_type="Ask a question"),
     "jira.yaml", "failure.type"),
    ("freshdesk", freshdesk_ticket("1399", "Invoice copy", "Please send me a copy of my invoice."),
     "freshdesk.yaml", "failure.type"),
    ("servicenow", servicenow_case("c1b2c3d4e5f60718293a4b5c6d7e8f92", "CS0001099", "Address change",
                                   "Please update my billing address."), "servicenow.yaml", "failure.type"),
    ("salesforce", salesforce_case("5005g00000NoMapAAV", "00001199", {"Subject": "Catalogue request",
                                                                       "Type": "Other", "Priority": "Low"}),
     "salesforce.yaml", "failure.type"),
    ("intercom", intercom("215499", "<p>Do you have this in blue?</p>"), "intercom.yaml", "failure.type"),
]
"""Tickets with nothing a failure type can be read from: 422 naming the mapping entry to change."""
