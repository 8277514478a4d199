"""The ledger tab: the reports of a server whose ledger holds known decisions and outcomes, with charts."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.console.conftest import ConsoleServer
from tests.console.helpers import open_console, shoot
from tests.ledger.test_reports import EVENTS
from tests.support import RULES, Server, running_server


@pytest.fixture(scope="module")
def ledger_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("console-ledger")
    env = {"RECOVERY_LEDGER_URL": f"sqlite:///{directory / 'ledger.sqlite3'}",
           "RECOVERY_LEDGER_SPOOL_DIR": str(directory / "spool"), "RECOVERY_RELOAD_INTERVAL_SECONDS": "0"}
    with running_server("console-ledger", RULES, env=env, ready_path="/readyz") as live, live.client() as http:
        decided = [http.post("/v1/decisions", json=event).json() for event in EVENTS]
        for decision, result in zip(decided, ("accepted", "declined", "accepted")):
            answer = http.post(f"/v1/decisions/{decision['decision_id']}/outcome",
                               json={"result": result, "csat": 4, "source": "console"})
            assert answer.status_code == 201
        yield live


def test_the_ledger_tab_shows_the_summary_breakdown_and_pareto(page: Page, ledger_console: Server,
                                                               tmp_path: Path) -> None:
    expected = httpx.get(ledger_console.url + "/v1/reports/summary").json()
    assert expected["decisions"] == len(EVENTS)
    open_console(page, ledger_console.url + "/console/", "ledger")
    stats = page.locator("#ledger-stats")
    expect(stats).to_contain_text(f"Decisions{len(EVENTS)}3 with an outcome")
    expect(stats).to_contain_text("Accepted66.67%2 accepted, 1 declined, 0 countered")
    expect(stats).to_contain_text(f"Cost{expected['cost']['EUR']} EUR, {expected['cost']['USD']} USD")
    expect(page.locator("#ledger-status")).to_have_text(f"{len(EVENTS)} decisions on record in the period.")
    rows = page.locator("#ledger-breakdown tbody tr")
    expect(rows).to_have_count(4)  # four failure types
    expect(rows.first).to_contain_text("late delivery")
    figures = page.locator("#ledger-result figure")
    expect(figures.first).to_contain_text("Decisions and acceptances by failure type")
    expect(page.locator("#ledger-result")).to_contain_text("Root-cause Pareto")
    expect(page.locator("#ledger-result svg rect.bar").first).to_be_visible()
    shoot(page, "ledger")

    page.select_option("#l-by", "tier")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#ledger-breakdown thead")).to_contain_text("tier")
    expect(page.locator("#ledger-breakdown tbody tr").first).to_contain_text("gold")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the breakdown (CSV)").click()
    saved = tmp_path / "breakdown.csv"
    download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("tier,decisions,")
    assert any(line.startswith("gold,2,") for line in lines)


def test_the_ledger_tab_says_when_the_ledger_is_off(page: Page, console_server: ConsoleServer) -> None:
    open_console(page, console_server.console, "ledger")
    expect(page.locator("#ledger-problem")).to_contain_text("the ledger is switched off")
