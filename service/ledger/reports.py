"""Reports over the ledger: how recoveries worked, what they cost, which causes recur.

Per group (overall, or per ruleset version, failure type, root cause, tier or
channel) and period:

- decisions: decision records; approval_rate: the share that needed approval;
- outcomes: decisions with an outcome (the latest one counts); acceptance_rate:
  accepted among them; declined, countered; csat_mean over the outcomes that carry one;
- repeat_failures: decisions whose customer had the same failure type in the 90
  days before (another decision); repeat_rate over decisions with a customer id;
- cost, owed, goodwill per currency (never summed across currencies): cost is the
  decisions' estimated_cost; owed the money they list as owed (`owed` lines:
  restitution, statutory, contractual); goodwill the rest of refund + credit.

`pareto()` ranks (root cause, failure type) pairs by decisions, with each pair's
share and the running share, so process owners see which few causes make most
failures. The queries aggregate in the database (one code path for both).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Engine, and_, case, exists, func, select, true
from sqlalchemy.sql.elements import ColumnElement

from .records import from_minor
from .schema import decisions, outcomes
from .store import DAY_MS, HISTORY_DAYS

DIMENSIONS: dict[str, tuple[str, ...]] = {
    "ruleset": ("ruleset_name", "ruleset_version"),
    "failure_type": ("failure_type",),
    "root_cause": ("root_cause",),
    "tier": ("tier",),
    "channel": ("channel",),
}


@dataclass(frozen=True)
class Period:
    since_ms: int | None = None
    until_ms: int | None = None

    def where(self, table: Any = decisions) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.since_ms is not None:
            out.append(table.c.at_ms >= self.since_ms)
        if self.until_ms is not None:
            out.append(table.c.at_ms < self.until_ms)
        return out


def _flag(column: Any) -> Any:
    return func.coalesce(func.sum(case((column.is_(True), 1), else_=0)), 0)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _repeat() -> Any:
    prior = decisions.alias("prior")
    return exists().where(
        prior.c.customer_hash == decisions.c.customer_hash, prior.c.failure_type == decisions.c.failure_type,
        prior.c.at_ms < decisions.c.at_ms, prior.c.at_ms >= decisions.c.at_ms - HISTORY_DAYS * DAY_MS,
        prior.c.decision_id != decisions.c.decision_id)


def breakdown(engine: Engine, by: str | None, period: Period) -> list[dict[str, Any]]:
    """One row per group of `by` (a key of DIMENSIONS; None: a single overall row), largest first."""
    names = DIMENSIONS[by] if by else ()
    dims = [decisions.c[name] for name in names]
    where = and_(true(), *period.where())
    with engine.connect() as connection:
        counted = connection.execute(
            select(*dims, func.count().label("n"), _flag(decisions.c.approval_required),
                   func.coalesce(func.sum(case((_repeat(), 1), else_=0)), 0),
                   func.count(decisions.c.customer_hash))
            .where(where).group_by(*dims)).all()
        money = connection.execute(
            select(*dims, decisions.c.currency, func.sum(decisions.c.cost_minor), func.sum(decisions.c.owed_minor),
                   func.sum(func.coalesce(decisions.c.refund_minor, 0) + func.coalesce(decisions.c.credit_minor, 0)))
            .where(where, decisions.c.currency.is_not(None)).group_by(*dims, decisions.c.currency)).all()
        latest = (select(outcomes.c.decision_id, func.max(outcomes.c.id).label("id"))
                  .group_by(outcomes.c.decision_id).subquery())
        decided = select(*dims, decisions.c.decision_id).where(where).distinct().subquery()
        group = [decided.c[name] for name in names]
        results = connection.execute(
            select(*group, func.count(), _count_result("accepted"), _count_result("declined"),
                   _count_result("countered"), func.count(outcomes.c.csat), func.coalesce(func.sum(outcomes.c.csat), 0),
                   _flag(outcomes.c.repeat_contact), _flag(outcomes.c.churned))
            .select_from(decided.join(latest, latest.c.decision_id == decided.c.decision_id)
                         .join(outcomes, outcomes.c.id == latest.c.id))
            .group_by(*group)).all()
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    width = len(names)
    for record in counted:
        key = tuple(record[:width])
        n, approvals, repeats, with_customer = (int(value) for value in record[width:])
        rows[key] = {"group": dict(zip(names, key)), "decisions": n, "approvals": approvals,
                     "approval_rate": _rate(approvals, n), "repeat_failures": repeats,
                     "repeat_rate": _rate(repeats, with_customer), "outcomes": 0, "accepted": 0, "declined": 0,
                     "countered": 0, "acceptance_rate": None, "csat_mean": None, "csat_responses": 0,
                     "repeat_contacts": 0, "churned": 0, "cost": {}, "owed": {}, "goodwill": {}}
    for record in money:
        key, currency = tuple(record[:width]), record[width]
        cost, owed, paid = (int(value or 0) for value in record[width + 1:])
        row = rows[key]
        row["cost"][currency] = from_minor(cost, currency)
        row["owed"][currency] = from_minor(owed, currency)
        row["goodwill"][currency] = from_minor(max(paid - owed, 0), currency)
    for record in results:
        key = tuple(record[:width])
        total, accepted, declined, countered, responses, csat_sum, contacts, churned = (
            int(value or 0) for value in record[width:])
        row = rows.get(key)
        if row is None:
            continue
        mean = (Decimal(csat_sum) / responses).quantize(Decimal("0.01"), ROUND_HALF_EVEN) if responses else None
        row.update(outcomes=total, accepted=accepted, declined=declined, countered=countered,
                   acceptance_rate=_rate(accepted, total), csat_responses=responses,
                   csat_mean=float(mean) if mean is not None else None, repeat_contacts=contacts, churned=churned)
    return sorted(rows.values(), key=lambda row: (-row["decisions"], [str(v) for v in row["group"].values()]))


def _count_result(result: str) -> Any:
    return func.coalesce(func.sum(case((outcomes.c.result == result, 1), else_=0)), 0)


def summary(engine: Engine, period: Period) -> dict[str, Any]:
    rows = breakdown(engine, None, period)
    overall = rows[0] if rows else breakdown_empty()
    overall.pop("group", None)
    return overall


def breakdown_empty() -> dict[str, Any]:
    return {"decisions": 0, "approvals": 0, "approval_rate": None, "repeat_failures": 0, "repeat_rate": None,
            "outcomes": 0, "accepted": 0, "declined": 0, "countered": 0, "acceptance_rate": None, "csat_mean": None,
            "csat_responses": 0, "repeat_contacts": 0, "churned": 0, "cost": {}, "owed": {}, "goodwill": {}}


def pareto(engine: Engine, period: Period) -> list[dict[str, Any]]:
    """(root cause, failure type) pairs by decisions, largest first, with share and cumulative share."""
    where = and_(true(), *period.where())
    with engine.connect() as connection:
        counted = connection.execute(
            select(decisions.c.root_cause, decisions.c.failure_type, func.count(),
                   func.coalesce(func.sum(case((_repeat(), 1), else_=0)), 0))
            .where(where).group_by(decisions.c.root_cause, decisions.c.failure_type)).all()
        money = connection.execute(
            select(decisions.c.root_cause, decisions.c.failure_type, decisions.c.currency,
                   func.sum(decisions.c.cost_minor))
            .where(where, decisions.c.currency.is_not(None))
            .group_by(decisions.c.root_cause, decisions.c.failure_type, decisions.c.currency)).all()
    total = sum(int(row[2]) for row in counted)
    costs: dict[tuple[str, str], dict[str, str]] = {}
    for root_cause, failure_type, currency, cost in money:
        costs.setdefault((root_cause, failure_type), {})[currency] = from_minor(int(cost or 0), currency)
    ranked = sorted(counted, key=lambda row: (-int(row[2]), row[0], row[1]))
    out, running = [], 0
    for root_cause, failure_type, n, repeats in ranked:
        running += int(n)
        out.append({"root_cause": root_cause, "failure_type": failure_type, "decisions": int(n),
                    "share": _rate(int(n), total), "cumulative_share": _rate(running, total),
                    "repeat_failures": int(repeats), "cost": costs.get((root_cause, failure_type), {})})
    return out


# ------------------------------------------------------------------------ CSV

_COLUMNS = ("decisions", "approvals", "approval_rate", "outcomes", "accepted", "declined", "countered",
            "acceptance_rate", "csat_mean", "csat_responses", "repeat_failures", "repeat_rate", "repeat_contacts",
            "churned")


def to_csv(rows: list[dict[str, Any]], group: tuple[str, ...]) -> str:
    """Breakdown rows as CSV: the group columns, the counts, then cost/owed/goodwill per currency."""
    currencies = sorted({currency for row in rows for currency in row.get("cost", {})})
    money_columns = [f"{kind}_{currency}" for currency in currencies for kind in ("cost", "owed", "goodwill")]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*group, *_COLUMNS, *money_columns])
    for row in rows:
        values = [row.get("group", {}).get(name, "") for name in group]
        values += ["" if row[name] is None else row[name] for name in _COLUMNS]
        values += [row[kind].get(currency, "") for currency in currencies for kind in ("cost", "owed", "goodwill")]
        writer.writerow(values)
    return buffer.getvalue()


def pareto_csv(rows: list[dict[str, Any]]) -> str:
    currencies = sorted({currency for row in rows for currency in row["cost"]})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["root_cause", "failure_type", "decisions", "share", "cumulative_share", "repeat_failures",
                     *[f"cost_{currency}" for currency in currencies]])
    for row in rows:
        writer.writerow([row["root_cause"], row["failure_type"], row["decisions"], row["share"],
                         row["cumulative_share"], row["repeat_failures"],
                         *[row["cost"].get(currency, "") for currency in currencies]])
    return buffer.getvalue()
