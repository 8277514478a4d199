"""The console with API keys: asked once, kept in the tab's sessionStorage only, sent as X-API-Key."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import API_KEY
from tests.console.conftest import ConsoleServer, Watched
from tests.console.helpers import shoot
from tests.support import Server


def api_calls(watched: Watched) -> list[tuple[str, dict[str, str]]]:
    return [(url, headers) for url, headers in watched.requests if "/v1/" in url]


def test_the_key_is_asked_once_and_kept_for_the_tab_only(page: Page, secured_server: Server,
                                                         watched: Watched) -> None:
    page.goto(secured_server.url + "/console/")
    dialog = page.get_by_role("dialog", name="API key needed")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("This service asks for an API key")
    shoot(page, "auth-key-dialog", full_page=False)

    key_field = page.get_by_label("API key", exact=True)
    key_field.fill("not-the-key-0123456789")
    key_field.press("Enter")
    expect(dialog).to_contain_text("The key was refused: the API key is not valid")
    key_field.fill(API_KEY)
    dialog.get_by_role("button", name="Use this key").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#ruleset-badge code")).to_be_visible()
    expect(page.locator("#key-status")).to_contain_text("API key kept for this tab")

    page.get_by_role("button", name="Late parcel, gold customer (the contract's example)").click()
    page.get_by_role("button", name="Decide").click()
    expect(page.locator("#estimated-cost")).to_have_text("17.00 EUR")
    page.get_by_role("tab", name="Compare rulesets").click()
    expect(page.get_by_label("A rules directory the service was told about")).to_be_disabled()
    # a decide key may not run simulations: the tab says so instead of failing silently
    expect(page.locator("#c-dir-hint")).to_contain_text("does not have the simulate scope")
    expect(dialog).to_be_hidden()

    assert page.evaluate("sessionStorage.getItem('service-recovery.api-key')") == API_KEY
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("document.cookie") == ""
    assert page.context.cookies() == []
    calls = api_calls(watched)
    assert all(API_KEY not in url and "not-the-key" not in url for url, _ in calls)
    assert API_KEY not in page.url
    keyed = [url for url, headers in calls if headers.get("x-api-key") == API_KEY]
    assert any(url.endswith("/v1/decisions?explain=true") for url in keyed)
    assert any(url.endswith("/v1/simulations/directories") for url in keyed)

    # Forgetting the key: the next call asks again; cancelling shows the service's refusal.
    page.get_by_role("tab", name="Try a case").click()
    page.get_by_role("button", name="Forget key").click()
    expect(page.locator("#key-status")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    page.get_by_role("button", name="Decide").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("#case-problem .problem-title")).to_have_text("Unauthorized (HTTP 401)")
    expect(page.locator("#case-problem .problem-detail")).to_contain_text("send an API key in the X-API-Key header")


def test_a_new_tab_asks_again_and_cancelling_explains(page: Page, secured_server: Server) -> None:
    page.goto(secured_server.url + "/console/")
    page.get_by_role("dialog", name="API key needed").get_by_role("button", name="Cancel").click()
    problem = page.locator("#global-problem")
    expect(problem).to_contain_text("Unauthorized (HTTP 401)")
    expect(page.locator("#ruleset-badge")).to_have_text("The live ruleset is not available.")
    problem.get_by_role("button", name="Enter an API key").click()
    page.get_by_label("API key", exact=True).fill(API_KEY)
    page.get_by_label("API key", exact=True).press("Enter")
    expect(problem).to_be_hidden()
    expect(page.locator("#ruleset-badge code")).to_be_visible()


def test_an_open_service_never_asks_for_a_key(page: Page, console_server: ConsoleServer, watched: Watched) -> None:
    page.goto(console_server.console)
    expect(page.locator("#ruleset-badge code")).to_be_visible()
    page.get_by_role("button", name="Decide").click()
    expect(page.locator("#estimated-cost")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("#key-status")).to_be_hidden()
    calls = api_calls(watched)
    assert calls and all("x-api-key" not in headers for _, headers in calls)
