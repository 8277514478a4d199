"""Mapping files live-edited under a running server: a valid change applies at the next delivery,
a broken one keeps the previous mapping, a system whose file never loaded answers 503 with findings."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.support import RULES, running_server
from tests.webhooks import deliveries as d

FRESHDESK = d.body_of(d.freshdesk_double_charge())
HEADERS = {**d.JSON, "X-Webhook-Token": d.FRESHDESK_TOKEN}


def copy_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    return rules


def rewrite(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))  # a visibly newer file


def test_edits_apply_and_broken_edits_keep_the_previous_mapping(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    mapping = rules / "webhooks" / "freshdesk.yaml"
    original = mapping.read_text()
    with running_server("webhook-mapping-reload", rules, env=d.ENV, ready_path="/readyz") as server, \
            server.client() as http:
        first = http.post("/v1/webhooks/freshdesk", content=FRESHDESK, headers=HEADERS)
        assert first.json()["event"]["customer"]["tier"] == "standard"

        edited = original.replace("{standard: standard, silver:", "{standard: gold, silver:")
        assert edited != original
        rewrite(mapping, edited)
        changed = http.post("/v1/webhooks/freshdesk", content=FRESHDESK, headers=HEADERS)
        assert changed.json()["event"]["customer"]["tier"] == "gold"

        rewrite(mapping, edited.replace("ticket_id:", "ticket_idd:"))
        kept = http.post("/v1/webhooks/freshdesk", content=FRESHDESK, headers=HEADERS)
        assert kept.status_code == 200 and kept.json()["event"]["customer"]["tier"] == "gold"
    assert "freshdesk.yaml does not load; the previous version keeps serving" in server.logs()
    assert "unknown key `ticket_idd`" in server.logs()


def test_a_mapping_that_never_loaded_answers_503_with_findings(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    (rules / "webhooks" / "servicenow.yaml").write_text("system: servicenow\nticket_id: {from: incident.number}\n"
                                                         "fields:\n  failure.typ: {from: incident.u_failure_type}\n")
    (rules / "webhooks" / "freshdesk.yaml").unlink()
    with running_server("webhook-mapping-broken", rules, env=d.ENV, ready_path="/readyz") as server, \
            server.client() as http:
        response = http.post("/v1/webhooks/servicenow", content=d.body_of(d.servicenow_repeated_outage()),
                             headers={**d.JSON, "X-Webhook-Token": d.SERVICENOW_TOKEN})
        assert response.status_code == 503 and response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["code"] == "webhook-mapping-invalid"
        found = {(item["line"], item["code"]) for item in body["findings"]}
        assert (4, "unknown-field") in found
        assert any("did you mean `failure.type`" in item.get("hint", "") for item in body["findings"])

        missing = http.post("/v1/webhooks/freshdesk", content=FRESHDESK, headers=HEADERS)
        assert missing.status_code == 503 and "freshdesk.yaml" in missing.json()["detail"]

        unauthenticated = http.post("/v1/webhooks/servicenow", content=b"{}", headers=d.JSON)
        assert unauthenticated.status_code == 401   # the findings are not shown before authentication

        ok = http.post("/v1/webhooks/zendesk", content=d.body_of(d.zendesk_late_delivery()),
                       headers=d.zendesk_headers(d.body_of(d.zendesk_late_delivery())))
        assert ok.status_code == 200   # other systems are unaffected


def test_an_edit_of_the_phrase_file_applies_at_the_next_delivery(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path)
    phrases = rules / "webhooks" / "signals.yaml"
    original = phrases.read_text()
    payload = d.freshdesk_double_charge()
    ticket = payload["freshdesk_webhook"]
    ticket["ticket_cf_failure_type"], ticket["ticket_tags"] = "", ""
    ticket["ticket_subject"], ticket["ticket_description"] = "Order o-9910", "<div>I paid two times.</div>"
    body = d.body_of(payload)
    with running_server("webhook-phrases-reload", rules, env=d.ENV, ready_path="/readyz") as server, \
            server.client() as http:
        before = http.post("/v1/webhooks/freshdesk", content=body, headers=HEADERS)
        assert before.status_code == 422, before.text
        rewrite(phrases, original.replace("double_charge: [charged twice,",
                                          "double_charge: [paid two times, charged twice,"))
        after = http.post("/v1/webhooks/freshdesk", content=body, headers=HEADERS)
        assert after.status_code == 200, after.text
        assert after.json()["mapped"]["failure.type"]["phrase"] == "paid two times"
        rewrite(phrases, original.replace("double_charge: [charged twice,", "double_charge: [[oops,"))
        kept = http.post("/v1/webhooks/freshdesk", content=body, headers=HEADERS)
        assert kept.status_code == 200   # a broken phrase file keeps the previous mapping serving
    assert "phrases-invalid" in server.logs()
