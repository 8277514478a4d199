"""History from the ledger: prior recoveries and recurring failures for callers who keep none.

Opt-in (RECOVERY_LEDGER_HISTORY). Only fields the caller left out are filled:
`customer.prior_recoveries_90d` (recorded decisions for the same customer in the
last 90 days that offered something tangible and were not declined) and
`failure.recurring` (the same customer had the same failure type in that time).
The filled event is what `decide` sees, so the decision stays a function of its
event; the decision states what was filled in its `history` field.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from ..models import FailureEvent
from . import LedgerUnavailable
from .store import HISTORY_DAYS

Lookup = Callable[[str, str], Awaitable[tuple[int, bool]]]


def wanted(event: FailureEvent) -> tuple[bool, bool]:
    """(prior recoveries missing, recurring missing): the fields the caller did not send."""
    return ("prior_recoveries_90d" not in event.customer.model_fields_set,
            "recurring" not in event.failure.model_fields_set)


async def fill(event: FailureEvent, customer_hash: str | None, lookup: Lookup,
               ) -> tuple[FailureEvent, dict[str, Any] | None]:
    """The event with the missing history fields filled, and the `history` statement for the decision.

    `lookup` raises LedgerUnavailable when the database does not answer: the event is then
    decided as sent, and the statement says the history was unavailable.
    """
    prior_missing, recurring_missing = wanted(event)
    if customer_hash is None or not (prior_missing or recurring_missing):
        return event, None
    try:
        prior, seen = await lookup(customer_hash, event.failure.type)
    except LedgerUnavailable:
        return event, {"source": "ledger", "available": False, "filled": {}, "window_days": HISTORY_DAYS}
    filled: dict[str, Any] = {}
    customer, failure = event.customer, event.failure
    if prior_missing:
        customer = customer.model_copy(update={"prior_recoveries_90d": prior})
        filled["customer.prior_recoveries_90d"] = prior
    if recurring_missing:
        failure = failure.model_copy(update={"recurring": seen})
        filled["failure.recurring"] = seen
    updated = event.model_copy(update={"customer": customer, "failure": failure})
    return updated, {"source": "ledger", "available": True, "filled": filled, "window_days": HISTORY_DAYS}
