"""What every decision leaves behind: metrics and one `decision` log line.

Called by every route that decides (single, batch, webhooks), so the figures and
the log describe all of them the same way.
"""

from __future__ import annotations

from typing import Any

from .. import metrics
from ..logs import CustomerMask, log_decision
from ..models import FailureEvent

_COMPONENTS = ("refund", "credit", "discount", "replacement")


def decided(event: FailureEvent, decision: dict[str, Any], seconds: float, mask: CustomerMask,
            source: str) -> None:
    failure = event.failure
    count = metrics.count
    count(metrics.DECISIONS, "decided", failure.root_cause)
    metrics.DECISION_SECONDS.observe(seconds)
    mix = decision["mix"]
    for component in _COMPONENTS:
        if mix.get(component) is not None:
            count(metrics.COMPONENTS, component)
    if mix["apology"]["level"] != "none":
        count(metrics.COMPONENTS, "apology")
    for rule in decision["rules_fired"]:
        count(metrics.RULE_FIRES, rule["id"])
    log_decision(decision, customer_id=event.customer.id, order_id=event.order.id if event.order else None,
                 root_cause=failure.root_cause, failure_type=failure.type, severity=failure.severity,
                 tier=event.customer.tier, mask=mask, source=source)


def refused(outcome: str, root_cause: str = "unknown") -> None:
    """An event that got no decision: `invalid` (422) or `error` (503)."""
    metrics.count(metrics.DECISIONS, outcome, root_cause)
