"""The console with the keyboard only: focus order, visible focus, tabs, and Enter to submit."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from service.engine.loader import load_dir
from tests.conftest import API_KEY
from tests.console.conftest import ConsoleServer
from tests.console.helpers import open_console, shoot
from tests.support import RULES, Server

# The try-a-case view in the order Tab visits it, after the skip link and the selected tab.
FORM_ORDER = ["f-type", "f-severity", "f-root-cause", "f-recurring", "f-description", "f-tier", "f-prior",
              "f-ltv", "f-amount", "f-currency", "f-stake", "f-value-received", "f-channel", "f-minutes",
              "f-request", "f-locale", "f-event-id", "decide-button"]


def focused(page: Page) -> str:
    return str(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))


def outline(page: Page) -> str:
    return str(page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                             " return `${s.outlineStyle} ${s.outlineWidth}`; })()"))


def test_tab_and_enter_through_the_try_a_case_form(page: Page, console_server: ConsoleServer) -> None:
    open_console(page, console_server.console)
    page.get_by_role("button", name="Double charge").wait_for()

    page.keyboard.press("Tab")
    assert focused(page) == "Skip to the content"
    page.keyboard.press("Tab")
    assert focused(page) == "tab-try"
    assert outline(page) == "solid 3px", "the focused tab shows no focus ring"
    examples = page.locator("#example-buttons button")
    for index in range(examples.count()):
        page.keyboard.press("Tab")
        assert focused(page) == examples.nth(index).inner_text()

    # Start from an example with Enter, then change fields by typing, as a keyboard user would.
    names = [examples.nth(index).inner_text() for index in range(examples.count())]
    for _ in range(len(names) - 1 - names.index("Double charge")):
        page.keyboard.press("Shift+Tab")
    assert focused(page) == "Double charge"
    page.keyboard.press("Enter")
    expect(page.get_by_label("Order amount")).to_have_value("59.90")
    for _ in range(len(names) - 1 - names.index("Double charge")):
        page.keyboard.press("Tab")  # past the examples after it

    visited = []
    for expected in FORM_ORDER:
        page.keyboard.press("Tab")
        visited.append(focused(page))
        assert outline(page) == "solid 3px", f"#{visited[-1]} shows no focus ring"
        if expected == "f-tier":
            page.keyboard.type("gold")  # a closed <select> picks the option that starts with what is typed
        elif expected == "f-amount":
            page.keyboard.press("Control+A")
            page.keyboard.type("120.00")
        elif expected == "f-event-id":
            page.keyboard.type("keyboard-1")
            break
    assert visited == FORM_ORDER[:-1]
    expect(page.get_by_label("Tier")).to_have_value("gold")

    page.keyboard.press("Enter")  # Enter in a text field submits the form
    expect(page.locator("#decision-heading")).to_be_focused()
    expect(page.locator(".decision-meta")).to_contain_text("Event keyboard-1")
    expect(page.locator("#mix [data-component=refund] dd")).to_have_text("120.00 EUR")
    expect(page.locator('#rules-fired li[data-rule="money-owed-back"]')).to_be_visible()
    shoot(page, "keyboard-decided", full_page=False)


def test_the_views_are_tabs_the_arrow_keys_move_between(page: Page, console_server: ConsoleServer) -> None:
    open_console(page, console_server.console)
    page.get_by_role("tab", name="Try a case").focus()
    page.keyboard.press("ArrowRight")
    rules_tab = page.get_by_role("tab", name="Rules", exact=True)
    expect(rules_tab).to_be_focused()
    expect(rules_tab).to_have_attribute("aria-selected", "true")
    expect(page.locator("#panel-rules")).to_be_visible()
    expect(page.locator("#panel-try")).to_be_hidden()
    assert page.url.endswith("#rules")

    for _ in range(3):
        page.keyboard.press("Tab")
        if focused(page) == "rules-filter":
            break
    assert focused(page) == "rules-filter"
    page.keyboard.type("platinum")
    expect(page.locator("#rules-count")).to_contain_text(f"of {len(load_dir(RULES).rules)} rules")

    page.get_by_role("tab", name="Rules", exact=True).focus()
    page.keyboard.press("End")
    expect(page.get_by_role("tab", name="Ledger")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowRight")  # wraps round to the first
    expect(page.get_by_role("tab", name="Try a case")).to_be_focused()
    expect(page.locator("#panel-try")).to_be_visible()


def test_the_key_dialog_takes_enter(page: Page, secured_server: Server) -> None:
    page.goto(secured_server.url + "/console/")
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_label("API key", exact=True)).to_be_focused()
    page.keyboard.type(API_KEY)
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#ruleset-badge code")).to_be_visible()
