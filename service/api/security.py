"""API keys on /v1/*: 401 without or with a bad key, 403 without the scope, 429 over the key's rate.

`ApiKeys` is pure ASGI middleware, so the check costs the same on every route
and nothing per route (a FastAPI dependency costs ~10% of a decision request's
CPU). `POST /v1/ruleset:reload` and `POST /v1/ledger/erasures` need the admin scope, the simulations the
simulate scope, every other /v1/* route the decide scope, and so does the MCP endpoint
at /mcp (its tools decide like POST /v1/decisions); the webhooks
authenticate with their own schemes and are left alone. A client address that
sent too many wrong keys gets 429 for a while (`auth.FailureLimiter`). An empty
`X-API-Key` counts as absent, so a bearer token beside it is used.
`document()` adds the schemes to the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from ..auth import FailureLimiter, KeyStore, RateLimiter, Scope
from ..problems import ProblemError
from ..webhooks import is_exempt_from_api_keys
from .body import ASGIApp, Receive, Send

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="service-recovery"'}
ADMIN_PATHS = frozenset({"/v1/ruleset:reload", "/v1/ledger/erasures"})
SIMULATE_PREFIX = "/v1/simulations"
MCP_PATH = "/mcp"
SCHEMES = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
               "description": "An API key (RECOVERY_API_KEYS / RECOVERY_ADMIN_KEYS); required when keys are "
                              "configured"},
    "Bearer": {"type": "http", "scheme": "bearer", "description": "The same API key as a bearer token"},
}


def required_scope(path: str) -> Scope | None:
    if path == MCP_PATH or path.startswith(MCP_PATH + "/"):
        return "decide"
    if not path.startswith("/v1/") or is_exempt_from_api_keys(path):
        return None
    if path in ADMIN_PATHS:
        return "admin"
    return "simulate" if path.startswith(SIMULATE_PREFIX) else "decide"


def _key(headers: list[tuple[bytes, bytes]]) -> str | None:
    bearer = None
    for name, value in headers:
        if name == b"x-api-key" and value.strip():
            return value.decode("latin-1").strip()
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                bearer = credentials.strip()
    return bearer


class ApiKeys:
    def __init__(self, app: ASGIApp, keys: KeyStore, limiter: RateLimiter, failures: FailureLimiter | None = None):
        self.app = app
        self.keys = keys
        self.limiter = limiter
        self.failures = failures or FailureLimiter(0)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys.enabled:
            await self.app(scope, receive, send)
            return
        needed = required_scope(scope["path"])
        if needed is None:
            await self.app(scope, receive, send)
            return
        key = _key(scope["headers"])
        address = (scope.get("client") or ("unknown",))[0]
        problem = None
        blocked = self.failures.blocked(address)
        if blocked is not None:
            problem = ProblemError(429, "too-many-bad-keys", f"too many requests with a wrong API key from this "
                                   f"address; retry in {blocked} s", headers={"Retry-After": str(blocked)})
        elif not key:
            problem = ProblemError(401, "unauthenticated", "send an API key in the X-API-Key header or as "
                                   "Authorization: Bearer <key>", headers=CHALLENGE)
        else:
            principal = self.keys.lookup(key)
            if principal is None:
                self.failures.failed(address)
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
