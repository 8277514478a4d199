"""The webhook settings: one credential set per ticketing system, all `RECOVERY_WEBHOOK_*`.

Two kinds per system: what authenticates a delivery to the service (signing
secrets, tokens, basic auth), and what the service uses to write the
recommendation back onto the ticket through the vendor's REST API (`*_API_URL`
and the API credentials). Write-back is off for a system until its API variables
are all set; setting some of them but not all stops the service at start.

`service.settings.Settings` inherits these fields, so they are read, validated and
reported like every other `RECOVERY_` variable (a bad value stops the service with
the variable's name). Secrets are `SecretStr`: they never appear in a repr, a log
line or an error message. An empty variable counts as not set. An API URL is
https (plain http only to a loopback address, for a local test double).

docs/webhooks.md lists every variable and the sender setting it matches.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator

MIN_SECRET_CHARS = 16

SECRET_FIELDS = (
    "webhook_zendesk_secret", "webhook_jira_secret", "webhook_jira_token",
    "webhook_freshdesk_token", "webhook_freshdesk_password",
    "webhook_servicenow_token", "webhook_servicenow_password", "webhook_salesforce_token",
    "webhook_intercom_secret",
)

WRITEBACK_FIELDS: dict[str, tuple[str, ...]] = {
    "zendesk": ("webhook_zendesk_api_url", "webhook_zendesk_api_email", "webhook_zendesk_api_token"),
    "freshdesk": ("webhook_freshdesk_api_url", "webhook_freshdesk_api_key"),
    "jira": ("webhook_jira_api_url", "webhook_jira_api_email", "webhook_jira_api_token"),
    "servicenow": ("webhook_servicenow_api_url", "webhook_servicenow_api_username",
                   "webhook_servicenow_api_password"),
    "salesforce": ("webhook_salesforce_api_url", "webhook_salesforce_client_id",
                   "webhook_salesforce_client_secret"),
    "intercom": ("webhook_intercom_access_token", "webhook_intercom_admin_id"),
}
"""Per system, the variables that together switch write-back on (the last one is checked)."""
_URL_FIELDS = tuple(f"webhook_{system}_api_url" for system in WRITEBACK_FIELDS)
_API_TEXT_FIELDS = tuple(name for names in WRITEBACK_FIELDS.values() for name in names
                         if name not in _URL_FIELDS)
_COST_FIELDS = tuple(f"webhook_{system}_cost_field" for system in WRITEBACK_FIELDS)


def variable(field_name: str) -> str:
    return "RECOVERY_" + field_name.upper()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookSettings(BaseModel):
    """Credentials and limits of the ticketing webhooks (see docs/webhooks.md)."""

    webhook_zendesk_secret: SecretStr | None = None
    """Zendesk webhook signing secret (HMAC-SHA256 over timestamp + body)."""
    webhook_jira_secret: SecretStr | None = None
    """Secret of a Jira admin webhook (X-Hub-Signature: sha256=<hex HMAC of the body>)."""
    webhook_jira_token: SecretStr | None = None
    """Shared token a Jira automation rule sends in the X-Webhook-Token header."""
    webhook_freshdesk_token: SecretStr | None = None
    """Shared token the Freshdesk rule sends in the X-Webhook-Token header."""
    webhook_freshdesk_username: str | None = None
    webhook_freshdesk_password: SecretStr | None = Field(default=None, validate_default=True)
    """Basic-auth credentials the Freshdesk rule sends ("Requires authentication")."""
    webhook_servicenow_token: SecretStr | None = None
    """Shared token the ServiceNow REST message sends in the X-Webhook-Token header."""
    webhook_servicenow_username: str | None = None
    webhook_servicenow_password: SecretStr | None = Field(default=None, validate_default=True)
    """Basic-auth credentials of the ServiceNow REST message's basic auth profile."""
    webhook_salesforce_token: SecretStr | None = None
    """Shared token in the outbound message's endpoint URL (?token=...); Salesforce sends no headers."""
    webhook_salesforce_organization_ids: str = ""
    """Comma-separated Salesforce org ids (15 or 18 characters) whose messages are accepted; empty: any."""
    webhook_intercom_secret: SecretStr | None = None
    """The Intercom app's client secret (X-Hub-Signature: sha1=<hex HMAC of the body>)."""
    webhook_timestamp_tolerance_seconds: int = Field(default=300, ge=10, le=86_400)
    """How far a signed delivery time may be from now (Zendesk) before the delivery counts as a replay."""
    webhook_mappings_dir: Path | None = None
    """Directory of the mapping files; default: `webhooks/` under RECOVERY_RULES_DIR."""

    # -- write-back: the recommendation posted onto the ticket (service/webhooks/writeback.py)
    webhook_writeback_timeout_seconds: float = Field(default=4.0, gt=0, le=60)
    """All the vendor API calls of one delivery finish within this time (Intercom waits 5 s for an answer)."""
    webhook_writeback_tags: bool = True
    """Also tag the ticket (`recovery_decided`, `recovery_needs_approval`) where the vendor has tags."""
    webhook_zendesk_api_url: str | None = None
    """https://<subdomain>.zendesk.com"""
    webhook_zendesk_api_email: str | None = None
    """The agent the API token belongs to; the note is written as this agent."""
    webhook_zendesk_api_token: SecretStr | None = Field(default=None, validate_default=True)
    webhook_zendesk_cost_field: str | None = None
    """Id of a text ticket field that gets the estimated cost, e.g. 360012399."""
    webhook_freshdesk_api_url: str | None = None
    """https://<domain>.freshdesk.com"""
    webhook_freshdesk_api_key: SecretStr | None = Field(default=None, validate_default=True)
    webhook_freshdesk_cost_field: str | None = None
    """Name of a text custom field that gets the estimated cost, e.g. cf_recovery_cost."""
    webhook_jira_api_url: str | None = None
    """https://<site>.atlassian.net"""
    webhook_jira_api_email: str | None = None
    webhook_jira_api_token: SecretStr | None = Field(default=None, validate_default=True)
    webhook_jira_cost_field: str | None = None
    """Id of a text custom field that gets the estimated cost, e.g. customfield_10060."""
    webhook_servicenow_api_url: str | None = None
    """https://<instance>.service-now.com"""
    webhook_servicenow_api_username: str | None = None
    webhook_servicenow_api_password: SecretStr | None = Field(default=None, validate_default=True)
    webhook_servicenow_cost_field: str | None = None
    """Column of a string field that gets the estimated cost, e.g. u_recovery_cost."""
    webhook_salesforce_api_url: str | None = None
    """The org's My Domain URL, https://<domain>.my.salesforce.com"""
    webhook_salesforce_client_id: str | None = None
    webhook_salesforce_client_secret: SecretStr | None = Field(default=None, validate_default=True)
    """The connected app's consumer key and secret (OAuth 2.0 client credentials flow)."""
    webhook_salesforce_api_version: str = Field(default="62.0", pattern=r"^\d{2}\.0$")
    webhook_salesforce_cost_field: str | None = None
    """API name of a text Case field that gets the estimated cost, e.g. Recovery_Cost__c."""
    webhook_intercom_api_url: str = "https://api.intercom.io"
    """https://api.intercom.io, or https://api.eu.intercom.io / https://api.au.intercom.io"""
    webhook_intercom_access_token: SecretStr | None = None
    webhook_intercom_admin_id: str | None = Field(default=None, validate_default=True)
    """The admin (teammate) the note is written as."""
    webhook_intercom_api_version: str = Field(default="2.11", pattern=r"^\d+\.\d+$")
    webhook_intercom_cost_field: str | None = None
    """Name of a conversation data attribute (text) that gets the estimated cost."""

    @field_validator(*SECRET_FIELDS, "webhook_freshdesk_username", "webhook_servicenow_username",
                     "webhook_mappings_dir", *_URL_FIELDS, *_API_TEXT_FIELDS, *_COST_FIELDS, mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip() == "" else value

    @field_validator(*SECRET_FIELDS)
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(f"use at least {MIN_SECRET_CHARS} characters (the value is not shown)")
        return value

    @field_validator("webhook_salesforce_organization_ids", mode="before")
    @classmethod
    def _org_ids(cls, value: object) -> object:
        if value is None:
            return ""
        if isinstance(value, str):
            for org in filter(None, (part.strip() for part in value.split(","))):
                if len(org) not in (15, 18) or not org.isalnum():
                    raise ValueError(f"{org!r} is not a Salesforce org id (15 or 18 letters and digits)")
        return value

    @field_validator("webhook_freshdesk_password", "webhook_servicenow_password")
    @classmethod
    def _basic_pair(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        user_field = info.field_name.replace("_password", "_username")  # type: ignore[union-attr]
        user_variable = "RECOVERY_" + user_field.upper()
        has_user = info.data.get(user_field) is not None
        if value is None and has_user:
            raise ValueError(f"is not set, but {user_variable} is: basic auth needs both")
        if value is not None and not has_user:
            raise ValueError(f"is set, but {user_variable} is not: basic auth needs both")
        return value

    @field_validator(*_URL_FIELDS)
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment \
                or parts.username or parts.password:
            raise ValueError(f"{value!r} is not a base URL such as https://example.zendesk.com")
        if parts.scheme == "http" and not _loopback(parts.hostname):
            raise ValueError("use https: the API credentials travel with every request (plain http is only "
                             "accepted to a loopback address)")
        return value.strip().rstrip("/")

    @field_validator(*(names[-1] for names in WRITEBACK_FIELDS.values()))
    @classmethod
    def _writeback_complete(cls, value: object, info: ValidationInfo) -> object:
        """Write-back needs every variable of its system, or none."""
        system = next(name for name, names in WRITEBACK_FIELDS.items() if names[-1] == info.field_name)
        names = WRITEBACK_FIELDS[system]
        given = [name for name in names[:-1] if info.data.get(name) is not None] + \
                ([names[-1]] if value is not None else [])
        if given and len(given) != len(names):
            missing = [variable(name) for name in names if name not in given]
            raise ValueError(f"write-back to {system} needs {', '.join(map(variable, names))}; "
                             f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set")
        return value

    def writeback_enabled(self, system: str) -> bool:
        names = WRITEBACK_FIELDS.get(system)
        return names is not None and all(getattr(self, name) is not None for name in names)

    def salesforce_organizations(self) -> tuple[str, ...]:
        return tuple(filter(None, (part.strip() for part in self.webhook_salesforce_organization_ids.split(","))))
