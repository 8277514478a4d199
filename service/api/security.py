"""The API-key dependency for /v1/* routes: 401 without or with a bad key, 403 without
the scope, 429 over the key's rate. Declared with fastapi.security so OpenAPI shows it."""

from __future__ import annotations

from typing import Awaitable, Callable

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from ..auth import Principal, Scope
from ..problems import ProblemError

API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKey",
                       description="An API key (RECOVERY_API_KEYS / RECOVERY_ADMIN_KEYS); required when keys "
                                   "are configured")
BEARER = HTTPBearer(auto_error=False, scheme_name="Bearer", description="The same API key as a bearer token")

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="service-recovery"'}


def require(scope: Scope) -> Callable[..., Awaitable[Principal | None]]:
    async def check(request: Request, api_key: str | None = Security(API_KEY),
                    bearer: HTTPAuthorizationCredentials | None = Security(BEARER)) -> Principal | None:
        store = request.app.state.keys
        if not store.enabled:
            return None
        key = api_key or (bearer.credentials if bearer is not None else None)
        if not key:
            raise ProblemError(401, "unauthenticated", "send an API key in the X-API-Key header or as "
                               "Authorization: Bearer <key>", headers=CHALLENGE)
        principal = store.lookup(key)
        if principal is None:
            raise ProblemError(401, "bad-credentials", "the API key is not valid", headers=CHALLENGE)
        if scope not in principal.scopes:
            raise ProblemError(403, "forbidden", f"the key named {principal.name!r} does not have the "
                               f"{scope} scope")
        wait = request.app.state.limiter.retry_after(principal.name)
        if wait is not None:
            raise ProblemError(429, "rate-limited", f"the key named {principal.name!r} is over its rate; "
                               f"retry in {wait} s", headers={"Retry-After": str(wait)})
        request.state.principal = principal
        return principal

    return check
