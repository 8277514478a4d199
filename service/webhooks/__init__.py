"""Ticketing webhooks: Zendesk, Freshdesk, ServiceNow, Jira Service Management, Salesforce, Intercom.

A ticketing system posts a ticket to `POST /v1/webhooks/{system}`; the adapter checks
the sender's own authenticity scheme (`auth`), reads the delivery (`payloads`,
`salesforce`, `intercom`), turns the ticket into a failure event with the ops-editable
mapping in `rules/webhooks/<system>.yaml` and the phrases of `signals.yaml` (`mapfile`,
`mapping`, `paths`, `targets`, `signals`, `store`), decides it like `POST /v1/decisions`
does, writes the agent note (`note`) back onto the ticket through the vendor's REST API
(`writeback`) and answers with the decision, the note and how each field was read.

Webhook routes are authenticated by these per-system schemes, never by the
service's API keys: an API-key check (middleware or dependency) skips every path
for which `is_exempt_from_api_keys(path)` is true.
"""

from __future__ import annotations

AUTH_EXEMPT_PREFIXES: tuple[str, ...] = ("/v1/webhooks/",)
"""Path prefixes whose requests carry a ticketing system's own credentials, not an API key."""


def is_exempt_from_api_keys(path: str) -> bool:
    """True for the webhook routes, which authenticate each sender by its own scheme."""
    return path.startswith(AUTH_EXEMPT_PREFIXES)
