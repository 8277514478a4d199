"""Compare: a candidate against the live ruleset over events, shown as a report with charts."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.console.conftest import ConsoleServer
from tests.console.helpers import GOLD_15, open_console, shoot
from tests.test_decisions_http import CONTRACT_EXAMPLE


def signed(delta: str) -> str:
    return f"+{delta}" if Decimal(delta) > 0 else delta


def test_a_pasted_file_is_compared_on_the_sample_with_charts(page: Page, console_server: ConsoleServer) -> None:
    expected = httpx.post(console_server.url + "/v1/simulations",
                          json={"candidate": {"files": {"50-customers.yaml": GOLD_15}}}, timeout=120).json()
    eur = expected["cost_by_currency"]["EUR"]
    assert Decimal(eur["delta"]) > 0

    open_console(page, console_server.console, "compare")
    page.get_by_label("File name").fill("50-customers.yaml")
    page.get_by_label("Rules file (YAML)").fill(GOLD_15)
    page.get_by_role("button", name="Compare", exact=True).click()

    report = page.locator("#report")
    expect(page.locator("#report-heading")).to_be_focused(timeout=60_000)
    expect(report.locator(".stat").nth(1)).to_contain_text(f"{expected['changed']} of {expected['compared']}")
    expect(report).to_contain_text("against live ruleset with 50-customers.yaml")
    eur_row = report.locator('#currency-table tr[data-currency="EUR"] td')
    expect(eur_row.nth(0)).to_have_text(eur["baseline"])
    expect(eur_row.nth(1)).to_have_text(eur["candidate"])
    expect(eur_row.nth(2)).to_contain_text(signed(eur["delta"]))
    # The credit is written once, in euros: every currency's decisions move with it.
    usd = expected["cost_by_currency"]["USD"]
    assert Decimal(usd["delta"]) > 0
    expect(report.locator('#currency-table tr[data-currency="USD"] td').nth(2)).to_contain_text(signed(usd["delta"]))

    # Charts: the currency chart has a bar per currency, up for each that costs more.
    currency_chart = report.locator("svg.chart").first
    expect(currency_chart.locator("rect.bar")).to_have_count(len(expected["cost_by_currency"]))
    up = [code for code, row in expected["cost_by_currency"].items() if Decimal(row["delta"]) > 0]
    expect(currency_chart.locator("rect.bar.up")).to_have_count(len(up))

    # By segment: only gold customers in euros change, and the chart has a bar pair per tier.
    expect(page.get_by_label("Currency", exact=True).first).to_have_value("EUR")
    gold = next(row for row in expected["cost_by"]["tier"] if row["segment"] == "gold" and row["currency"] == "EUR")
    gold_cells = report.locator('#segment-table tr[data-segment="gold"] td')
    expect(gold_cells.nth(1)).to_have_text(str(gold["changed"]))
    expect(gold_cells.nth(4)).to_contain_text(signed(gold["delta"]))
    expect(report.locator('#segment-table tr[data-segment="standard"] td').nth(4)).to_contain_text("0.00")
    tiers = [row for row in expected["cost_by"]["tier"] if row["currency"] == "EUR"]
    expect(report.locator("#segment-view svg rect.bar")).to_have_count(2 * len(tiers))
    shoot(page, "compare")

    page.get_by_label("Segment by").select_option("failure_type")
    types = [row["segment"] for row in expected["cost_by"]["failure_type"] if row["currency"] == "EUR"]
    expect(report.locator("#segment-table tbody th")).to_have_text([name.replace("_", " ") for name in types])
    expect(report.locator("#segment-view figcaption")).to_contain_text("Cost by failure type in EUR")

    mover = expected["top_movers"]["EUR"][0]
    expect(report.locator("#movers-EUR tbody tr").first).to_contain_text(mover["event_id"])
    # which component moved, and which rule fired only under one side (issue 18)
    assert mover["components"]
    expect(report.locator("#movers-EUR tbody tr").first.locator("td.moved")).to_contain_text(mover["components"][0])
    for rule in mover["rules_added"]:
        expect(report.locator("#movers-EUR tbody tr").first.locator("td.moved")).to_contain_text(f"+ {rule}")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the full HTML report").click()
    html = Path(download.value.path()).read_text()
    assert download.value.suggested_filename == "simulation.html"
    assert html.startswith("<!doctype html>") and "<svg" in html and "Cost by tier" in html


def test_a_directory_candidate_on_uploaded_events(page: Page, console_server: ConsoleServer,
                                                  tmp_path: Path) -> None:
    gold = {**CONTRACT_EXAMPLE, "event_id": "gold-1"}
    standard = {**CONTRACT_EXAMPLE, "event_id": "standard-1", "customer": {"tier": "standard"}}
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(event) for event in (gold, standard, gold)) + "\n\n")

    open_console(page, console_server.console, "compare")
    page.get_by_label("A rules directory the service was told about").check()
    expect(page.get_by_label("Directory", exact=True)).to_have_value(console_server.directory_name)
    expect(page.get_by_label("Rules file (YAML)")).to_be_hidden()
    page.get_by_label("My own events").check()
    page.get_by_label("Events file (.jsonl)").set_input_files(str(events))
    page.get_by_role("button", name="Compare", exact=True).click()

    report = page.locator("#report")
    expect(report.locator(".stat").first).to_contain_text("3")
    expect(report.locator(".stat").nth(1)).to_contain_text("2 of 3")
    expect(report).to_contain_text("against directory gold-15")
    # Each gold event: 17.00 -> 27.00 (the new 15 euro credit is paid as money, since the customer asked for a refund).
    expect(report.locator('#currency-table tr[data-currency="EUR"] td').nth(2)).to_contain_text("+20.00")
    expect(report.locator("#movers-EUR tbody th")).to_have_text(["gold-1", "gold-1"])
    shoot(page, "compare-directory")


def test_an_uploaded_broken_candidate_shows_its_findings_by_the_file(page: Page, console_server: ConsoleServer,
                                                                     tmp_path: Path) -> None:
    upload = tmp_path / "50-customers.yaml"
    upload.write_text(GOLD_15.replace("failure.severity: {gte: 2}", "failure.sevrity: {gte: 2}", 1))
    open_console(page, console_server.console, "compare")
    page.get_by_label("Upload a rules file").set_input_files(str(upload))
    expect(page.get_by_label("File name")).to_have_value("50-customers.yaml")
    expect(page.get_by_label("Rules file (YAML)")).to_have_value(upload.read_text())
    page.get_by_role("button", name="Compare", exact=True).click()

    expect(page.locator("#compare-problem .problem-detail")).to_have_text("the candidate rules do not load")
    findings = page.locator("#c-file-text-error")
    expect(findings).to_contain_text("unknown field `failure.sevrity`")
    expect(findings).to_contain_text("50-customers.yaml:")
    expect(findings).to_contain_text("Fix: did you mean `failure.severity`?")
    expect(page.get_by_label("Rules file (YAML)")).to_have_attribute("aria-invalid", "true")
    page.locator("#compare-problem").get_by_role("link", name="Rules file (YAML)").click()
    expect(page.get_by_label("Rules file (YAML)")).to_be_focused()
    expect(page.locator("#report")).to_be_hidden()
    shoot(page, "compare-findings")


def test_bad_input_is_named_before_anything_is_sent(page: Page, console_server: ConsoleServer,
                                                    tmp_path: Path) -> None:
    open_console(page, console_server.console, "compare")
    page.get_by_label("Rules file (YAML)").fill(GOLD_15)
    page.get_by_label("File name").fill("customers")
    page.get_by_label("File name").press("Enter")
    expect(page.locator("#c-file-name-error")).to_contain_text("Name the file it replaces")
    expect(page.get_by_label("File name")).to_be_focused()

    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(CONTRACT_EXAMPLE) + "\n{not json\n")
    page.get_by_label("File name").fill("50-customers.yaml")
    page.get_by_label("My own events").check()
    page.get_by_label("Events file (.jsonl)").set_input_files(str(events))
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page.locator("#c-events-file-error")).to_contain_text("Line 2 of events.jsonl is not JSON")
    expect(page.locator("#c-file-name-error")).to_have_count(0)
    expect(page.locator("#report")).to_be_hidden()
