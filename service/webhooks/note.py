"""The agent note: the decision as plain text an agent can paste into an internal note.

It says what to offer (with amounts), how to apologise, by when to answer and
whether someone must approve first, and ends with the decision id so whoever pays
can recognise a redelivery. Built only from the decision and the event, so the
same decision always reads the same.
"""

from __future__ import annotations

from typing import Any

from ..models import FailureEvent

_CAUSE = {
    "provider": "caused by us",
    "customer": "caused by the customer",
    "third_party": "caused by a third party (e.g. the carrier)",
    "unknown": "cause not known yet",
}
_APOLOGY = {"standard": "an apology", "sincere": "a sincere apology", "personal": "a personal apology"}
_FROM = {"agent": "from you", "supervisor": "from a supervisor", "manager": "from a manager"}
_REPLACEMENT = {"exchange": "send a replacement", "re_performance": "perform the service again",
                "repair": "repair the item"}


def _money(value: dict[str, Any]) -> str:
    return f"{value['amount']} {value['currency']}"


def agent_note(system: str, ticket_id: str, event: FailureEvent, decision: dict[str, Any]) -> str:
    failure = event.failure
    mix = decision["mix"]
    justice = decision["justice"]
    lines = [
        f"Service recovery for {system} ticket {ticket_id}: {failure.type.replace('_', ' ')}, severity "
        f"{failure.severity}, {_CAUSE[failure.root_cause]}{', happened before' if failure.recurring else ''}.",
    ]
    offer = []
    if mix.get("refund"):
        offer.append(f"- Refund {_money(mix['refund'])}")
    if mix.get("credit"):
        credit = mix["credit"]
        offer.append(f"- Store credit {_money(credit)}, valid {credit['expires_in_days']} days")
    if mix.get("discount"):
        discount = mix["discount"]
        offer.append(f"- {discount['percent']}% off the next order, valid {discount['valid_days']} days")
    if mix.get("replacement"):
        offer.append(f"- {_REPLACEMENT.get(mix['replacement']['kind'], mix['replacement']['kind']).capitalize()}")
    if offer:
        lines.append("Offer:")
        lines.extend(offer)
    else:
        reason = justice["distributive"].get("reason", "no compensation")
        lines.append(f"Offer: no compensation ({reason}).")
    apology = mix["apology"]
    if apology["level"] == "none":
        text = "Apology: none needed"
    else:
        text = f"Apology: {_APOLOGY.get(apology['level'], apology['level'])} {_FROM[apology['from']]}"
    lines.append(text + (", with a clear explanation of what happened." if apology["explanation"] else "."))
    procedural = justice["procedural"]
    if procedural.get("respond_within_minutes") is not None:
        timing = f"Respond within {procedural['respond_within_minutes']} minutes"
        if procedural.get("follow_up_within_hours") is not None:
            timing += f"; follow up within {procedural['follow_up_within_hours']} hours"
        lines.append(timing + ".")
    approval = decision["approval"]
    if approval["required"]:
        reasons = "; ".join(approval["reasons"])
        lines.append(f"Approval: a {approval['level']} must approve before you offer this"
                     + (f" ({reasons})." if reasons else "."))
    else:
        lines.append("Approval: not needed, you can offer this yourself.")
    if decision["process_recovery"]["root_cause_review"]:
        lines.append("Flag the ticket for a root-cause review.")
    lines.append(f"Decision {decision['decision_id']} (ruleset {decision['ruleset']['name']} "
                 f"{decision['ruleset']['version']}); a redelivery of this ticket gives the same decision id.")
    return "\n".join(lines)
