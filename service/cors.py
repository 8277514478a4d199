"""Cross-origin calls from browsers (a CRM widget on another origin), with Starlette's CORSMiddleware.

Off unless RECOVERY_CORS_ORIGINS names origins: without it no middleware is added, so
the decision path costs nothing more and browsers refuse cross-origin reads as usual.
It sits outside the API-key check, because a browser's preflight (OPTIONS) carries no
key and must be answered before the real request brings one.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

ALLOWED_HEADERS = ["Content-Type", "X-API-Key", "Authorization", "Idempotency-Key", "X-Request-ID"]
EXPOSED_HEADERS = ["X-Request-ID", "Retry-After", "Idempotency-Status"]


def install(app: FastAPI, origins: list[str]) -> None:
    if not origins:
        return
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                       allow_headers=ALLOWED_HEADERS, expose_headers=EXPOSED_HEADERS, allow_credentials=False,
                       max_age=600)
