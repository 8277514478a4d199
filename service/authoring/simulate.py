"""`recovery simulate`: what a rules change costs, before it ships.

Replays a JSONL file of events through a baseline and a candidate rules directory
and reports how many decisions changed, the cost difference by currency, tier,
failure type and root cause, the approval rate and the justice gaps before and
after, and the events whose cost moved most. The work is spread over worker
processes: each builds both rulesets once, reads the ranges of lines it is handed
(`ranges()`: the parent reads only line ends) and adds them up itself
(`decide_part()`), and the parent merges those totals (`_merge()`), so it does not
become the bottleneck as workers are added. Amounts are summed as Decimals.
`report_html()` renders the summary as one self-contained HTML file with SVG charts.
"""

from __future__ import annotations

import heapq
import html
import multiprocessing
import os
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import orjson
from pydantic import ValidationError

from .. import strictjson
from ..engine.registry import Snapshot, load_snapshot
from ..models import FailureEvent, event_from_json
from ..recovery.decide import EventRejected, decide, outcome_summary
from ..recovery.normalize import normalize

SEGMENTS = ("tier", "failure_type", "root_cause")
DIMENSIONS = ("distributive", "procedural", "interactional")
COMPARED_KEYS = ("mix", "estimated_cost", "justice", "approval", "process_recovery")

class Comparer:
    """Decides events under two snapshots and says how the decisions differ; with `keep`, it also keeps
    both decisions of each event (for a few events: a case tried against a candidate)."""

    def __init__(self, baseline: Snapshot, candidate: Snapshot, keep: bool = False):
        self.baseline = baseline
        self.candidate = candidate
        self.kept: list[dict[str, Any]] | None = [] if keep else None

    def record(self, line: int, raw: bytes | dict[str, Any]) -> tuple[Any, ...]:
        try:
            if isinstance(raw, dict):
                event = FailureEvent.model_validate(raw)
            else:
                event = event_from_json(raw)
        except strictjson.JSONRefused as exc:
            return (line, "invalid", exc.detail)
        except ValidationError as exc:
            message = exc.errors(include_url=False)[0]
            return (line, "invalid", f"{'.'.join(map(str, message['loc']))}: {message['msg']}")
        before = _decide(self.baseline, event)
        # One revision decides an event one way: the same rules on both sides are decided once.
        after = before if self.candidate.digest == self.baseline.digest else _decide(self.candidate, event)
        if self.kept is not None:  # whole decisions (a few events: a case tried against a candidate)
            self.kept.append({"line": line, "baseline": _whole(self.baseline, event),
                              "candidate": _whole(self.candidate, event)})
        if before is None or after is None:
            return (line, "rejected", "baseline" if before is None else "candidate")
        changed = any(before[key] != after[key] for key in COMPARED_KEYS)
        cost_b = before["estimated_cost"]
        cost_c = after["estimated_cost"]
        currency = cost_b["currency"] if cost_b else None
        failure = event.failure
        return (line, "ok", event.event_id, changed, currency, event.customer.tier, failure.type,
                failure.root_cause, cost_b["amount"] if cost_b else None, cost_c["amount"] if cost_c else None,
                before["approval"]["required"], after["approval"]["required"],
                tuple(not before["justice"][d]["addressed"] for d in DIMENSIONS),
                tuple(not after["justice"][d]["addressed"] for d in DIMENSIONS),
                _owed(before), _owed(after),
                self._moved(event, before, after) if cost_b != cost_c else ((), (), ()))

    def _moved(self, event: FailureEvent, before: dict[str, Any],
               after: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """(components whose value changed, rules that fired only under the candidate, only under the
        baseline), for a mover. The replay's summaries carry no rules, so both sides match once more here:
        only for events whose cost moved."""
        components = tuple(name for name in MIX_COMPONENTS if before["mix"].get(name) != after["mix"].get(name))
        fired_b, fired_c = (_fired(snapshot, event) for snapshot in (self.baseline, self.candidate))
        return (components, tuple(rule for rule in fired_c if rule not in fired_b),
                tuple(rule for rule in fired_b if rule not in fired_c))


MIX_COMPONENTS = ("refund", "credit", "discount", "replacement", "apology")


def _fired(snapshot: Snapshot, event: FailureEvent) -> list[str]:
    """The ids of the rules that match the event, as a decision's `rules_fired` lists them."""
    ruleset = snapshot.ruleset
    return [ruleset.rules[index].id for index in snapshot.engine.match(normalize(event, ruleset))]


def _owed(decision: dict[str, Any]) -> str:
    """The money the decision says is owed (restitution, statutory, contractual), apart from goodwill."""
    costs = decision.get("costs")
    return costs["owed"]["amount"] if costs else "0"


_comparer: Comparer | None = None


def _init(baseline: str, candidate: str) -> None:
    global _comparer
    _comparer = Comparer(load_snapshot(baseline), load_snapshot(candidate))


def _decide(snapshot: Snapshot, event: FailureEvent) -> dict[str, Any] | None:
    """What the snapshot decides, as far as the report reads it (`outcome_summary`: the same parts as the
    full decision, without the messages and ids no report shows)."""
    try:
        return outcome_summary(snapshot, event)
    except EventRejected:
        return None


def _whole(snapshot: Snapshot, event: FailureEvent) -> dict[str, Any] | None:
    """The decision as POST /v1/decisions would answer it, or None when the ruleset refuses the event."""
    try:
        return decide(snapshot, event)
    except EventRejected:
        return None


RANGE_BYTES = 1 << 19  # about 1,300 events: the share of the file a worker decides at a time


def ranges(path: Path, size: int = RANGE_BYTES) -> Iterator[dict[str, Any]]:
    """Ranges of whole lines of `path`: {"path", "offset", "length", "first_line"}; only the line ends are
    read here, so the workers read the events themselves."""
    with path.open("rb") as source:
        offset, line = 0, 1
        while True:
            source.seek(offset)
            block = source.read(size)
            if not block:
                return
            while len(block) >= size and b"\n" not in block[-size:]:  # a line longer than a range
                more = source.read(size)
                if not more:
                    break
                block += more
            if b"\n" in block and not block.endswith(b"\n"):
                block = block[: block.rfind(b"\n") + 1]
            yield {"path": str(path), "offset": offset, "length": len(block), "first_line": line}
            offset += len(block)
            line += block.count(b"\n")


def lines_of(part: Mapping[str, Any]) -> Iterator[tuple[int, bytes]]:
    """(line number, event) of a range's non-blank lines."""
    with open(part["path"], "rb") as source:
        source.seek(int(part["offset"]))
        block = source.read(int(part["length"]))
    for number, raw in enumerate(block.split(b"\n"), start=int(part["first_line"])):
        raw = raw.strip()
        if raw:
            yield number, raw


def decide_part(comparer: Comparer, lines: Iterable[tuple[int, bytes | dict[str, Any]]],
                top: int = 20) -> "_Totals":
    """The totals of some events, which `_merge` adds to the others': each worker adds up its own
    events, so the parent only merges one small summary per range."""
    totals = _Totals()
    for line, raw in lines:
        _add(totals, comparer.record(line, raw), top)
    return totals


def _work(task: tuple[dict[str, Any], int]) -> "_Totals":
    assert _comparer is not None
    part, top = task
    return decide_part(_comparer, lines_of(part), top)


def _pair() -> list[Decimal]:
    return [Decimal(0), Decimal(0)]


def _segment_row() -> list[Any]:
    return [0, 0, Decimal(0), Decimal(0)]


def _series() -> tuple[list[float], list[float]]:
    return ([], [])


def _segments() -> dict[str, dict[tuple[str, str], list[Any]]]:
    return {name: defaultdict(_segment_row) for name in SEGMENTS}


@dataclass
class _Totals:
    """What a replay adds up (module-level factories, so a worker's totals pickle to the parent)."""

    events: int = 0
    compared: int = 0
    changed: int = 0
    invalid: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: {"baseline": 0, "candidate": 0})
    approvals: list[int] = field(default_factory=lambda: [0, 0])
    gaps: list[list[int]] = field(default_factory=lambda: [[0, 0, 0], [0, 0, 0]])
    cost: dict[str, list[Decimal]] = field(default_factory=lambda: defaultdict(_pair))
    owed: dict[str, list[Decimal]] = field(default_factory=lambda: defaultdict(_pair))
    segments: dict[str, dict[tuple[str, str], list[Any]]] = field(default_factory=_segments)
    costs: dict[str, tuple[list[float], list[float]]] = field(default_factory=lambda: defaultdict(_series))
    movers: dict[str, list[tuple[Decimal, int, Any]]] = field(default_factory=lambda: defaultdict(list))
    examples: list[tuple[int, str]] = field(default_factory=list)  # the first invalid lines: (line, why)


def _merge(totals: _Totals, part: _Totals, top: int) -> None:
    """Add `part`'s totals to `totals`: the same totals as adding its events one by one, in any order
    (sums are exact Decimals, the movers the `top` largest by change then line, the examples the
    first lines)."""
    totals.events += part.events
    totals.compared += part.compared
    totals.changed += part.changed
    totals.invalid += part.invalid
    for side, count in part.rejected.items():
        totals.rejected[side] += count
    for side in range(2):
        totals.approvals[side] += part.approvals[side]
        for index in range(3):
            totals.gaps[side][index] += part.gaps[side][index]
    for mine, theirs in ((totals.cost, part.cost), (totals.owed, part.owed)):
        for currency, (before, after) in theirs.items():
            sums = mine[currency]
            sums[0] += before
            sums[1] += after
    for name in SEGMENTS:
        rows = totals.segments[name]
        for key, (count, changed, before, after) in part.segments[name].items():
            row = rows[key]
            row[0] += count
            row[1] += changed
            row[2] += before
            row[3] += after
    for currency, (before, after) in part.costs.items():
        series = totals.costs[currency]
        series[0].extend(before)
        series[1].extend(after)
    for currency, items in part.movers.items():
        merged = heapq.nlargest(top, totals.movers[currency] + items, key=lambda item: item[:2])
        heapq.heapify(merged)  # a heap again, as `_add` keeps it
        totals.movers[currency] = merged
    totals.examples = sorted(totals.examples + part.examples)[:5]


def _add(totals: _Totals, record: tuple[Any, ...], top: int) -> None:
    totals.events += 1
    line, kind = record[0], record[1]
    if kind == "invalid":
        totals.invalid += 1
        if len(totals.examples) < 5:
            totals.examples.append((line, record[2]))
        return
    if kind == "rejected":
        totals.rejected[record[2]] += 1
        return
    (_, _, event_id, changed, currency, tier, failure_type, root_cause, cost_b, cost_c, approval_b, approval_c,
     gaps_b, gaps_c, owed_b, owed_c, moved) = record
    totals.compared += 1
    totals.changed += changed
    totals.approvals[0] += approval_b
    totals.approvals[1] += approval_c
    for index in range(3):
        totals.gaps[0][index] += gaps_b[index]
        totals.gaps[1][index] += gaps_c[index]
    if currency is None:
        return
    before, after = Decimal(cost_b), Decimal(cost_c)
    sums = totals.cost[currency]
    sums[0] += before
    sums[1] += after
    owed = totals.owed[currency]
    owed[0] += Decimal(owed_b)
    owed[1] += Decimal(owed_c)
    for name, value in zip(SEGMENTS, (tier, failure_type, root_cause)):
        row = totals.segments[name][(value, currency)]
        row[0] += 1
        row[1] += changed
        row[2] += before
        row[3] += after
    totals.costs[currency][0].append(float(before))
    totals.costs[currency][1].append(float(after))
    delta = after - before
    if delta:
        heap = totals.movers[currency]
        components, rules_added, rules_removed = moved
        item = (abs(delta), line, {"line": line, "event_id": event_id, "currency": currency,
                                   "baseline": cost_b, "candidate": cost_c, "delta": f"{delta:f}",
                                   "components": list(components), "rules_added": list(rules_added),
                                   "rules_removed": list(rules_removed)})
        if len(heap) < top:
            heapq.heappush(heap, item)
        elif item[:2] > heap[0][:2]:
            heapq.heapreplace(heap, item)


def _nice_width(span: float, most: int) -> float:
    """The smallest 1, 2 or 5 times a power of ten that covers `span` in at most `most` bins."""
    import math

    if span <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(span / most))
    return float(next(step * power for step in (1, 2, 5, 10) if span / (step * power) <= most))


def _histogram(before: list[float], after: list[float], most: int = 40) -> dict[str, Any]:
    """Decisions per cost band: bands as fine as 40 bins over the bulk of the costs allow (1, 2, 5 x 10^n,
    so a 5 EUR change in typical costs moves decisions between bands), and one last band for the costliest
    1%, so a few outliers do not make every band wide."""
    values = sorted(before + after)
    if not values:
        return {"bins": [], "baseline": [], "candidate": [], "width": None}
    bulk = values[min(len(values) - 1, int(len(values) * 0.99))]
    width = _nice_width(bulk, most)
    bins = max(1, min(most, int(bulk // width) + 1))
    counts = [[0] * (bins + 1), [0] * (bins + 1)]
    for series, side in enumerate((before, after)):
        for value in side:
            counts[series][min(int(value // width), bins)] += 1
    edges = [f"{_grouped(width * index)}-{_grouped(width * (index + 1))}" for index in range(bins)]
    edges.append(f"{_grouped(width * bins)}+")
    if not counts[0][-1] and not counts[1][-1]:  # no outliers: no overflow band
        edges.pop()
        counts = [counts[0][:-1], counts[1][:-1]]
    return {"bins": edges, "baseline": counts[0], "candidate": counts[1], "width": _grouped(width)}


def _grouped(value: float | Decimal | str) -> str:
    """A number with thousands separators, as many places as it has (`1,250,000`, `16.5`)."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return f"{number.to_integral_value():,f}"
    return f"{number.normalize():,f}"


def run(events: Path, baseline: Path, candidate: Path, *, workers: int | None = None, top: int = 20,
        progress: bool | None = None) -> dict[str, Any]:
    """Replay `events` through both rulesets; the JSON-ready summary."""
    from tqdm import tqdm

    workers = workers or os.cpu_count() or 1
    total_lines = None
    if progress is not False:
        with events.open("rb") as source:
            total_lines = sum(1 for raw in source if raw.strip())
    totals = _Totals()
    bar = tqdm(total=total_lines, unit="event", disable=None if progress is None else not progress,
               desc="simulating")
    tasks = ((part, top) for part in ranges(events))
    try:
        if workers <= 1:
            _init(str(baseline), str(candidate))
            for part in map(_work, tasks):
                _merge(totals, part, top)
                bar.update(part.events)
        else:
            context = multiprocessing.get_context("spawn")
            with context.Pool(workers, initializer=_init, initargs=(str(baseline), str(candidate))) as pool:
                for part in pool.imap_unordered(_work, tasks):
                    _merge(totals, part, top)
                    bar.update(part.events)
    finally:
        bar.close()
    base, cand = load_snapshot(baseline), load_snapshot(candidate)
    try:
        return summarize(totals, str(events), baseline, candidate, base, cand)
    finally:
        base.engine.close()
        cand.engine.close()


def summarize(totals: _Totals, events: str, baseline: Path, candidate: Path, base: Snapshot,
              cand: Snapshot) -> dict[str, Any]:
    """The report of a replay file's totals: what `run` returns, and the Ray replay's driver too."""
    return _summary(totals, events, {"directory": str(baseline), "digest": base.digest},
                    {"directory": str(candidate), "digest": cand.digest}, base)


def compare(events: Iterable[dict[str, Any]], baseline: Snapshot, candidate: Snapshot, *, label: str,
            baseline_label: str, candidate_label: str, top: int = 20, decisions: bool = False) -> dict[str, Any]:
    """The same summary for events in memory and snapshots already built (the HTTP route); with
    `decisions`, also each event's decision under both (null where that ruleset refused the event)."""
    comparer = Comparer(baseline, candidate, keep=decisions)
    totals = _Totals()
    for line, event in enumerate(events, start=1):
        _add(totals, comparer.record(line, event), top)
    summary = _summary(totals, label, {"directory": baseline_label, "digest": baseline.digest},
                       {"directory": candidate_label, "digest": candidate.digest}, baseline)
    if comparer.kept is not None:
        summary["decisions"] = comparer.kept
    return summary


def _rate(count: int, of: int) -> float:
    return round(count / of, 4) if of else 0.0


ROOT_CAUSES = ("provider", "third_party", "unknown", "customer")


def _orders(snapshot: Snapshot) -> dict[str, list[str]]:
    """Each segment's values in the order the ruleset's catalogue lists them (tiers lowest first)."""
    catalogues = snapshot.ruleset.catalogues
    return {"tier": list(catalogues.tiers), "failure_type": list(catalogues.failure_types),
            "root_cause": list(ROOT_CAUSES)}


def _in_order(keys: Iterable[tuple[str, str]], order: list[str]) -> list[tuple[str, str]]:
    rank = {value: index for index, value in enumerate(order)}
    return sorted(keys, key=lambda key: (rank.get(key[0], len(rank)), key[0], key[1]))


def _reporting_total(totals: _Totals, snapshot: Snapshot) -> dict[str, Any] | None:
    """Every currency's cost converted into the ruleset's base currency with its rate table: one total
    to read the change by. Currencies the table does not rate are listed and left out."""
    table = snapshot.ruleset.currency
    if table is None:
        return None
    sums = [Decimal(0), Decimal(0)]
    converted, unrated = [], []
    for currency, (before, after) in sorted(totals.cost.items()):
        rate = Decimal(1) if currency == table.base else table.rates.get(currency)
        if rate is None:
            unrated.append(currency)
            continue
        converted.append(currency)
        sums[0] += before / rate
        sums[1] += after / rate
    places = Decimal("0.01")
    before, after = (value.quantize(places) for value in sums)
    return {"currency": table.base, "baseline": f"{before:f}", "candidate": f"{after:f}",
            "delta": f"{after - before:f}",
            "delta_percent": float(round((after - before) / before * 100, 2)) if before else None,
            "converted": converted, "not_converted": unrated,
            "rates": {currency: f"{Decimal(1) if currency == table.base else table.rates[currency]:f}"
                      for currency in converted}}


def _summary(totals: _Totals, events: str, baseline: dict[str, str], candidate: dict[str, str],
             snapshot: Snapshot) -> dict[str, Any]:
    def money_row(before: Decimal, after: Decimal) -> dict[str, Any]:
        delta = after - before
        return {"baseline": f"{before:f}", "candidate": f"{after:f}", "delta": f"{delta:f}",
                "delta_percent": float(round(delta / before * 100, 2)) if before else None}

    orders = _orders(snapshot)
    segments = {}
    for name in SEGMENTS:
        rows = []
        for key in _in_order(totals.segments[name], orders[name]):
            (value, currency), (count, changed, before, after) = key, totals.segments[name][key]
            rows.append({"segment": value, "currency": currency, "events": count, "changed": changed,
                         **money_row(before, after)})
        segments[name] = rows
    return {
        "events_file": events,
        "baseline": baseline,
        "candidate": candidate,
        "events": totals.events,
        "compared": totals.compared,
        "invalid": totals.invalid,
        "invalid_examples": [f"line {line}: {why}" for line, why in sorted(totals.examples)],
        "rejected": totals.rejected,
        "changed": totals.changed,
        "changed_rate": _rate(totals.changed, totals.compared),
        "cost_by_currency": {currency: money_row(*sums) for currency, sums in sorted(totals.cost.items())},
        "cost_total": _reporting_total(totals, snapshot),
        "owed_by_currency": {currency: money_row(*sums) for currency, sums in sorted(totals.owed.items())},
        "goodwill_by_currency": {currency: money_row(totals.cost[currency][0] - owed[0], totals.cost[currency][1] - owed[1])
                                 for currency, owed in sorted(totals.owed.items())},
        "cost_by": segments,
        "approval_rate": {"baseline": _rate(totals.approvals[0], totals.compared),
                          "candidate": _rate(totals.approvals[1], totals.compared)},
        "justice_gaps": {side: dict(zip(DIMENSIONS, totals.gaps[index]))
                         for index, side in enumerate(("baseline", "candidate"))},
        "top_movers": {currency: [item for _, _, item in sorted(heap, key=lambda entry: (-entry[0], entry[1]))]
                       for currency, heap in sorted(totals.movers.items())},
        "cost_distribution": {currency: _histogram(*series) for currency, series in sorted(totals.costs.items())},
    }


# --------------------------------------------------------------------------- HTML

def _chart(kind: str, title: str, labels: list[str], series: dict[str, list[float]], height: int = 300) -> str:
    import pygal
    from pygal.style import Style

    style = Style(background="white", plot_background="white", colors=("#6c7a89", "#d35400", "#27ae60"),
                  font_family="system-ui, sans-serif", label_font_size=10, major_label_font_size=10)
    chart_type = {"bar": pygal.Bar, "hbar": pygal.HorizontalBar}[kind]
    chart = chart_type(title=title, style=style, js=[], width=560, height=height, x_label_rotation=45,
                       legend_at_bottom=True, print_values=False, disable_xml_declaration=True,
                       show_minor_x_labels=False, x_labels_major_every=max(1, len(labels) // 10) if kind == "bar"
                       else None, value_formatter=_grouped)
    if kind == "hbar":  # pygal draws the first label at the bottom: keep the catalogue's order top-down
        labels, series = labels[::-1], {name: values[::-1] for name, values in series.items()}
    chart.x_labels = labels
    for name, values in series.items():
        chart.add(name, values)
    return f"<figure>{chart.render(is_unicode=True)}</figure>"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return _grouped(value)
    if isinstance(value, str) and value and value.lstrip("-").replace(".", "", 1).isdigit():
        return _grouped(value)  # an amount as the summary writes it
    return str(value)


def _table(headers: list[str], rows: list[list[Any]], note: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    caption = f"<caption>{html.escape(note)}</caption>" if note else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _what_moved(mover: dict[str, Any]) -> str:
    parts = []
    if mover.get("components"):
        parts.append(", ".join(mover["components"]))
    parts += [f"+{rule}" for rule in mover.get("rules_added", [])]
    parts += [f"-{rule}" for rule in mover.get("rules_removed", [])]
    return "; ".join(parts)


def _segment_deltas(rows: list[dict[str, Any]], rates: dict[str, Decimal]) -> tuple[list[str], list[float]]:
    """Each segment's cost change in the reporting currency, summed over the currencies it was in."""
    order: list[str] = []
    deltas: dict[str, Decimal] = {}
    for row in rows:
        rate = rates.get(row["currency"])
        if rate is None:
            continue
        if row["segment"] not in deltas:
            order.append(row["segment"])
            deltas[row["segment"]] = Decimal(0)
        deltas[row["segment"]] += Decimal(row["delta"]) / rate
    return order, [float(round(deltas[name], 2)) for name in order]


def report_html(summary: dict[str, Any]) -> str:
    """The summary as one compact, self-contained HTML page: amounts with thousands separators, segments
    in catalogue order, only the segments that changed in the tables, charts two to a row, cost bands
    for every currency with a real share of the decisions, segment charts in one reporting currency,
    and the movers with the components and rules that moved them."""
    total = summary.get("cost_total")
    base = total["currency"] if total else None
    rates = {currency: Decimal(rate) for currency, rate in (total or {}).get("rates", {}).items()}
    events_in = {currency: sum(dist["baseline"]) for currency, dist in summary["cost_distribution"].items()}
    compared = sum(events_in.values()) or 1
    charted = [c for c in sorted(events_in, key=lambda c: -events_in[c]) if events_in[c] / compared >= 0.05][:4]
    parts = [f"<h1>Simulation: {html.escape(summary['events_file'])}</h1>",
             "<p>" + html.escape(f"baseline {summary['baseline']['directory']} ({summary['baseline']['digest'][:19]}…)"
                                 f" → candidate {summary['candidate']['directory']} "
                                 f"({summary['candidate']['digest'][:19]}…)") + "</p>",
             _table(["events", "compared", "changed", "changed %", "invalid", "approval before", "approval after"],
                    [[summary["events"], summary["compared"], summary["changed"],
                      round(summary["changed_rate"] * 100, 2), summary["invalid"],
                      f"{summary['approval_rate']['baseline']:.2%}", f"{summary['approval_rate']['candidate']:.2%}"]])]
    if total:
        left_out = f"; not rated, left out: {', '.join(total['not_converted'])}" if total["not_converted"] else ""
        parts += [f"<h2>Total cost in {html.escape(base or '')}</h2>",
                  _table(["", "baseline", "candidate", "delta", "delta %"],
                         [[f"all currencies in {base}", total["baseline"], total["candidate"], total["delta"],
                           total["delta_percent"]]],
                         f"{', '.join(total['converted'])} converted with the ruleset's rate table{left_out}")]
    parts += ["<h2>Cost by currency</h2>",
              _table(["currency", "baseline", "candidate", "delta", "delta %"],
                     [[c, r["baseline"], r["candidate"], r["delta"], r["delta_percent"]]
                      for c, r in summary["cost_by_currency"].items()]),
              "<h2>Owed and goodwill by currency</h2>",
              "<p>Owed money (restitution, statutory, contractual) is paid whatever the goodwill policy; "
              "goodwill is what the rules add on top (estimated cost less what is owed).</p>",
              _table(["currency", "owed before", "owed after", "goodwill before", "goodwill after", "goodwill delta"],
                     [[c, r["baseline"], r["candidate"], summary["goodwill_by_currency"][c]["baseline"],
                       summary["goodwill_by_currency"][c]["candidate"], summary["goodwill_by_currency"][c]["delta"]]
                      for c, r in summary["owed_by_currency"].items()]),
              "<h2>Justice gaps (decisions leaving a dimension unaddressed)</h2>",
              _table(["", *DIMENSIONS], [[side, *summary["justice_gaps"][side].values()]
                                         for side in ("baseline", "candidate")])]
    charts = []
    for currency in charted:
        dist = summary["cost_distribution"][currency]
        charts.append(_chart("bar", f"Decisions per cost band ({currency}, bands of {dist.get('width')})",
                             dist["bins"], {"baseline": dist["baseline"], "candidate": dist["candidate"]}))
    if base:
        for name in SEGMENTS:
            labels, deltas = _segment_deltas(summary["cost_by"][name], rates)
            if any(deltas):
                charts.append(_chart("hbar", f"Cost change by {name.replace('_', ' ')} ({base}, all currencies)",
                                     labels, {"delta": deltas}, height=max(200, 24 * len(labels) + 90)))
    if charts:
        parts.append("<h2>Charts</h2><div class=\"charts\">" + "".join(charts) + "</div>")
    for name in SEGMENTS:
        rows = summary["cost_by"][name]
        moved = [r for r in rows if r["changed"] or Decimal(r["delta"])]
        hidden = len(rows) - len(moved)
        parts.append(f"<h2>Cost by {name.replace('_', ' ')}</h2>")
        parts.append(_table(["segment", "currency", "events", "changed", "baseline", "candidate", "delta", "delta %"],
                            [[r["segment"], r["currency"], r["events"], r["changed"], r["baseline"],
                              r["candidate"], r["delta"], r["delta_percent"]] for r in moved],
                            f"{hidden} rows where nothing changed are not shown" if hidden else ""))
    parts.append("<h2>Events whose cost moved most</h2>")
    for currency, movers in summary["top_movers"].items():
        shown = movers[:10]
        parts.append(f"<details{' open' if currency == (charted[:1] or [None])[0] else ''}><summary>"
                     f"{html.escape(currency)}: {len(movers)} events</summary>")
        parts.append(_table(["line", "event id", "baseline", "candidate", "delta", "what moved"],
                            [[m["line"], m["event_id"], m["baseline"], m["candidate"], m["delta"], _what_moved(m)]
                             for m in shown]))
        parts.append("</details>")
    style = ("body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:72rem;color:#222}"
             "h2{font-size:1.15rem;margin:1.2rem 0 0.4rem}"
             "table{border-collapse:collapse;margin:0.3rem 0 1rem;font-size:0.9rem}caption{caption-side:bottom;"
             "text-align:left;color:#666;font-size:0.8rem}td,th{border:1px solid #ccc;padding:0.2rem 0.5rem;"
             "text-align:right}th{background:#f3f3f3}"
             ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(30rem,1fr));gap:0.5rem}"
             "figure{margin:0}svg{max-width:100%;height:auto}")
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Rules simulation</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")


def write_reports(summary: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "simulation.json"
    html_path = out / "simulation.html"
    json_path.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    html_path.write_text(report_html(summary), encoding="utf-8")
    return json_path, html_path
