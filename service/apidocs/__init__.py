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
from swagger_ui_bundle import swagger_ui_path

from ..console import SecuredFiles, security_headers

PREFIX = "/docs"

# Swagger UI sets style attributes on the elements it draws, and inlines small images.
SECURITY_HEADERS = security_headers(style_src="'self' 'unsafe-inline'", img_src="'self' data:")


def mount(app: FastAPI) -> None:
    """Serve /docs (the page), /docs/ui/* (Swagger UI's files) and /docs/app/* (the start-up script)."""
    index = _read_static("index.html")

    async def docs() -> Response:
        return Response(index, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)

    app.add_api_route(PREFIX, docs, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount(f"{PREFIX}/ui", SecuredFiles(directory=str(swagger_ui_path), headers=SECURITY_HEADERS),
              name="swagger-ui")
    app.mount(f"{PREFIX}/app", SecuredFiles(packages=[("service.apidocs", "static")], headers=SECURITY_HEADERS),
              name="docs-app")


def _read_static(name: str) -> bytes:
    from importlib.resources import files

    return (files("service.apidocs") / "static" / name).read_bytes()
