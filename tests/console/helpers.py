"""Helpers for the console's browser tests."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.support import OUTPUT, RULES

SHOTS = OUTPUT / "console"
# The README's walkthrough change: gold customers get a 15 euro credit instead of 10.
# The walkthrough's change: gold customers also get a 15 euro credit (written once, converted for every currency).
GOLD_15 = (RULES / "50-customers.yaml").read_text().replace(
    "      respond_within_minutes: 10\n      discount: {percent: 15, valid_days: 60}\n",
    "      respond_within_minutes: 10\n      discount: {percent: 15, valid_days: 60}\n"
    "      credit: {amount: {EUR: \"15.00\"}, expires_in_days: 180}\n", 1)
assert GOLD_15 != (RULES / "50-customers.yaml").read_text()


def shoot(page: Page, name: str, full_page: bool = True) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def open_console(page: Page, url: str, view: str = "") -> None:
    """Open the console and wait until it has the live ruleset."""
    page.goto(url + (f"#{view}" if view else ""))
    page.locator("#ruleset-badge code").wait_for()
