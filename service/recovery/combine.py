"""Goodwill: from the rules that matched to one option's mix, on top of what is owed.

Order of operations, per option (shown step by step in explain):

1. **Owed** lines are computed first (`owed.py`) and are never touched below.
2. **Combine** every matching rule's contribution, in ruleset order (ties: the
   earlier rule wins), as the ruleset's `combine` section says:

   | component                 | combine                                          |
   |---------------------------|--------------------------------------------------|
   | refund, credit            | largest (default) or sum                         |
   | discount                  | largest percent (its validity comes with it)     |
   | replacement               | the first rule's (its value counts in cost)      |
   | apology level, from       | highest of each                                  |
   | explanation, review       | any rule asks for it                             |
   | respond within, follow up | shortest                                         |
   | approval level            | highest (rules, amount and history boundaries)   |

3. **Multiply**: escalations (`then.multiply`) multiply the combined refund and credit.
4. **Add**: escalations (`then.add`) add to them, so a recurring failure gets more
   than its one-off whatever the base rules gave.
5. **Limits** bound goodwill only: the refund cap, the credit caps, the discount cap,
   then the total cap (goodwill refund and credit plus a replacement's value; credit
   is trimmed before refund: cash is the fairer form above 100%, Noone 2012). Owed
   money is neither counted nor reduced: statutory and contractual amounts are floors
   that goodwill adds to. Each clip is reported in `limits_applied`.
6. **Money back only** (`then.money_back_only`): goodwill credit, within its caps, is
   paid as refund as far as the refund cap leaves room (a share of the order, or of
   the amount at stake when there is no order); once money goes back no discount
   comes with it.
7. **Round** down to the currency's minor unit, once (`money.round_down`).
8. **Costs and approval**: the mix pays owed + goodwill; approval boundaries compare
   goodwill (with a discount's expected use) plus a replacement's value, never owed
   money; `agent_may_offer_now` is what the frontline may give without waiting.
9. **Caller profile** (when the caller's key picks one, e.g. `ai_agent`): the mix is
   unchanged, but goodwill above the profile's `frontline_max`, and any goodwill
   component it may never grant, needs the profile's approver, and
   `agent_may_offer_now` leaves out what the caller may not give itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Sequence

from .. import money
from ..engine.loader import RuleDef, RulesetDef
from ..engine.schema import MultiplySpec, Profile
from . import owed as owed_module
from .amounts import HUNDRED, Basis
from .normalize import Flat

APOLOGY_RANK = {"none": 0, "standard": 1, "sincere": 2, "personal": 3}
STAFF_RANK = {"agent": 0, "supervisor": 1, "manager": 2}

DEFAULT_REASONS = {
    "distributive": "no matching rule recommends compensation for this failure",
    "procedural": "no matching rule sets a response time",
    "interactional": "no matching rule recommends an apology or an explanation",
}

ORDER_OF_OPERATIONS = ("owed lines", "combine contributions", "multiply", "add", "limits (goodwill only)",
                       "money back only", "round down", "costs and approval")


@dataclass
class Outcome:
    currency: str | None
    refund: Decimal | None = None  # goodwill only; the mix pays owed + goodwill
    credit: Decimal | None = None
    credit_expires_in_days: int | None = None
    discount_percent: int | None = None
    discount_valid_days: int | None = None
    replacement: str | None = None
    replacement_value: Decimal | None = None
    apology_level: str = "none"
    apology_from: str = "agent"
    explanation: bool = False
    respond_within_minutes: int | None = None
    follow_up_within_hours: int | None = None
    approval_level: str = "agent"
    approval_reasons: list[str] = field(default_factory=list)
    approval_by_rule_or_history: bool = False
    root_cause_review: bool = False
    owed: list[owed_module.OwedLine] = field(default_factory=list)
    owed_refund: Decimal = Decimal(0)
    owed_credit: Decimal = Decimal(0)
    discount_cost: Decimal | None = None
    estimated_cost: Decimal | None = None
    goodwill_cost: Decimal | None = None
    unaddressed: dict[str, str] = field(default_factory=dict)
    limits_applied: list[dict[str, Any]] = field(default_factory=list)
    set_by: dict[str, list[str]] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    fired: list[RuleDef] = field(default_factory=list)
    offer_now: dict[str, Any] = field(default_factory=dict)

    @property
    def paid_refund(self) -> Decimal | None:
        total = (self.refund or Decimal(0)) + self.owed_refund
        return total if total > 0 else None

    @property
    def paid_credit(self) -> Decimal | None:
        total = (self.credit or Decimal(0)) + self.owed_credit
        return total if total > 0 else None

    @property
    def credit_days(self) -> int | None:
        days = [line.expires_in_days for line in self.owed if line.pay_as == "credit"]
        if self.credit is not None and self.credit_expires_in_days is not None:
            days.append(self.credit_expires_in_days)
        return max(days) if days else None


def _fmt(amount: Decimal, currency: str | None) -> str:
    return money.fmt(money.round_down(amount, currency)) if currency else f"{amount:f}"


@dataclass(frozen=True)
class _Plan:
    """What a set of matched rules contributes that does not depend on the event's amounts, worked out once
    per ruleset revision and set of rules (the class cache makes the same sets come back): everything but
    the refund and credit amounts, which `combine` computes per event from `refunds` and `credits`."""

    refunds: tuple[tuple[str, Any], ...]
    credits: tuple[tuple[str, Any], ...]
    discount: tuple[int, int | None, str] | None
    replacement_rule: RuleDef | None
    apology_level: str
    apology_from: str
    explanation: bool
    respond_within_minutes: int | None
    follow_up_within_hours: int | None
    approval_level: str
    approval_reasons: tuple[str, ...]
    approval_by_rule: bool
    root_cause_review: bool
    money_back_by: tuple[str, ...]
    factors: tuple[tuple[str, MultiplySpec], ...]
    additions: tuple[RuleDef, ...]
    unaddressed: tuple[tuple[str, str], ...]
    set_by: tuple[tuple[str, str], ...]  # (component, rule id) of the components set here, in the order set


def _plan_of(ruleset: RulesetDef, rules: list[RuleDef]) -> _Plan:
    level_rank = ruleset.level_rank
    refunds: list[tuple[str, Any]] = []
    credits: list[tuple[str, Any]] = []
    set_by: dict[str, str] = {}
    discount: tuple[int, int | None, str] | None = None
    replacement_rule: RuleDef | None = None
    apology_level, apology_from, explanation = "none", "agent", False
    respond: int | None = None
    follow_up: int | None = None
    approval_level, reasons, by_rule = "agent", [], False
    review = False
    money_back_by: list[str] = []
    factors: list[tuple[str, MultiplySpec]] = []
    additions: list[RuleDef] = []
    unaddressed: dict[str, str] = {}
    for rule in rules:
        then = rule.then
        rid = rule.id
        if then.refund is not None:
            refunds.append((rid, then.refund))
        if then.credit is not None:
            credits.append((rid, then.credit))
        if then.discount is not None and (discount is None or then.discount.percent > discount[0]):
            discount = (then.discount.percent, then.discount.valid_days, rid)
            set_by["discount"] = rid
        if then.replacement is not None and replacement_rule is None:
            replacement_rule = rule
            set_by["replacement"] = rid
        if then.apology is not None:
            if APOLOGY_RANK[then.apology.level] > APOLOGY_RANK[apology_level]:
                apology_level = then.apology.level
                set_by["apology.level"] = rid
            if STAFF_RANK[then.apology.from_] > STAFF_RANK[apology_from]:
                apology_from = then.apology.from_
                set_by["apology.from"] = rid
        if then.explanation and not explanation:
            explanation = True
            set_by["apology.explanation"] = rid
        if then.respond_within_minutes is not None and (respond is None or then.respond_within_minutes < respond):
            respond = then.respond_within_minutes
            set_by["respond_within_minutes"] = rid
        if then.follow_up_within_hours is not None and (
                follow_up is None or then.follow_up_within_hours < follow_up):
            follow_up = then.follow_up_within_hours
            set_by["follow_up_within_hours"] = rid
        if then.approval is not None and level_rank[then.approval] > 0:
            reasons.append(f"rule {rid} asks for {then.approval} approval")
            by_rule = True
            if level_rank[then.approval] > level_rank[approval_level]:
                approval_level = then.approval
        if then.root_cause_review and not review:
            review = True
            set_by["root_cause_review"] = rid
        if then.money_back_only:
            money_back_by.append(rid)
        if then.multiply is not None:
            factors.append((rid, then.multiply))
        if then.add is not None:
            additions.append(rule)
        if then.unaddressed_reason is not None:
            for dimension in ("distributive", "procedural", "interactional"):
                reason = getattr(then.unaddressed_reason, dimension)
                if reason is not None and dimension not in unaddressed:
                    unaddressed[dimension] = reason
    return _Plan(tuple(refunds), tuple(credits), discount, replacement_rule, apology_level, apology_from,
                 explanation, respond, follow_up, approval_level, tuple(reasons), by_rule, review,
                 tuple(money_back_by), tuple(factors), tuple(additions), tuple(unaddressed.items()),
                 tuple(set_by.items()))


_PLANS: dict[tuple[str, tuple[int, ...]], _Plan] = {}
_PLANS_MAX = 16384


def _plan(ruleset: RulesetDef, rules: list[RuleDef]) -> _Plan:
    key = (ruleset.digest, tuple(rule.index for rule in rules))
    found = _PLANS.get(key)
    if found is None:
        found = _plan_of(ruleset, rules)
        if len(_PLANS) >= _PLANS_MAX:  # a bound, not a policy: the sets that matter come back at once
            _PLANS.clear()
        _PLANS[key] = found
    return found


def combine(ruleset: RulesetDef, flat: Flat, rules: list[RuleDef], basis: Basis,
            owed: list[owed_module.OwedLine], profile: tuple[str, Profile] | None = None) -> Outcome:
    currency = basis.currency
    plan = _plan(ruleset, rules)
    policy = ruleset.combine
    set_by = {component: [rid] for component, rid in plan.set_by}
    discount = plan.discount
    out = Outcome(currency=currency, owed=owed, owed_refund=owed_module.total(owed, "refund"),
                  owed_credit=owed_module.total(owed, "credit"),
                  discount_percent=discount[0] if discount is not None else None,
                  discount_valid_days=discount[1] if discount is not None else None,
                  replacement=plan.replacement_rule.then.replacement.kind  # type: ignore[union-attr]
                  if plan.replacement_rule is not None else None,
                  apology_level=plan.apology_level, apology_from=plan.apology_from, explanation=plan.explanation,
                  respond_within_minutes=plan.respond_within_minutes,
                  follow_up_within_hours=plan.follow_up_within_hours, approval_level=plan.approval_level,
                  approval_reasons=list(plan.approval_reasons), approval_by_rule_or_history=plan.approval_by_rule,
                  root_cause_review=plan.root_cause_review, unaddressed=dict(plan.unaddressed), set_by=set_by,
                  fired=list(rules))
    if basis.order is not None:  # v1: without an order, no goodwill refund
        for rid, spec in plan.refunds:
            amount, _ = basis.amount(spec)
            if amount is not None:
                if out.refund is None or (policy.refund == "largest" and amount > out.refund):
                    out.refund = amount
                    set_by["refund"] = [rid]
                elif policy.refund == "sum":
                    out.refund += amount
                    set_by["refund"].append(rid)
    for rid, spec in plan.credits:
        amount, _ = basis.amount(spec)
        if amount is not None:
            if out.credit is None or (policy.credit == "largest" and amount > out.credit):
                out.credit = amount
                out.credit_expires_in_days = spec.expires_in_days
                set_by["credit"] = [rid]
            elif policy.credit == "sum":
                out.credit += amount
                out.credit_expires_in_days = max(out.credit_expires_in_days or 0, spec.expires_in_days)
                set_by["credit"].append(rid)
    money_back_by = plan.money_back_by
    factors = plan.factors
    additions = plan.additions
    replacement_rule = plan.replacement_rule

    # Steps keep exact amounts; explain formats them (the plain decision never reads them).
    out.steps = {"refund": {"combined": out.refund}, "credit": {"combined": out.credit}}
    _multiply(out, factors)
    _add(out, additions, basis)
    if replacement_rule is not None:
        _replacement_value(out, replacement_rule, basis)
    _apply_limits(out, ruleset, basis.order)
    room_base = basis.order if basis.order is not None else basis.flat.get("failure.amount_at_stake.amount")
    if money_back_by and room_base is not None:
        _credit_as_refund(out, money_back_by[0], ruleset, room_base)
    _round(out)
    if money_back_by and out.paid_refund is not None:
        _drop_discount(out, money_back_by[0])
    _cost(out, ruleset, basis.order)
    _approval(out, ruleset, flat)
    if profile is not None:
        _profile_approval(out, ruleset, *profile)
    _offer_now(out, ruleset, profile[1] if profile is not None else None)
    out.steps["refund"].update(goodwill=out.refund, owed=out.owed_refund)
    out.steps["credit"].update(goodwill=out.credit, owed=out.owed_credit)
    return out


def show_steps(steps: dict[str, Any], currency: str | None) -> dict[str, Any]:
    """A component's steps as the explanation shows them: amounts written as the wire writes money."""
    def shown(value: Any) -> Any:
        return _fmt(value, currency) if isinstance(value, Decimal) else value

    out = {key: shown(value) for key, value in steps.items() if value is not None or key == "combined"}
    if "added_by" in out:
        out["added_by"] = [{**step, "amount": shown(step["amount"])} for step in out["added_by"]]
    return out


def _multiply(out: Outcome, factors: Sequence[tuple[str, MultiplySpec]]) -> None:
    for component in ("refund", "credit"):
        applied = []
        for rid, spec in factors:
            factor = getattr(spec, component)
            if factor is None:
                continue
            applied.append({"rule": rid, "factor": f"{factor:f}"})
            value = getattr(out, component)
            if value is not None:
                setattr(out, component, value * factor)
        if applied:
            out.steps[component]["multiplied_by"] = applied
            out.steps[component]["after_multiply"] = getattr(out, component)


def _add(out: Outcome, additions: Sequence[RuleDef], basis: Basis) -> None:
    for component in ("refund", "credit"):
        applied = []
        for rule in additions:
            spec = getattr(rule.then.add, component)
            if spec is None or (component == "refund" and basis.order is None):
                continue
            amount, _ = basis.amount(spec)
            if amount is None:
                continue
            applied.append({"rule": rule.id, "amount": amount})
            value = getattr(out, component)
            setattr(out, component, amount if value is None else value + amount)
            if component == "credit":
                out.credit_expires_in_days = max(out.credit_expires_in_days or 0, spec.expires_in_days)
            out.set_by.setdefault(component, []).append(rule.id)
        if applied:
            out.steps[component]["added_by"] = applied
            out.steps[component]["after_add"] = getattr(out, component)


def _replacement_value(out: Outcome, rule: RuleDef, basis: Basis) -> None:
    spec = rule.then.replacement
    if spec is None:
        return
    if spec.value is not None:
        amount, _ = basis.amount(spec.value)
    else:
        amount = basis.stake
    if amount is not None and out.currency is not None:
        out.replacement_value = money.round_down(amount, out.currency)


def _clip(out: Outcome, limit: str, component: str, before: Decimal, after: Decimal) -> None:
    out.limits_applied.append({"limit": limit, "component": component, "before": _fmt(before, out.currency),
                               "after": _fmt(after, out.currency), "currency": out.currency})


def _credit_as_refund(out: Outcome, rule_id: str, ruleset: RulesetDef, order: Decimal) -> None:
    """Goodwill credit (already within its caps) is paid as refund, as far as the refund cap allows; the cap
    is a share of the order, or of the amount at stake when the event has no order."""
    if out.credit is None:
        return
    refund = out.refund or Decimal(0)
    room = max(order * ruleset.limits.refund.max_percent_of_order / HUNDRED - refund, Decimal(0))
    moved = min(out.credit, room)
    if moved <= 0:
        return
    out.refund = refund + moved
    left = out.credit - moved
    out.limits_applied.append({"limit": f"money_back_only ({rule_id})", "component": "credit",
                               "before": _fmt(out.credit, out.currency), "after": _fmt(left, out.currency),
                               "currency": out.currency})
    out.set_by.setdefault("refund", []).append(rule_id)
    if left > 0:
        out.credit = left
    else:
        out.credit = None
        out.credit_expires_in_days = None
        out.set_by.pop("credit", None)


def _drop_discount(out: Outcome, rule_id: str) -> None:
    """Once money goes back, no voucher-like discount comes with it."""
    if out.discount_percent is not None:
        out.limits_applied.append({"limit": f"money_back_only ({rule_id})", "component": "discount",
                                   "before": str(out.discount_percent), "after": "0", "currency": None})
        out.discount_percent = None
        out.discount_valid_days = None
        out.set_by.pop("discount", None)


def _apply_limits(out: Outcome, ruleset: RulesetDef, order: Decimal | None) -> None:
    limits = ruleset.limits
    zero = Decimal(0)
    if out.refund is not None and order is not None:
        cap = order * limits.refund.max_percent_of_order / HUNDRED
        if out.refund > cap:
            _clip(out, "refund.max_percent_of_order", "refund", out.refund, cap)
            out.refund = cap
    if out.credit is not None:
        caps: list[tuple[str, Decimal]] = []
        if limits.credit.max_percent_of_order is not None and order is not None:
            caps.append(("credit.max_percent_of_order", order * limits.credit.max_percent_of_order / HUNDRED))
        if limits.credit.max is not None and out.currency is not None:
            caps.append(("credit.max", limits.credit.max[out.currency]))
        for name, cap in caps:
            if out.credit > cap:
                _clip(out, name, "credit", out.credit, cap)
                out.credit = cap
    if out.discount_percent is not None and out.discount_percent > limits.discount.max_percent:
        out.limits_applied.append({"limit": "discount.max_percent", "component": "discount",
                                   "before": str(out.discount_percent), "after": str(limits.discount.max_percent),
                                   "currency": None})
        out.discount_percent = limits.discount.max_percent
    if limits.total is not None and order is not None:
        cap = order * limits.total.max_percent_of_order / HUNDRED
        refund = out.refund or zero
        credit = out.credit or zero
        excess = (out.replacement_value or zero) + refund + credit - cap
        if excess > 0:
            if credit > 0:
                trimmed = max(credit - excess, zero)
                _clip(out, "total.max_percent_of_order", "credit", credit, trimmed)
                excess -= credit - trimmed
                out.credit = trimmed
            if excess > 0 and refund > 0:
                trimmed = max(refund - excess, zero)
                _clip(out, "total.max_percent_of_order", "refund", refund, trimmed)
                out.refund = trimmed


def _round(out: Outcome) -> None:
    currency = out.currency
    if currency is None:
        out.refund = out.credit = None
        out.credit_expires_in_days = None
        return
    if out.refund is not None:
        out.refund = money.round_down(out.refund, currency)
        if out.refund == 0:
            out.refund = None
    if out.credit is not None:
        out.credit = money.round_down(out.credit, currency)
        if out.credit == 0:
            out.credit = None
            out.credit_expires_in_days = None


def _cost(out: Outcome, ruleset: RulesetDef, order: Decimal | None) -> None:
    """estimated_cost keeps its v1 meaning (refund + credit + a discount's expected use, owed included);
    goodwill_cost is what approval boundaries compare (goodwill + a replacement's value, owed excluded)."""
    currency = out.currency
    if currency is None:
        return
    zero = Decimal(0)
    costing = ruleset.costing
    use = costing.discount_expected_use_percent
    discount = zero
    if out.discount_percent is not None and order is not None and use:
        spend = order if costing.discount_basis_max is None else min(order, costing.discount_basis_max[currency])
        discount = money.round_down(spend * Decimal(out.discount_percent) / HUNDRED * use / HUNDRED, currency)
        out.discount_cost = discount
    goodwill = (out.refund or zero) + (out.credit or zero) + discount
    out.goodwill_cost = goodwill
    out.estimated_cost = money.round_down(goodwill + out.owed_refund + out.owed_credit, currency)


def _approval(out: Outcome, ruleset: RulesetDef, flat: Flat) -> None:
    approval = ruleset.limits.approval
    rank = ruleset.level_rank
    currency = out.currency
    if out.goodwill_cost is not None and currency is not None:
        weighed = out.goodwill_cost + (out.replacement_value or Decimal(0))
        crossed = [boundary for boundary in approval.by_amount if weighed > boundary.above[currency]]
        if crossed:
            top = crossed[-1]
            limit = money.fmt(top.above[currency])
            what = "goodwill cost" + (" with the replacement's value" if out.replacement_value else "")
            out.approval_reasons.append(f"{what} {money.fmt(weighed)} {currency} is above the {top.level} "
                                        f"boundary of {limit} {currency}")
            if rank[top.level] > rank[out.approval_level]:
                out.approval_level = top.level
    prior = flat["customer.prior_recoveries_90d"]
    reached = [boundary for boundary in approval.by_prior_recoveries if prior >= boundary.at_least]
    if reached:
        top_recoveries = reached[-1]
        out.approval_reasons.append(f"{prior} recoveries in the last 90 days: {top_recoveries.level} review "
                                    f"from {top_recoveries.at_least}")
        out.approval_by_rule_or_history = True
        if rank[top_recoveries.level] > rank[out.approval_level]:
            out.approval_level = top_recoveries.level


def _goodwill_parts(out: Outcome) -> list[tuple[str, Decimal | None]]:
    """Each goodwill component and what it costs (None: not in the mix), in the order offer_now fills them."""
    zero = Decimal(0)
    return [("replacement", (out.replacement_value or zero) if out.replacement is not None else None),
            ("discount", (out.discount_cost or zero) if out.discount_percent is not None else None),
            ("credit", out.credit), ("refund", out.refund)]


def _profile_approval(out: Outcome, ruleset: RulesetDef, name: str, profile: Profile) -> None:
    """The caller's profile: components it never grants, and goodwill above its frontline, need its approver."""
    rank = ruleset.level_rank
    reasons = []
    barred = [part for part, cost in _goodwill_parts(out) if cost is not None and part in profile.never_grant]
    if barred:
        reasons.append(f"the {name} profile never grants {', '.join(sorted(barred))} itself")
    currency = out.currency
    if profile.frontline_max is not None and currency is not None and out.goodwill_cost is not None:
        weighed = out.goodwill_cost + (out.replacement_value or Decimal(0))
        boundary = profile.frontline_max[currency]
        if weighed > boundary:
            reasons.append(f"goodwill cost {money.fmt(weighed)} {currency} is above the {name} profile's "
                           f"frontline of {money.fmt(boundary)} {currency}")
    if reasons:
        out.approval_reasons.extend(reasons)
        if rank[profile.approval] > rank[out.approval_level]:
            out.approval_level = profile.approval


def _offer_now(out: Outcome, ruleset: RulesetDef, profile: Profile | None = None) -> None:
    """Owed money always; without approval, everything; when approval is needed only because of the amount
    (or the caller's profile), the goodwill parts that fit under the frontline boundary (replacement,
    discount, credit, refund, in that order; the lower of the ruleset's and the profile's), never one the
    profile may not grant; when a rule or the customer's history asks for approval, no goodwill yet."""
    zero = Decimal(0)
    currency = out.currency
    now: dict[str, Any] = {"refund": out.owed_refund or None, "credit": out.owed_credit or None,
                           "discount": False, "replacement": False}
    by_amount = ruleset.limits.approval.by_amount
    rooms = [by_amount[0].above[currency]] if by_amount and currency is not None else []
    if profile is not None and profile.frontline_max is not None and currency is not None:
        rooms.append(profile.frontline_max[currency])
    barred = set(profile.never_grant) if profile is not None else set()
    if out.approval_level == "agent":
        now = {"refund": out.paid_refund, "credit": out.paid_credit, "discount": out.discount_percent is not None,
               "replacement": out.replacement is not None}
    elif not out.approval_by_rule_or_history and currency is not None and (rooms or barred):
        room = min(rooms) if rooms else None
        for name, cost in _goodwill_parts(out):
            if cost is None or name in barred:
                continue
            if room is None:
                now[name] = True if name in ("discount", "replacement") else (now[name] or zero) + cost
                continue
            if cost > room:
                continue
            room -= cost
            if name in ("discount", "replacement"):
                now[name] = True
            else:
                now[name] = (now[name] or zero) + cost
    out.offer_now = now
