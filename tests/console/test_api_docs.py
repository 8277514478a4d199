"""/docs renders Swagger UI from the service's own files, with nothing fetched from elsewhere (issue 14,
point 10; issue 18): in a real browser that may reach the service only."""

from __future__ import annotations

from playwright.sync_api import Page, Route, expect

from tests.console.conftest import ConsoleServer, Watched
from tests.support import OUTPUT


def test_swagger_ui_renders_offline(page: Page, console_server: ConsoleServer, watched: Watched) -> None:
    outside: list[str] = []

    def only_the_service(route: Route) -> None:
        if route.request.url.startswith(console_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_service)
    page.goto(console_server.url + "/docs")
    expect(page.locator(".opblock-summary-path", has_text="/v1/decisions").first).to_be_visible(timeout=20000)
    expect(page.locator(".title").first).to_contain_text("Service recovery decision engine")
    (OUTPUT / "console").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "console" / "api-docs.png"))
    assert outside == []
    assert not [url for url, _ in watched.requests if not url.startswith(console_server.url)]
