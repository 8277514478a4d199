"""The agent note: the decision as plain text an agent can paste into an internal note.

It says what to offer (with amounts), what is owed whatever the goodwill policy,
how to apologise (the ruleset's own words when the decision carries `messages`),
by when to answer and whether someone must approve first (and what the agent may
offer meanwhile), and ends with the decision id, which is also how a write-back
recognises its own note on the ticket. Built only from the decision, the event
and what the mapping says about the values it read, so the same decision always
reads the same. Fields a decision may or may not carry (`owed`, `alternatives`,
`approval.agent_may_offer_now`, `messages`) are read with `.get`.
"""

from __future__ import annotations

from typing import Any, Iterable

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
_OWED = {"restitution": "Money taken in error", "statutory": "Owed by law", "contractual": "Owed by contract"}


def _money(value: dict[str, Any]) -> str:
    return f"{value['amount']} {value['currency']}"


def _offer(mix: dict[str, Any]) -> list[str]:
    offer = []
    if mix.get("refund"):
        offer.append(f"Refund {_money(mix['refund'])}")
    if mix.get("credit"):
        credit = mix["credit"]
        offer.append(f"Store credit {_money(credit)}, valid {credit['expires_in_days']} days")
    if mix.get("discount"):
        discount = mix["discount"]
        offer.append(f"{discount['percent']}% off the next order, valid {discount['valid_days']} days")
    if mix.get("replacement"):
        offer.append(_REPLACEMENT.get(mix["replacement"]["kind"], mix["replacement"]["kind"]).capitalize())
    return offer


def _owed(lines: Iterable[dict[str, Any]]) -> list[str]:
    out = []
    for line in lines:
        text = f"- {_OWED.get(line.get('kind', ''), 'Owed')}: {_money(line['amount'])}"
        if line.get("basis"):
            text += f" ({line['basis']})"
        out.append(text)
    return out


def _may_offer_now(now: dict[str, Any]) -> str:
    given = [f"{name} {_money(value)}" for name, value in now.items()
             if isinstance(value, dict) and "amount" in value and "currency" in value]
    return "; you may offer now: " + ", ".join(given) if given else ""


def agent_note(system: str, ticket_id: str, event: FailureEvent, decision: dict[str, Any],
               caveats: Iterable[str] = ()) -> str:
    failure = event.failure
    mix = decision["mix"]
    justice = decision["justice"]
    lines = [
        f"Service recovery for {system} ticket {ticket_id}: {failure.type.replace('_', ' ')}, severity "
        f"{failure.severity}, {_CAUSE[failure.root_cause]}{', happened before' if failure.recurring else ''}.",
    ]
    offer = _offer(mix)
    if offer:
        lines.append("Offer:")
        lines.extend(f"- {item}" for item in offer)
    else:
        reason = justice["distributive"].get("reason", "no compensation")
        lines.append(f"Offer: no compensation ({reason}).")
    owed = _owed(decision.get("owed") or ())
    if owed:
        lines.append("Owed whatever the policy (included above, pay in full):")
        lines.extend(owed)
    alternatives = [item for item in decision.get("alternatives") or () if isinstance(item, dict)]
    if alternatives:
        described = []
        for item in alternatives:
            parts = _offer(item.get("mix") or {})
            described.append(f"- {item.get('id', 'option')}: {', '.join(parts) if parts else 'no compensation'}")
        lines.append("Alternatives the customer may choose instead:")
        lines.extend(described)
    apology = mix["apology"]
    if apology["level"] == "none":
        text = "Apology: none needed"
    else:
        text = f"Apology: {_APOLOGY.get(apology['level'], apology['level'])} {_FROM[apology['from']]}"
    lines.append(text + (", with a clear explanation of what happened." if apology["explanation"] else "."))
    messages = decision.get("messages") or {}
    for key, label in (("apology", "Say"), ("explanation", "Explain"), ("agent_note", "Note")):
        if messages.get(key):
            lines.append(f"{label}: {messages[key]}")
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
                     + (f" ({reasons})" if reasons else "")
                     + _may_offer_now(approval.get("agent_may_offer_now") or {}) + ".")
    else:
        lines.append("Approval: not needed, you can offer this yourself.")
    if decision["process_recovery"]["root_cause_review"]:
        lines.append("Flag the ticket for a root-cause review.")
    lines.extend(f"Check: {caveat}" for caveat in caveats)
    lines.append(f"Decision {decision['decision_id']} (ruleset {decision['ruleset']['name']} "
                 f"{decision['ruleset']['version']}); a redelivery of this ticket gives the same decision id.")
    return "\n".join(lines)
