"""Helpers for the console's browser tests."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.support import OUTPUT, RULES

SHOTS = OUTPUT / "console"
# The README's walkthrough change: gold customers get a 15 euro credit instead of 10.
GOLD_15 = (RULES / "50-customers.yaml").read_text().replace('EUR: "10.00"', 'EUR: "15.00"')


def shoot(page: Page, name: str, full_page: bool = True) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def open_console(page: Page, url: str, view: str = "") -> None:
    """Open the console and wait until it has the live ruleset."""
    page.goto(url + (f"#{view}" if view else ""))
    page.locator("#ruleset-badge code").wait_for()
