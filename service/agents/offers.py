"""check_offer: judge what an agent proposes against the decision the service gives for the event.

An AI agent (or a person) proposes a mix; this module never computes an amount of its own.
It asks `decide()` for the event's decision, the same one `POST /v1/decisions` answers, and
compares the offer with it, component by component, against each option the decision
offers (the recommended mix, or each alternative when remedies exclude each other):

| the offer ...                                               | verdict          | code               |
|-------------------------------------------------------------|------------------|--------------------|
| gives a component the decision does not give                | `deny`           | `not-in-policy`    |
| gives more of a component than the decision                 | `deny`           | `over-limit`       |
| a replacement of another kind                               | `deny`           | `wrong-replacement`|
| pays less than is owed (restitution, statutory, contract)   | `deny`           | `below-owed`       |
| money in another currency than the decision's               | `deny`           | `wrong-currency`   |
| none of that, but more than `approval.agent_may_offer_now`  | `needs_approval` | `needs-approval`   |
| no more than `approval.agent_may_offer_now`                 | `allow`          | `within-policy`    |

Less goodwill than the decision gives is allowed (goodwill is the most the policy gives,
never a floor); less than is owed never is. An apology costs nothing and is never refused.
The offer is judged against every option and the best verdict wins (allow, then
needs_approval, then deny; on a tie the recommended option). The verdict names the rules
and limits behind each finding, and carries the largest offer the policy allows
(`largest_allowed`, the option's mix) and what may be given at once (`allowed_now`), so an
agent can correct itself in one step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..engine.registry import Snapshot
from ..models import FailureEvent
from ..recovery.decide import decide
from ..recovery.normalize import decision_currency
from .models import Offer
from .profiles import Caller

RANK = {"allow": 0, "needs_approval": 1, "deny": 2}
ZERO = Decimal(0)


@dataclass
class _Judged:
    verdict: str
    reasons: list[dict[str, Any]]
    alternative: str | None
    option: dict[str, Any]
    components: dict[str, Any]
    decided_by: list[str] = field(default_factory=list)


def _amount(value: dict[str, Any] | None) -> Decimal:
    return Decimal(value["amount"]) if value else ZERO


def _owed(option: dict[str, Any], pay_as: str) -> tuple[Decimal, list[str]]:
    lines = [line for line in option["owed"] if line.get("pay_as", "refund") == pay_as]
    return sum((Decimal(line["amount"]["amount"]) for line in lines), ZERO), [line["rule"] for line in lines]


def _why(components: dict[str, Any], name: str) -> tuple[list[str], list[str]]:
    entry = components.get(name) or {}
    return list(entry.get("set_by", [])), list(entry.get("clipped_by", []))


def _approval_ids(approval: dict[str, Any]) -> list[str]:
    """The rules and boundaries behind an approval, from its reasons (worded by recovery.combine)."""
    ids: list[str] = []
    for reason in approval["reasons"]:
        if " profile" in reason and "the " in reason:
            ids.append("profiles." + reason.split(" profile")[0].rsplit("the ", 1)[1])
        elif reason.startswith("rule ") and " asks for " in reason:
            ids.append(reason[len("rule "):reason.index(" asks for ")])
        elif " boundary of " in reason:
            ids.append(f"approval.by_amount.{reason.split(' is above the ')[1].split(' boundary')[0]}")
        elif "recoveries in the last 90 days" in reason:
            ids.append("approval.by_prior_recoveries")
        else:
            ids.append(reason)
    return ids


def _money_component(name: str, offered_money: Any, allowed: dict[str, Any] | None, now: dict[str, Any] | None,
                     owed: tuple[Decimal, list[str]], components: dict[str, Any], currency: str | None,
                     reasons: list[dict[str, Any]]) -> bool:
    """Judge a refund or credit; True when it needs approval. Findings that deny go into `reasons`."""
    offered = offered_money.amount if offered_money is not None else ZERO
    if offered_money is not None and currency is not None and offered_money.currency != currency:
        reasons.append({"code": "wrong-currency", "component": name, "offered": f"{offered:f} "
                        f"{offered_money.currency}", "allowed": None,
                        "message": f"the {name} must be in {currency}, the event's currency"})
        return False
    most = _amount(allowed)
    rules, limits = _why(components, name)
    owed_amount, owed_rules = owed
    shown = f"{offered:f} {currency}" if currency else f"{offered:f}"
    if offered > most:
        if most == 0:
            reasons.append({"code": "not-in-policy", "component": name, "offered": shown, "allowed": None,
                            "message": f"the policy gives no {name} for this event"})
        else:
            reasons.append({"code": "over-limit", "component": name, "offered": shown,
                            "allowed": f"{most:f} {currency}", "rules": rules, "limits": limits,
                            "message": f"a {name} of {shown} is above the {most:f} {currency} the policy "
                                       f"gives for this event"})
        return False
    if offered < owed_amount:
        reasons.append({"code": "below-owed", "component": name, "offered": shown,
                        "allowed": f"{owed_amount:f} {currency}", "rules": owed_rules,
                        "message": f"{owed_amount:f} {currency} is owed to the customer as {name}; "
                                   f"offer at least that"})
        return False
    return offered > _amount(now)


def _judge(offer: Offer, option: dict[str, Any], components: dict[str, Any], alternative: str | None,
           currency: str | None) -> _Judged:
    mix = option["mix"]
    approval = option["approval"]
    now = approval.get("agent_may_offer_now") or {}
    reasons: list[dict[str, Any]] = []
    approve: list[str] = []
    if _money_component("refund", offer.refund, mix["refund"], now.get("refund"), _owed(option, "refund"),
                        components, currency, reasons):
        approve.append("refund")
    credit = offer.credit.amount if offer.credit is not None else None
    if _money_component("credit", credit, mix["credit"], now.get("credit"), _owed(option, "credit"),
                         components, currency, reasons):
        approve.append("credit")
    if offer.discount is not None:
        most = mix["discount"]["percent"] if mix["discount"] else 0
        rules, limits = _why(components, "discount")
        if offer.discount.percent > most:
            code = "over-limit" if most else "not-in-policy"
            reasons.append({"code": code, "component": "discount", "offered": f"{offer.discount.percent}%",
                            "allowed": f"{most}%" if most else None, "rules": rules, "limits": limits,
                            "message": f"a {offer.discount.percent}% discount is above the {most}% the policy "
                                       f"gives for this event" if most else
                                       "the policy gives no discount for this event"})
        elif not now.get("discount") or offer.discount.percent > now["discount"]["percent"]:
            approve.append("discount")
    if offer.replacement is not None:
        given = mix.get("replacement")
        rules, _ = _why(components, "replacement")
        if given is None:
            reasons.append({"code": "not-in-policy", "component": "replacement", "offered": offer.replacement.kind,
                            "message": "the policy gives no replacement for this event"
                                       + (" in this option" if alternative else "")})
        elif given["kind"] != offer.replacement.kind:
            reasons.append({"code": "wrong-replacement", "component": "replacement",
                            "offered": offer.replacement.kind, "allowed": given["kind"], "rules": rules,
                            "message": f"the policy gives a {given['kind']} here, not a {offer.replacement.kind}"})
        elif not now.get("replacement"):
            approve.append("replacement")
    decided_by: list[str] = []
    for reason in reasons:
        decided_by += reason.get("rules", []) + reason.get("limits", [])
    if reasons:
        verdict = "deny"
    elif approve:
        verdict = "needs_approval"
        who = approval.get("approver") or approval["level"]
        ids = _approval_ids(approval)
        decided_by += ids
        reasons.append({"code": "needs-approval", "message": f"within the policy, but a {who} must approve the "
                        f"{', '.join(approve)} before it is offered: {'; '.join(approval['reasons'])}",
                        "rules": [i for i in ids if not i.startswith("approval.")],
                        "limits": [i for i in ids if i.startswith("approval.")]})
    else:
        verdict = "allow"
        reasons.append({"code": "within-policy", "message": "within what the agent may offer now"})
    return _Judged(verdict, [{"rules": [], "limits": [], "component": None, "offered": None, "allowed": None,
                              **reason} for reason in reasons], alternative, option, components,
                   list(dict.fromkeys(decided_by)))


def options(decision: dict[str, Any]) -> list[tuple[str | None, dict[str, Any], dict[str, Any]]]:
    """(alternative id, option, explained components) for each option, the recommended one first."""
    explain = decision.get("explain") or {}
    if not decision["alternatives"]:
        return [(None, decision, explain.get("components", {}))]
    explained = explain.get("alternatives", {})
    ordered = sorted(decision["alternatives"], key=lambda option: not option["recommended"])
    return [(option["id"], option, explained.get(option["id"], {}).get("components", {})) for option in ordered]


def judge(decision: dict[str, Any], event: FailureEvent, offer: Offer) -> dict[str, Any]:
    """The verdict on `offer` given the event's decision (decided with explain=True)."""
    currency = decision_currency(event)
    judged = [_judge(offer, option, components, alternative, currency)
              for alternative, option, components in options(decision)]
    best = min(judged, key=lambda item: RANK[item.verdict])
    option = best.option
    return {
        "verdict": best.verdict,
        "reasons": best.reasons,
        "decided_by": best.decided_by,
        "alternative": best.alternative,
        "largest_allowed": option["mix"],
        "allowed_now": option["approval"].get("agent_may_offer_now") or {},
        "approval": option["approval"],
        "decision_id": decision["decision_id"],
        "ruleset": decision["ruleset"],
        "profile": decision.get("profile", {}).get("name", "default"),
    }


def check_offer(snapshot: Snapshot, event: FailureEvent, offer: Offer, caller: Caller) -> dict[str, Any]:
    """Decide the event as `caller` would get it from POST /v1/decisions, then judge the offer."""
    decision = decide(snapshot, event, explain=True, **caller.decide_options())
    return judge(decision, event, offer)
