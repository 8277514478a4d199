"""Browse the rules: the live ruleset, searchable, with its digest, load time and last reload failure."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.console.conftest import ConsoleServer
from tests.console.helpers import open_console, shoot

BROKEN = """rules:
  - id: broken-rule
    description: a typo in a field name
    when:
      failure.sevrity: 3
    then:
      discount: {percent: 5, valid_days: 30}
"""


def test_the_live_rules_catalogues_and_limits_can_be_filtered(page: Page, console_server: ConsoleServer) -> None:
    live = httpx.get(console_server.url + "/v1/ruleset").json()
    open_console(page, console_server.console, "rules")

    meta = page.locator("#ruleset-meta")
    expect(meta).to_contain_text(live["digest"])
    expect(meta).to_contain_text(live["loaded_at"].replace("T", " ").replace("+00:00", " UTC"))
    expect(page.locator("#ruleset-badge")).to_contain_text(f"{live['name']} {live['version']}")
    rows = page.locator("#rules-table tbody tr")
    expect(rows).to_have_count(len(live["rules"]))
    first = live["rules"][0]
    expect(rows.first).to_contain_text(f"{first['file']}:{first['line']}")
    expect(page.locator("#types-table tbody tr")).to_have_count(len(live["catalogues"]["failure_types"]))
    expect(page.locator("#types-table")).to_contain_text("the customer was charged twice")
    expect(page.locator("#other-catalogues")).to_contain_text("Tiers, lowest first")
    limits = page.locator("#limits-table")
    expect(limits).to_contain_text("at most 75% of the order; at most 150.00 EUR, 165.00 USD")
    expect(limits).to_contain_text("A manager approves above 300.00 EUR")
    expect(limits).to_contain_text("A supervisor approves when the customer had at least 3 recoveries in 90 days")
    expect(page.locator("#reload-failure-panel")).to_have_count(0)
    shoot(page, "rules")

    page.get_by_label("Filter rules, catalogues and limits").fill("platinum")
    wanted = [rule["id"] for rule in live["rules"]
              if "platinum" in f"{rule['id']} {rule['description']} {rule['file']} {rule['when']} {rule['then']}".lower()]
    assert 0 < len(wanted) < len(live["rules"])
    expect(page.locator("#rules-table tbody tr:visible th")).to_have_text(wanted)
    expect(page.locator("#rules-count")).to_contain_text(f"Showing {len(wanted)} of {len(live['rules'])} rules")
    expect(page.locator("#other-catalogues li:visible")).to_have_text(["platinum"])
    shoot(page, "rules-filtered", full_page=False)

    page.get_by_label("Filter rules, catalogues and limits").fill("money double")
    expect(page.locator("#types-table tbody tr:visible th")).to_have_text(["double_charge"])
    page.get_by_label("Filter rules, catalogues and limits").fill("")
    expect(page.locator("#rules-table tbody tr:visible")).to_have_count(len(live["rules"]))


def test_each_rule_shows_its_when_and_then_with_amounts(page: Page, console_server: ConsoleServer) -> None:
    live = {rule["id"]: rule for rule in httpx.get(console_server.url + "/v1/ruleset").json()["rules"]}
    assert live["tier-gold-care"]["when"]["customer.tier"] == {"at_least": "gold"}
    open_console(page, console_server.console, "rules")
    gold = page.locator('#rules-table tr[data-rule="tier-gold-care"]')
    expect(gold.locator("td.when")).to_contain_text("customer.tier: {at_least: gold}")
    expect(gold.locator("td.when")).to_contain_text("failure.root_cause: [provider, unknown]")
    expect(gold.locator("td.then")).to_contain_text("discount: {percent: 15, valid_days: 60}")
    floor = page.locator('#rules-table tr[data-rule="fair-floor-credit"]')
    expect(floor.locator("td.then")).to_contain_text("credit: {amount: {EUR: 5.00}, expires_in_days: 180}")
    page.get_by_label("Filter rules, catalogues and limits").fill("at_least: gold")
    expect(page.locator('#rules-table tr[data-rule="tier-gold-care"]')).to_be_visible()


def test_a_failed_reload_is_shown_with_its_findings(page: Page, console_server: ConsoleServer) -> None:
    broken = console_server.rules_dir / "60-broken.yaml"
    broken.write_text(BROKEN)
    try:
        refused = httpx.post(console_server.url + "/v1/ruleset:reload")
        assert refused.status_code == 422, refused.text
        open_console(page, console_server.console, "rules")
        panel = page.locator("#reload-failure-panel")
        expect(panel).to_contain_text("The last reload failed")
        expect(panel).to_contain_text("the ruleset shown here keeps serving")
        expect(panel.locator(".findings li").first).to_contain_text("60-broken.yaml:5")
        expect(panel).to_contain_text("unknown field `failure.sevrity`")
        expect(panel).to_contain_text("Fix: did you mean `failure.severity`?")
        expect(page.locator("#ruleset-badge")).to_contain_text("the last reload failed")
        shoot(page, "rules-reload-failure")
    finally:
        broken.unlink()
        assert httpx.post(console_server.url + "/v1/ruleset:reload").status_code == 200

    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("#reload-failure-panel")).to_have_count(0)
    expect(page.locator("#ruleset-badge")).not_to_contain_text("failed")
