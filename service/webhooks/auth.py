"""Is this delivery from the ticketing system it claims to be? Each system's own scheme.

    zendesk     X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(secret, timestamp + raw body)),
                X-Zendesk-Webhook-Signature-Timestamp within the tolerance of the service's clock
    jira        X-Hub-Signature = "sha256=" + hex(HMAC-SHA256(secret, raw body)) (admin webhooks),
                or the shared token in X-Webhook-Token (automation rules cannot sign)
    freshdesk   the shared token in X-Webhook-Token, or HTTP basic auth
    servicenow  the shared token in X-Webhook-Token, or HTTP basic auth
    salesforce  the shared token in the endpoint URL's `token` query parameter (outbound messages
                carry no custom headers), then the message's OrganizationId (`check_salesforce_org`)
    intercom    X-Hub-Signature = "sha1=" + hex(HMAC-SHA1(the app's client secret, raw body))

Signatures are computed over the raw bytes as received, and every comparison is
constant-time (`hmac.compare_digest`, on fixed-length digests for tokens and
passwords). A system with no credentials configured refuses every delivery: the
401 names the variable to set, and no problem ever echoes a secret.
`authenticate()` returns the scheme that passed or raises a 401 `ProblemError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Literal, Mapping

from pydantic import SecretStr

from ..problems import ProblemError
from .settings import WebhookSettings

Scheme = Literal["zendesk-signature", "hub-signature", "hub-sha1", "token", "basic", "query-token"]

TOKEN_HEADER = "X-Webhook-Token"
ZENDESK_SIGNATURE = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
HUB_SIGNATURE = "X-Hub-Signature"
TOKEN_QUERY = "token"


@dataclass(frozen=True)
class Credentials:
    """What a request presents, as read from its headers and query."""

    headers: Mapping[str, str]
    query: Mapping[str, str]

    def header(self, name: str) -> str | None:
        value = self.headers.get(name.lower())
        return value if value else None


def unauthorized(system: str, code: str, detail: str, basic: bool = False) -> ProblemError:
    challenge = f'Basic realm="{system}"' if basic else f'Webhook realm="{system}"'
    return ProblemError(401, code, detail, headers={"WWW-Authenticate": challenge},
                        extra={"system": system})


def _same(given: str, expected: SecretStr) -> bool:
    # Digests first: equal lengths, so the comparison time says nothing about the secret's length.
    return hmac.compare_digest(hashlib.sha256(given.encode("utf-8", "surrogateescape")).digest(),
                               hashlib.sha256(expected.get_secret_value().encode()).digest())


def _key(secret: SecretStr) -> bytes:
    return secret.get_secret_value().encode()


def zendesk_signature(secret: SecretStr, timestamp: str, body: bytes) -> str:
    """The X-Zendesk-Webhook-Signature Zendesk sends for `timestamp` and `body`."""
    return base64.b64encode(hmac.new(_key(secret), timestamp.encode() + body, hashlib.sha256).digest()).decode()


def hub_signature(secret: SecretStr, body: bytes) -> str:
    """The X-Hub-Signature a Jira admin webhook with `secret` sends for `body`."""
    return "sha256=" + hmac.new(_key(secret), body, hashlib.sha256).hexdigest()


def intercom_signature(secret: SecretStr, body: bytes) -> str:
    """The X-Hub-Signature Intercom sends for `body`, signed with the app's client secret."""
    return "sha1=" + hmac.new(_key(secret), body, hashlib.sha1).hexdigest()


def _signed_time(text: str) -> datetime | None:
    text = text.strip()
    if text.isdigit():
        try:
            return datetime.fromtimestamp(int(text), timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _verify_zendesk(system: str, secret: SecretStr, creds: Credentials, body: bytes, now: datetime,
                    tolerance: int) -> None:
    signature, timestamp = creds.header(ZENDESK_SIGNATURE), creds.header(ZENDESK_TIMESTAMP)
    if signature is None or timestamp is None:
        raise unauthorized(system, "webhook-unsigned", f"the delivery is not signed: Zendesk sends {ZENDESK_SIGNATURE} "
                           f"and {ZENDESK_TIMESTAMP} on every webhook request")
    expected = zendesk_signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode("latin-1", "replace")):
        raise unauthorized(system, "webhook-bad-signature", "the signature does not match the body: check that "
                           "RECOVERY_WEBHOOK_ZENDESK_SECRET is the webhook's signing secret")
    when = _signed_time(timestamp)
    if when is None:
        raise unauthorized(system, "webhook-stale", f"{ZENDESK_TIMESTAMP} is not a time")
    age = abs((now - when).total_seconds())
    if age > tolerance:
        raise unauthorized(system, "webhook-stale", f"the delivery was signed {int(age)} s away from the service's "
                           f"clock; more than {tolerance} s counts as a replay (RECOVERY_WEBHOOK_TIMESTAMP_"
                           "TOLERANCE_SECONDS)")


def _verify_hub(system: str, secret: SecretStr, creds: Credentials, body: bytes, algorithm: str = "sha256") -> None:
    """X-Hub-Signature as `<algorithm>=<hex HMAC of the body>`: sha256 for Jira, sha1 for Intercom."""
    header = creds.header(HUB_SIGNATURE) or ""
    method, _, digest = header.strip().partition("=")
    if method.lower() != algorithm or not digest:
        raise unauthorized(system, "webhook-bad-signature", f"{HUB_SIGNATURE} is not `{algorithm}=<hex digest>`")
    expected = (hub_signature if algorithm == "sha256" else intercom_signature)(secret, body).partition("=")[2]
    if not hmac.compare_digest(expected.encode(), digest.strip().lower().encode("latin-1", "replace")):
        what = "the webhook's secret" if algorithm == "sha256" else "the app's client secret"
        raise unauthorized(system, "webhook-bad-signature", "the signature does not match the body: check that "
                           f"RECOVERY_WEBHOOK_{system.upper()}_SECRET is {what}")


def _basic(creds: Credentials) -> tuple[str, str] | None:
    header = creds.header("Authorization")
    if header is None:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ("", "")  # presented, but unreadable: fails like a wrong password
    return (user, password) if sep else ("", "")


@dataclass(frozen=True)
class Option:
    """One way a system may authenticate, when its variables are set."""

    scheme: Scheme
    variables: tuple[str, ...]
    presented: Callable[[Credentials], bool]


def _env(name: str) -> str:
    return "RECOVERY_" + name.upper()


def options(system: str) -> tuple[Option, ...]:
    token = Option("token", (_env(f"webhook_{system}_token"),), lambda c: c.header(TOKEN_HEADER) is not None)
    basic = Option("basic", (_env(f"webhook_{system}_username"), _env(f"webhook_{system}_password")),
                   lambda c: _basic(c) is not None)
    if system == "zendesk":
        return (Option("zendesk-signature", (_env("webhook_zendesk_secret"),),
                       lambda c: c.header(ZENDESK_SIGNATURE) is not None or c.header(ZENDESK_TIMESTAMP) is not None),)
    if system == "jira":
        return (Option("hub-signature", (_env("webhook_jira_secret"),), lambda c: c.header(HUB_SIGNATURE) is not None),
                token)
    if system == "salesforce":
        return (Option("query-token", (_env("webhook_salesforce_token"),),
                       lambda c: bool(c.query.get(TOKEN_QUERY))),)
    if system == "intercom":
        return (Option("hub-sha1", (_env("webhook_intercom_secret"),),
                       lambda c: c.header(HUB_SIGNATURE) is not None),)
    return (token, basic)


def _configured(settings: WebhookSettings, option: Option) -> bool:
    return all(getattr(settings, variable.removeprefix("RECOVERY_").lower()) is not None
               for variable in option.variables)


def authenticate(system: str, settings: WebhookSettings, creds: Credentials, body: bytes,
                 now: datetime | None = None) -> Scheme:
    """The scheme the delivery passed, or a 401 ProblemError saying what is wrong."""
    available = options(system)
    configured = [option for option in available if _configured(settings, option)]
    basic_challenge = any(option.scheme == "basic" for option in configured)
    if not configured:
        names = " or ".join(" and ".join(option.variables) for option in available)
        raise unauthorized(system, "webhook-not-configured", f"{system} webhooks are refused until {names} "
                           "is set on the service (see docs/webhooks.md)")
    for option in configured:
        if option.presented(creds):
            _check(system, option, settings, creds, body, now or datetime.now(timezone.utc))
            return option.scheme
    presented_unconfigured = [option for option in available if option not in configured and option.presented(creds)]
    if presented_unconfigured:
        option = presented_unconfigured[0]
        raise unauthorized(system, "webhook-not-configured", f"the delivery uses {_describe(option.scheme)}, but "
                           f"{' and '.join(option.variables)} is not set on the service", basic_challenge)
    expected = " or ".join(_describe(option.scheme) for option in configured)
    raise unauthorized(system, "webhook-unsigned", f"the delivery carries no credentials; {system} deliveries "
                       f"must carry {expected}", basic_challenge)


def _describe(scheme: Scheme) -> str:
    return {
        "zendesk-signature": f"a Zendesk signature ({ZENDESK_SIGNATURE} and {ZENDESK_TIMESTAMP})",
        "hub-signature": f"a signature ({HUB_SIGNATURE}: sha256=...)",
        "hub-sha1": f"an Intercom signature ({HUB_SIGNATURE}: sha1=...)",
        "token": f"a shared token ({TOKEN_HEADER} header)",
        "basic": "basic auth (Authorization: Basic ...)",
        "query-token": f"a shared token (`{TOKEN_QUERY}` query parameter of the endpoint URL)",
    }[scheme]


def _check(system: str, option: Option, settings: WebhookSettings, creds: Credentials, body: bytes,
           now: datetime) -> None:
    scheme = option.scheme
    if scheme == "zendesk-signature":
        secret = settings.webhook_zendesk_secret
        if secret is not None:
            _verify_zendesk(system, secret, creds, body, now, settings.webhook_timestamp_tolerance_seconds)
        return
    if scheme == "hub-signature":
        secret = settings.webhook_jira_secret
        if secret is not None:
            _verify_hub(system, secret, creds, body)
        return
    if scheme == "hub-sha1":
        secret = settings.webhook_intercom_secret
        if secret is not None:
            _verify_hub(system, secret, creds, body, "sha1")
        return
    if scheme == "token":
        expected = getattr(settings, f"webhook_{system}_token")
        if not _same(creds.header(TOKEN_HEADER) or "", expected):
            raise unauthorized(system, "webhook-bad-credentials", f"the {TOKEN_HEADER} header does not match "
                               f"RECOVERY_WEBHOOK_{system.upper()}_TOKEN")
        return
    if scheme == "query-token":
        expected = getattr(settings, f"webhook_{system}_token")
        if not _same(creds.query.get(TOKEN_QUERY, ""), expected):
            raise unauthorized(system, "webhook-bad-credentials", f"the endpoint URL's `{TOKEN_QUERY}` parameter "
                               f"does not match RECOVERY_WEBHOOK_{system.upper()}_TOKEN")
        return
    user, password = _basic(creds) or ("", "")
    user_ok = _same(user, SecretStr(getattr(settings, f"webhook_{system}_username") or ""))
    password_ok = _same(password, getattr(settings, f"webhook_{system}_password"))
    if not (user_ok & password_ok):
        raise unauthorized(system, "webhook-bad-credentials", "the basic-auth username or password is wrong",
                           basic=True)


def check_salesforce_org(settings: WebhookSettings, organization_id: str | None) -> None:
    """After the token: the message's OrganizationId must be a configured org (when any is configured)."""
    allowed = settings.salesforce_organizations()
    if not allowed:
        return
    org = (organization_id or "").strip()
    if not any(org == known or (len(known) == 15 and org[:15] == known) for known in allowed):
        raise unauthorized("salesforce", "webhook-bad-credentials", "the message's OrganizationId is not one of "
                           "RECOVERY_WEBHOOK_SALESFORCE_ORGANIZATION_IDS")
