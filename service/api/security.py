"""API keys on /v1/*: 401 without or with a bad key, 403 without the scope, 429 over the key's rate.

`ApiKeys` is pure ASGI middleware, so the check costs the same on every route
and nothing per route (a FastAPI dependency costs ~10% of a decision request's
CPU). `POST /v1/ruleset:reload` and `POST /v1/ledger/erasures` need the admin scope, every other /v1/* route
the decide scope; the webhooks authenticate with their own schemes and are left
alone. `document()` adds the schemes to the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from ..auth import KeyStore, RateLimiter, Scope
from ..problems import ProblemError
from ..webhooks import is_exempt_from_api_keys
from .body import ASGIApp, Receive, Send

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="service-recovery"'}
ADMIN_PATHS = frozenset({"/v1/ruleset:reload", "/v1/ledger/erasures"})
SCHEMES = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
               "description": "An API key (RECOVERY_API_KEYS / RECOVERY_ADMIN_KEYS); required when keys are "
                              "configured"},
    "Bearer": {"type": "http", "scheme": "bearer", "description": "The same API key as a bearer token"},
}


def required_scope(path: str) -> Scope | None:
    if not path.startswith("/v1/") or is_exempt_from_api_keys(path):
        return None
    return "admin" if path in ADMIN_PATHS else "decide"


def _key(headers: list[tuple[bytes, bytes]]) -> str | None:
    bearer = None
    for name, value in headers:
        if name == b"x-api-key":
            return value.decode("latin-1")
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                bearer = credentials.strip()
    return bearer


class ApiKeys:
    def __init__(self, app: ASGIApp, keys: KeyStore, limiter: RateLimiter):
        self.app = app
        self.keys = keys
        self.limiter = limiter

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys.enabled:
            await self.app(scope, receive, send)
            return
        needed = required_scope(scope["path"])
        if needed is None:
            await self.app(scope, receive, send)
            return
        key = _key(scope["headers"])
        problem = None
        if not key:
            problem = ProblemError(401, "unauthenticated", "send an API key in the X-API-Key header or as "
                                   "Authorization: Bearer <key>", headers=CHALLENGE)
        else:
            principal = self.keys.lookup(key)
            if principal is None:
                problem = ProblemError(401, "bad-credentials", "the API key is not valid", headers=CHALLENGE)
            elif needed not in principal.scopes:
                problem = ProblemError(403, "forbidden", f"the key named {principal.name!r} does not have the "
                                       f"{needed} scope")
            else:
                scope.setdefault("state", {})["principal"] = principal
                wait = self.limiter.retry_after(principal.name)
                if wait is not None:
                    problem = ProblemError(429, "rate-limited", f"the key named {principal.name!r} is over its "
                                           f"rate; retry in {wait} s", headers={"Retry-After": str(wait)})
        if problem is not None:
            await problem.response()(scope, receive, send)
            return
        await self.app(scope, receive, send)


def document(schema: dict[str, Any]) -> None:
    """Declare the key schemes on every operation that needs a key."""
    schema.setdefault("components", {}).setdefault("securitySchemes", {}).update(SCHEMES)
    for path, item in schema.get("paths", {}).items():
        if required_scope(path) is None:
            continue
        for operation in item.values():
            operation["security"] = [{"ApiKey": []}, {"Bearer": []}]
