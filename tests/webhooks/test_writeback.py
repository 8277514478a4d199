"""Write-back against each vendor's API, served on loopback: real signed deliveries into the real
service, which posts the note onto the ticket through the vendor's documented endpoints.

The note lands once; a redelivery adds nothing; a vendor 429 or 5xx makes the webhook answer 503 with
Retry-After (so the sender redelivers) and a later delivery posts the note once; a short Retry-After is
waited out; tags and the cost field are set; a failure after the note finishes on redelivery.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass
from typing import Any, Iterator

import httpx
import pytest

from tests.support import RULES, Server, running_server
from tests.webhooks import deliveries as d
from tests.webhooks import tickets as t
from tests.webhooks import vendors as v

ZENDESK_EMAIL, ZENDESK_TOKEN = "recovery-bot@example.com", "6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv"
FRESHDESK_KEY = "sFq2cRZoN8hT4yW9xB3k"
JIRA_EMAIL, JIRA_TOKEN = "recovery-bot@example.com", "ATATT3xFfGF0T9kRYwzQ5sLm2pXc8vBn"
SERVICENOW_USER, SERVICENOW_PASSWORD = "recovery.integration", "Sn0w-integration-pw-2026"
SALESFORCE_ID, SALESFORCE_SECRET = "3MVG9rZjd7MXFdLhSxUqPbHk8pWmQ2nT", "B8E2F6D9C1A74E3F9D0B6C2A8E4F1D7B"
INTERCOM_TOKEN, INTERCOM_ADMIN = "dG9rOjEyMzQ1Njc4OjEyMzQ1Njc4OTA=", "814860"


@dataclass
class Vendors:
    zendesk: v.Zendesk
    freshdesk: v.Freshdesk
    jira: v.Jira
    servicenow: v.ServiceNow
    salesforce: v.Salesforce
    intercom: v.Intercom

    def __getitem__(self, system: str) -> v.Vendor:
        return getattr(self, system)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def vendors() -> Iterator[Vendors]:
    salesforce = v.Salesforce("salesforce", "")
    salesforce.client_id, salesforce.client_secret = SALESFORCE_ID, SALESFORCE_SECRET
    intercom = v.Intercom("intercom", f"Bearer {INTERCOM_TOKEN}")
    intercom.admin_id = INTERCOM_ADMIN
    all_of = Vendors(v.Zendesk("zendesk", v._basic(f"{ZENDESK_EMAIL}/token", ZENDESK_TOKEN)),
                     v.Freshdesk("freshdesk", v._basic(FRESHDESK_KEY, "X")),
                     v.Jira("jira", v._basic(JIRA_EMAIL, JIRA_TOKEN)),
                     v.ServiceNow("servicenow", v._basic(SERVICENOW_USER, SERVICENOW_PASSWORD)),
                     salesforce, intercom)
    running = [v.Running(all_of[system]) for system in t.SYSTEMS]
    try:
        yield all_of
    finally:
        for server in running:
            server.close()


@pytest.fixture(scope="module")
def service(vendors: Vendors) -> Iterator[Server]:
    env = {**d.ENV, "RECOVERY_WEBHOOK_WRITEBACK_TIMEOUT_SECONDS": "4",
           "RECOVERY_WEBHOOK_ZENDESK_API_URL": vendors.zendesk.url,
           "RECOVERY_WEBHOOK_ZENDESK_API_EMAIL": ZENDESK_EMAIL, "RECOVERY_WEBHOOK_ZENDESK_API_TOKEN": ZENDESK_TOKEN,
           "RECOVERY_WEBHOOK_ZENDESK_COST_FIELD": "360012399",
           "RECOVERY_WEBHOOK_FRESHDESK_API_URL": vendors.freshdesk.url,
           "RECOVERY_WEBHOOK_FRESHDESK_API_KEY": FRESHDESK_KEY,
           "RECOVERY_WEBHOOK_FRESHDESK_COST_FIELD": "cf_recovery_cost",
           "RECOVERY_WEBHOOK_JIRA_API_URL": vendors.jira.url, "RECOVERY_WEBHOOK_JIRA_API_EMAIL": JIRA_EMAIL,
           "RECOVERY_WEBHOOK_JIRA_API_TOKEN": JIRA_TOKEN, "RECOVERY_WEBHOOK_JIRA_COST_FIELD": "customfield_10060",
           "RECOVERY_WEBHOOK_SERVICENOW_API_URL": vendors.servicenow.url,
           "RECOVERY_WEBHOOK_SERVICENOW_API_USERNAME": SERVICENOW_USER,
           "RECOVERY_WEBHOOK_SERVICENOW_API_PASSWORD": SERVICENOW_PASSWORD,
           "RECOVERY_WEBHOOK_SERVICENOW_COST_FIELD": "u_recovery_cost",
           "RECOVERY_WEBHOOK_SALESFORCE_API_URL": vendors.salesforce.url,
           "RECOVERY_WEBHOOK_SALESFORCE_CLIENT_ID": SALESFORCE_ID,
           "RECOVERY_WEBHOOK_SALESFORCE_CLIENT_SECRET": SALESFORCE_SECRET,
           "RECOVERY_WEBHOOK_SALESFORCE_COST_FIELD": "Recovery_Cost__c",
           "RECOVERY_WEBHOOK_INTERCOM_API_URL": vendors.intercom.url,
           "RECOVERY_WEBHOOK_INTERCOM_ACCESS_TOKEN": INTERCOM_TOKEN,
           "RECOVERY_WEBHOOK_INTERCOM_ADMIN_ID": INTERCOM_ADMIN,
           "RECOVERY_WEBHOOK_INTERCOM_COST_FIELD": "Recovery cost"}
    with running_server("webhooks-writeback", RULES, env=env, ready_path="/readyz") as live:
        yield live


@pytest.fixture(scope="module")
def http(service: Server) -> Iterator[httpx.Client]:
    with service.client() as client:
        yield client


_numbers = itertools.count(1)


@dataclass
class Ticket:
    system: str
    record: str
    payload: Any
    cost_field: str
    """Where the vendor keeps the estimated cost."""


def new_ticket(system: str, vendors: Vendors, amount: str = "80.00", notification: str | None = None) -> Ticket:
    """A fresh ticket on the vendor, and the delivery its system sends for it (late parcel, our fault)."""
    n = next(_numbers)
    text = "The parcel is four days late."
    if system == "zendesk":
        vendors.zendesk.add(str(60000 + n))
        return Ticket(system, str(60000 + n), t.zendesk_trigger(str(60000 + n), "Parcel late", text,
                                                                tags="late_delivery cause_us", amount=amount,
                                                                currency="EUR"), "360012399")
    if system == "freshdesk":
        vendors.freshdesk.add(str(3000 + n))
        return Ticket(system, str(3000 + n), t.freshdesk_ticket(str(3000 + n), "Parcel late", text,
                                                                failure_type="Late delivery", root_cause="Us",
                                                                order_amount=amount, order_currency="EUR"),
                      "cf_recovery_cost")
    if system == "jira":
        vendors.jira.add(f"CS-{7000 + n}")
        return Ticket(system, f"CS-{7000 + n}", t.jira_issue(
            f"CS-{7000 + n}", "Parcel late", text, labels=["late_delivery", "cause_us"], request_type=None,
            customfield_10050=float(amount), customfield_10051={"value": "EUR"}), "customfield_10060")
    if system == "servicenow":
        sys_id = f"{0xab0000 + n:032x}"
        vendors.servicenow.add("sn_customerservice_case", sys_id)
        return Ticket(system, sys_id, t.servicenow_case(sys_id, f"CS00{8000 + n}", "Parcel late", text,
                                                        u_failure_type="late_delivery", u_root_cause="provider",
                                                        u_order_amount=amount, u_order_currency="EUR"),
                      "u_recovery_cost")
    if system == "salesforce":
        case_id = f"5005g00000Wb{n:03d}AAV"
        vendors.salesforce.add(case_id)
        return Ticket(system, case_id, t.salesforce_case(case_id, f"0000{9000 + n}", {
            "Subject": "Parcel late", "Failure_Type__c": "late_delivery", "Root_Cause__c": "provider",
            "Order_Amount__c": amount, "CurrencyIsoCode": "EUR"}), "Recovery_Cost__c")
    conversation = str(300000 + n)
    vendors.intercom.add(conversation)
    return Ticket(system, conversation, t.intercom(conversation, f"<p>{text}</p>", tags=["late_delivery", "cause_us"],
                                                   attributes={"Order amount": amount, "Currency": "EUR"},
                                                   notification_id=notification or f"notif_{conversation}-a"),
                  "Recovery cost")


NOTE_ENDPOINT = {"zendesk": ("PUT", r"^/api/v2/tickets/\d+\.json$"), "freshdesk": ("POST", r"/notes$"),
                 "jira": ("POST", r"/comment$"), "servicenow": ("PATCH", r"^/api/now/table/"),
                 "salesforce": ("POST", r"/sobjects/CaseComment$"), "intercom": ("POST", r"/reply$")}


def note_text(system: str, note: dict[str, Any]) -> str:
    key = {"zendesk": "body", "freshdesk": "body", "jira": "body", "servicenow": "value", "salesforce": "CommentBody",
           "intercom": "body"}[system]
    return str(note[key])


def private(system: str, note: dict[str, Any]) -> bool:
    return {"zendesk": lambda: note["public"] is False, "freshdesk": lambda: note["private"] is True,
            "jira": lambda: note["public"] is False, "servicenow": lambda: note["element"] == "work_notes",
            "salesforce": lambda: note["IsPublished"] is False,
            "intercom": lambda: note["part_type"] == "note"}[system]()


def decided(response: httpx.Response) -> str:
    """The decision id of a successful delivery."""
    assert response.status_code == 200, response.text
    if "<Ack>true</Ack>" in response.text:
        return response.headers["x-recovery-decision-ids"]
    return str(response.json()["decision_id"])


def writeback_status(response: httpx.Response) -> str | None:
    return None if response.headers["content-type"].startswith("text/xml") else response.json()["writeback"]["status"]


@pytest.mark.parametrize("system", t.SYSTEMS)
def test_the_note_lands_once_and_a_redelivery_adds_nothing(http: httpx.Client, vendors: Vendors, system: str) -> None:
    ticket = new_ticket(system, vendors)
    first = t.deliver(http, system, ticket.payload)
    decision_id = decided(first)
    assert writeback_status(first) in ("posted", None)
    notes = vendors[system].notes(ticket.record)  # type: ignore[attr-defined]
    assert len(notes) == 1
    text = note_text(system, notes[0])
    assert decision_id in text and "Refund" in text and "Respond within" in text
    assert private(system, notes[0]), notes[0]
    again = t.deliver(http, system, ticket.payload)
    assert decided(again) == decision_id
    assert len(vendors[system].notes(ticket.record)) == 1  # type: ignore[attr-defined]
    if system == "intercom":   # the same notification id: answered at once, Intercom not called again
        assert again.json() == {"system": "intercom", "ignored": True, "reason": "this notification was already "
                                "decided", "topic": "conversation.user.created",
                                "notification_id": f"notif_{ticket.record}-a", "decision_id": decision_id}
        replied = t.intercom(ticket.record, "<p>The parcel is four days late.</p>", tags=["late_delivery", "cause_us"],
                             attributes={"Order amount": "80.00", "Currency": "EUR"},
                             notification_id=f"notif_{ticket.record}-b")
        replied["topic"] = "conversation.user.replied"
        third = t.deliver(http, system, replied)
        assert third.json()["writeback"]["status"] == "present"
        assert len(vendors.intercom.notes(ticket.record)) == 1
    elif system != "salesforce":
        assert again.json()["writeback"]["status"] == "present"


@pytest.mark.parametrize("system", t.SYSTEMS)
@pytest.mark.parametrize("status, headers, retry_after", [
    (429, {"Retry-After": "120"}, "120"),
    (500, {}, "30"),
    (503, {}, "30"),
])
def test_a_vendor_refusal_is_a_503_and_a_later_delivery_posts_once(http: httpx.Client, vendors: Vendors, system: str,
                                                                     status: int, headers: dict[str, str],
                                                                     retry_after: str) -> None:
    ticket = new_ticket(system, vendors)
    method, path = NOTE_ENDPOINT[system]
    vendors[system].fail(method, path, status, headers)
    refused = t.deliver(http, system, ticket.payload)
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == retry_after
    body = refused.json()
    assert body["code"] == "writeback-failed" and body["vendor_status"] == status
    assert len(body["decision_ids"]) == 1 and "<Ack>" not in refused.text
    assert vendors[system].notes(ticket.record) == []  # type: ignore[attr-defined]
    later = t.deliver(http, system, ticket.payload)
    assert decided(later) == body["decision_ids"][0]
    assert len(vendors[system].notes(ticket.record)) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("system", t.SYSTEMS)
def test_a_short_retry_after_is_waited_out(http: httpx.Client, vendors: Vendors, system: str) -> None:
    ticket = new_ticket(system, vendors)
    method, path = NOTE_ENDPOINT[system]
    # Intercom says when its window resets (X-RateLimit-Reset, epoch seconds); the others say Retry-After.
    limit = {"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0",
             "X-RateLimit-Reset": str(int(time.time()) + 2)} if system == "intercom" else {"Retry-After": "1"}
    vendors[system].fail(method, path, 429, limit)
    before = len(vendors[system].calls(method, path))
    started = time.monotonic()
    decided(t.deliver(http, system, ticket.payload))
    assert time.monotonic() - started >= 0.5
    assert len(vendors[system].calls(method, path)) - before == 2
    assert len(vendors[system].notes(ticket.record)) == 1  # type: ignore[attr-defined]


def test_tags_and_the_cost_field_are_set(http: httpx.Client, vendors: Vendors) -> None:
    results = {}
    for system in t.SYSTEMS:
        ticket = new_ticket(system, vendors)
        response = t.deliver(http, system, ticket.payload)
        decided(response)
        results[system] = (ticket, response)
    costs = {system: response.json()["decision"]["estimated_cost"] for system, (_, response) in results.items()
             if system != "salesforce"}
    assert len({(cost["amount"], cost["currency"]) for cost in costs.values()}) == 1, costs   # the same event
    expected_cost = f"{costs['zendesk']['amount']} {costs['zendesk']['currency']}"
    zendesk, reply = results["zendesk"]
    assert reply.json()["writeback"] == {"status": "posted", "note": "created", "tags": ["recovery_decided"],
                                         "fields": {"360012399": expected_cost}}
    assert vendors.zendesk.tickets[zendesk.record]["tags"] == ["late_delivery", "recovery_decided"]
    assert vendors.zendesk.tickets[zendesk.record]["custom_fields"] == {"360012399": expected_cost}
    freshdesk, _ = results["freshdesk"]
    assert vendors.freshdesk.tickets[freshdesk.record]["tags"] == ["double_charge", "cause_us", "recovery_decided"]
    assert vendors.freshdesk.tickets[freshdesk.record]["custom_fields"] == {"cf_recovery_cost": expected_cost}
    jira, _ = results["jira"]
    assert vendors.jira.tickets[jira.record]["labels"] == ["damaged_item", "recovery_decided"]
    assert vendors.jira.tickets[jira.record]["fields"] == {"customfield_10060": expected_cost}
    servicenow, _ = results["servicenow"]
    assert vendors.servicenow.tickets[servicenow.record]["fields"] == {"u_recovery_cost": expected_cost}
    sf, _ = results["salesforce"]
    assert vendors.salesforce.tickets[sf.record]["fields"] == {"Recovery_Cost__c": expected_cost}
    ic, _ = results["intercom"]
    assert vendors.intercom.tickets[ic.record]["custom_attributes"] == {"Recovery cost": expected_cost}


def test_a_decision_that_needs_approval_tags_the_ticket_and_says_so(http: httpx.Client, vendors: Vendors) -> None:
    ticket = new_ticket("zendesk", vendors, amount="900.00")
    reply = t.deliver(http, "zendesk", ticket.payload).json()
    assert reply["decision"]["approval"]["required"] is True
    assert reply["writeback"]["tags"] == ["recovery_decided", "recovery_needs_approval"]
    [note] = vendors.zendesk.notes(ticket.record)
    assert f"Approval: a {reply['decision']['approval']['level']} must approve" in note["body"]
    assert "recovery_needs_approval" in vendors.zendesk.tickets[ticket.record]["tags"]


def test_a_failure_after_the_note_finishes_on_redelivery(http: httpx.Client, vendors: Vendors) -> None:
    ticket = new_ticket("freshdesk", vendors)
    vendors.freshdesk.fail("PUT", rf"^/api/v2/tickets/{ticket.record}$", 500)
    refused = t.deliver(http, "freshdesk", ticket.payload)
    assert refused.status_code == 503
    assert len(vendors.freshdesk.notes(ticket.record)) == 1   # the note went in before the tags failed
    assert "recovery_decided" not in vendors.freshdesk.tickets[ticket.record]["tags"]
    again = t.deliver(http, "freshdesk", ticket.payload)
    assert again.json()["writeback"]["status"] == "present"
    assert len(vendors.freshdesk.notes(ticket.record)) == 1
    assert "recovery_decided" in vendors.freshdesk.tickets[ticket.record]["tags"]


def test_a_vendor_slower_than_the_budget_is_a_503_in_time(http: httpx.Client, vendors: Vendors) -> None:
    ticket = new_ticket("jira", vendors)
    vendors.jira.fail("GET", r"/comment$", 200, delay=6)
    started = time.monotonic()
    refused = t.deliver(http, "jira", ticket.payload)
    assert refused.status_code == 503 and "timed out" in refused.json()["detail"]
    assert time.monotonic() - started < 5.5   # the 4-second budget, not the vendor's 6 seconds
    time.sleep(0.5)
    assert decided(t.deliver(http, "jira", ticket.payload))
    assert len(vendors.jira.notes(ticket.record)) == 1


def test_salesforce_renews_an_expired_token(http: httpx.Client, vendors: Vendors) -> None:
    decided(t.deliver(http, "salesforce", new_ticket("salesforce", vendors).payload))   # holds a token now
    tokens_before = len(vendors.salesforce.calls("POST", r"/services/oauth2/token"))
    vendors.salesforce.expire_token()
    ticket = new_ticket("salesforce", vendors)
    decided(t.deliver(http, "salesforce", ticket.payload))
    assert len(vendors.salesforce.calls("POST", r"/services/oauth2/token")) == tokens_before + 1
    assert len(vendors.salesforce.notes(ticket.record)) == 1
    token_call = vendors.salesforce.calls("POST", r"/services/oauth2/token")[-1]
    assert token_call.body == {"grant_type": "client_credentials", "client_id": SALESFORCE_ID,
                               "client_secret": SALESFORCE_SECRET}


def test_the_vendor_sees_its_documented_requests(http: httpx.Client, vendors: Vendors) -> None:
    ticket = new_ticket("zendesk", vendors)
    decided(t.deliver(http, "zendesk", ticket.payload))
    listing, update = [seen for seen in vendors.zendesk.requests if ticket.record in seen.path][-2:]
    assert (listing.method, listing.path) == ("GET", f"/api/v2/tickets/{ticket.record}/comments.json")
    assert listing.query == {"page[size]": ["100"], "sort": ["-created_at"]}
    assert (update.method, update.path) == ("PUT", f"/api/v2/tickets/{ticket.record}.json")
    assert update.body["ticket"]["comment"]["public"] is False
    assert update.headers["content-type"] == "application/json"
    ic = new_ticket("intercom", vendors)
    decided(t.deliver(http, "intercom", ic.payload))
    reply = vendors.intercom.calls("POST", rf"^/conversations/{ic.record}/reply$")[-1]
    assert reply.headers["intercom-version"] == "2.11"
    assert reply.body["message_type"] == "note" and reply.body["type"] == "admin"
    assert reply.body["admin_id"] == INTERCOM_ADMIN and reply.body["body"].startswith("<p>Service recovery")


def test_a_ticket_id_the_vendor_api_cannot_take_is_422(http: httpx.Client) -> None:
    payload = t.zendesk_trigger("48-A", "Parcel late", "Four days late.", tags="late_delivery cause_us",
                                amount="80.00", currency="EUR")
    response = t.deliver(http, "zendesk", payload)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["loc"] == ["writeback", "record"] and "numeric ticket id" in error["msg"]
    assert error["mapping"].startswith("zendesk.yaml:") and "ticket_id" in error["mapping"]


def test_each_write_back_is_a_metric_and_a_log_line(http: httpx.Client, vendors: Vendors, service: Server) -> None:
    ticket = new_ticket("servicenow", vendors)
    decision_id = decided(t.deliver(http, "servicenow", ticket.payload))
    time.sleep(1.2)   # counts reach the exposition within a second
    metrics = http.get("/metrics").text
    posted = re.search(r'recovery_webhook_writebacks_total\{result="posted",system="servicenow"\} (\S+)', metrics) or \
        re.search(r'recovery_webhook_writebacks_total\{system="servicenow",result="posted"\} (\S+)', metrics)
    assert posted is not None and float(posted.group(1)) >= 1, metrics[-2000:]
    lines = [line for line in service.logs().splitlines() if '"msg":"writeback"' in line and decision_id in line]
    assert lines and '"result":"posted"' in lines[0] and f'"ticket":"{ticket.record}"' in lines[0]
    assert SERVICENOW_PASSWORD not in service.logs() and ZENDESK_TOKEN not in service.logs()

