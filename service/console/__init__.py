"""The ops console: a static web page served at /console/ by the service itself.

The page (HTML, CSS and ES modules in `static/`, shipped as package data) talks to
the same /v1 API as any client, with the API key the person types kept in the tab's
sessionStorage. Nothing is built at run time and nothing is fetched from elsewhere.
Every console response carries security headers: scripts and styles from the
service's own origin only, no framing, no MIME sniffing. The routes are left out
of the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

PREFIX = "/console"

def security_headers(style_src: str = "'self'", img_src: str = "'self'") -> dict[str, str]:
    """The headers of every page the service serves itself (the console, /docs): scripts, styles and
    requests from its own origin only, no framing, no MIME sniffing."""
    policy = "; ".join(["default-src 'none'", "script-src 'self'", f"style-src {style_src}", f"img-src {img_src}",
                        "connect-src 'self'", "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'"])
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        # Revalidate every time (the ETag makes that cheap), so an upgrade is seen at once.
        "Cache-Control": "no-cache",
    }


SECURITY_HEADERS = security_headers()
CONTENT_SECURITY_POLICY = SECURITY_HEADERS["Content-Security-Policy"]


class SecuredFiles(StaticFiles):
    """Static files, each response with `headers` (the console's security headers by default)."""

    def __init__(self, *args: Any, headers: dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.security = headers or SECURITY_HEADERS

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(self.security)
        return response


ConsoleFiles = SecuredFiles


async def _to_slash() -> Response:
    # Relative, so it stays right behind a proxy that serves the app under a prefix.
    return RedirectResponse("console/", status_code=308, headers=SECURITY_HEADERS)


def mount(app: FastAPI) -> None:
    """Serve the console at /console/ (and redirect /console there), outside the OpenAPI document."""
    app.add_api_route(PREFIX, _to_slash, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount(PREFIX, ConsoleFiles(packages=[("service.console", "static")], html=True), name="console")
