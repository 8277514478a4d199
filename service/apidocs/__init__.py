"""GET /docs: Swagger UI for the served OpenAPI document, from files shipped with the service.

Swagger UI's assets come from the `swagger-ui-bundle-v2` package (Swagger UI 5,
which renders OpenAPI 3.1) and the page and its start-up script from `static/`
here, so /docs works offline and loads nothing from a CDN. The responses carry a
Content-Security-Policy that allows scripts, styles and requests from the
service's own origin only (the page has no inline script), like the console's.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from swagger_ui_bundle import swagger_ui_path

PREFIX = "/docs"

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",  # Swagger UI sets style attributes on elements it draws
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class _Files(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def mount(app: FastAPI) -> None:
    """Serve /docs (the page), /docs/ui/* (Swagger UI's files) and /docs/app/* (the start-up script)."""
    index = _read_static("index.html")

    async def docs() -> Response:
        return Response(index, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)

    app.add_api_route(PREFIX, docs, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount(f"{PREFIX}/ui", _Files(directory=str(swagger_ui_path)), name="swagger-ui")
    app.mount(f"{PREFIX}/app", _Files(packages=[("service.apidocs", "static")]), name="docs-app")


def _read_static(name: str) -> bytes:
    from importlib.resources import files

    return (files("service.apidocs") / "static" / name).read_bytes()
