"""The console in a real browser: Debian's chromium driven by Playwright, against a real server.

`make browser` (a prerequisite of `make test`) installs /usr/bin/chromium; Playwright's own
browser download is never used. Each test gets a new tab (its own sessionStorage), and
fails if the page threw a script error or broke its Content-Security-Policy.
Screenshots go to test-output/console/.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.console.helpers import GOLD_15
from tests.support import RULES, Server, running_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"]


# Package scope, not session: while Playwright's sync API is open, its event loop counts as
# running in this thread, so asyncio.run() elsewhere in the suite would refuse to start.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (it installs Debian's chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield launched
        launched.close()


@dataclass
class ConsoleServer:
    server: Server
    rules_dir: Path
    directory_name: str = "gold-15"

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def console(self) -> str:
        return self.server.url + "/console/"


@pytest.fixture(scope="package")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    """An open server (no keys) on a copy of the shipped rules, with one simulation directory."""
    base = tmp_path_factory.mktemp("console")
    rules_dir = base / "rules"
    shutil.copytree(RULES, rules_dir)
    candidate = base / "gold-15"
    shutil.copytree(RULES, candidate)
    (candidate / "50-customers.yaml").write_text(GOLD_15)
    env = {"RECOVERY_SIMULATION_DIRS": f"gold-15={candidate}", "RECOVERY_RELOAD_INTERVAL_SECONDS": "0",
           "RECOVERY_SHUTDOWN_DRAIN_SECONDS": "0"}
    with running_server("console", rules_dir, env=env, ready_path="/readyz") as live:
        yield ConsoleServer(live, rules_dir)


@dataclass
class Watched:
    """What the page did that a person would not see but a test must catch."""

    errors: list[str] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
def watched() -> Watched:
    return Watched()


@pytest.fixture(scope="package")
def context(browser: Browser) -> Iterator[BrowserContext]:
    """One browser profile for these tests; the console keeps nothing but per-tab sessionStorage."""
    shared = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True)
    yield shared
    shared.close()


@pytest.fixture
def page(context: BrowserContext, watched: Watched) -> Iterator[Page]:
    """A new tab (so a new, empty sessionStorage) for each test."""
    opened = context.new_page()
    opened.on("pageerror", lambda error: watched.errors.append(f"script error: {error}"))
    opened.on("console", lambda message: watched.errors.append(f"console: {message.text}")
              if "Content Security Policy" in message.text else None)
    opened.on("request", lambda request: watched.requests.append((request.url, request.headers)))
    yield opened
    opened.close()
    assert not watched.errors, watched.errors
