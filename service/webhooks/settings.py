"""The webhook settings: one credential set per ticketing system, all `RECOVERY_WEBHOOK_*`.

`service.settings.Settings` inherits these fields, so they are read, validated and
reported like every other `RECOVERY_` variable (a bad value stops the service with
the variable's name). Secrets are `SecretStr`: they never appear in a repr, a log
line or an error message. An empty variable counts as not set.

docs/webhooks.md lists every variable and the sender setting it matches.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator

MIN_SECRET_CHARS = 16

SECRET_FIELDS = (
    "webhook_zendesk_secret", "webhook_jira_secret", "webhook_jira_token",
    "webhook_freshdesk_token", "webhook_freshdesk_password",
    "webhook_servicenow_token", "webhook_servicenow_password", "webhook_salesforce_token",
)


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
    webhook_timestamp_tolerance_seconds: int = Field(default=300, ge=10, le=86_400)
    """How far a signed delivery time may be from now (Zendesk) before the delivery counts as a replay."""
    webhook_mappings_dir: Path | None = None
    """Directory of the mapping files; default: `webhooks/` under RECOVERY_RULES_DIR."""

    @field_validator(*SECRET_FIELDS, "webhook_freshdesk_username", "webhook_servicenow_username",
                     "webhook_mappings_dir", mode="before")
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

    def salesforce_organizations(self) -> tuple[str, ...]:
        return tuple(filter(None, (part.strip() for part in self.webhook_salesforce_organization_ids.split(","))))
