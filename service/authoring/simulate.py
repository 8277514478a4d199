"""`recovery simulate`: what a rules change costs, before it ships.

Replays a JSONL file of events through a baseline and a candidate rules directory
and reports how many decisions changed, the cost difference by currency, tier,
failure type and root cause, the approval rate and the justice gaps before and
after, and the events whose cost moved most. The work is spread over worker
processes (each builds both rulesets once); amounts are summed as Decimals.
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
from typing import Any, Iterable, Iterator

import orjson
from pydantic import ValidationError

from .. import strictjson
from ..engine.registry import Snapshot, load_snapshot
from ..models import FailureEvent, event_from_json
from ..recovery.decide import EventRejected, outcome_summary

CHUNK = 500
SEGMENTS = ("tier", "failure_type", "root_cause")
DIMENSIONS = ("distributive", "procedural", "interactional")
COMPARED_KEYS = ("mix", "estimated_cost", "justice", "approval", "process_recovery")

class Comparer:
    """Decides events under two snapshots and says how the decisions differ."""

    def __init__(self, baseline: Snapshot, candidate: Snapshot):
        self.baseline = baseline
        self.candidate = candidate

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
                _owed(before), _owed(after))


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


def _work(chunk: list[tuple[int, bytes]]) -> list[tuple[Any, ...]]:
    assert _comparer is not None
    return [_comparer.record(line, raw) for line, raw in chunk]


def _chunks(path: Path) -> Iterator[list[tuple[int, bytes]]]:
    chunk: list[tuple[int, bytes]] = []
    with path.open("rb") as source:
        for number, raw in enumerate(source, start=1):
            raw = raw.strip()
            if not raw:
                continue
            chunk.append((number, raw))
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


@dataclass
class _Totals:
    events: int = 0
    compared: int = 0
    changed: int = 0
    invalid: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: {"baseline": 0, "candidate": 0})
    approvals: list[int] = field(default_factory=lambda: [0, 0])
    gaps: list[list[int]] = field(default_factory=lambda: [[0, 0, 0], [0, 0, 0]])
    cost: dict[str, list[Decimal]] = field(default_factory=lambda: defaultdict(lambda: [Decimal(0), Decimal(0)]))
    owed: dict[str, list[Decimal]] = field(default_factory=lambda: defaultdict(lambda: [Decimal(0), Decimal(0)]))
    segments: dict[str, dict[tuple[str, str], list[Any]]] = field(
        default_factory=lambda: {name: defaultdict(lambda: [0, 0, Decimal(0), Decimal(0)]) for name in SEGMENTS})
    costs: dict[str, tuple[list[float], list[float]]] = field(default_factory=lambda: defaultdict(lambda: ([], [])))
    movers: dict[str, list[tuple[Decimal, int, Any]]] = field(default_factory=lambda: defaultdict(list))
    examples: list[str] = field(default_factory=list)


def _add(totals: _Totals, record: tuple[Any, ...], top: int) -> None:
    totals.events += 1
    line, kind = record[0], record[1]
    if kind == "invalid":
        totals.invalid += 1
        if len(totals.examples) < 5:
            totals.examples.append(f"line {line}: {record[2]}")
        return
    if kind == "rejected":
        totals.rejected[record[2]] += 1
        return
    (_, _, event_id, changed, currency, tier, failure_type, root_cause, cost_b, cost_c, approval_b, approval_c,
     gaps_b, gaps_c, owed_b, owed_c) = record
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
        item = (abs(delta), line, {"line": line, "event_id": event_id, "currency": currency,
                                   "baseline": cost_b, "candidate": cost_c, "delta": f"{delta:f}"})
        if len(heap) < top:
            heapq.heappush(heap, item)
        elif item[:2] > heap[0][:2]:
            heapq.heapreplace(heap, item)


def _histogram(before: list[float], after: list[float], bins: int = 12) -> dict[str, Any]:
    top = max(before + after, default=0.0)
    width = top / bins if top > 0 else 1.0
    counts = [[0] * bins, [0] * bins]
    for series, values in enumerate((before, after)):
        for value in values:
            counts[series][min(int(value / width), bins - 1)] += 1
    edges = [f"{width * index:.0f}-{width * (index + 1):.0f}" for index in range(bins)]
    return {"bins": edges, "baseline": counts[0], "candidate": counts[1]}


def run(events: Path, baseline: Path, candidate: Path, *, workers: int | None = None, top: int = 20,
        progress: bool | None = None) -> dict[str, Any]:
    """Replay `events` through both rulesets; the JSON-ready summary."""
    from tqdm import tqdm

    workers = workers or os.cpu_count() or 1
    total_lines = sum(1 for raw in events.open("rb") if raw.strip())
    totals = _Totals()
    bar = tqdm(total=total_lines, unit="event", disable=None if progress is None else not progress,
               desc="simulating")
    chunks: Iterable[list[tuple[int, bytes]]] = _chunks(events)
    try:
        if workers <= 1:
            _init(str(baseline), str(candidate))
            results: Iterable[list[tuple[Any, ...]]] = map(_work, chunks)
            for batch in results:
                for record in batch:
                    _add(totals, record, top)
                bar.update(len(batch))
        else:
            context = multiprocessing.get_context("spawn")
            with context.Pool(workers, initializer=_init, initargs=(str(baseline), str(candidate))) as pool:
                for batch in pool.imap(_work, chunks):
                    for record in batch:
                        _add(totals, record, top)
                    bar.update(len(batch))
    finally:
        bar.close()
    base, cand = load_snapshot(baseline), load_snapshot(candidate)
    try:
        return _summary(totals, str(events), {"directory": str(baseline), "digest": base.digest},
                        {"directory": str(candidate), "digest": cand.digest})
    finally:
        base.engine.close()
        cand.engine.close()


def compare(events: Iterable[dict[str, Any]], baseline: Snapshot, candidate: Snapshot, *, label: str,
            baseline_label: str, candidate_label: str, top: int = 20) -> dict[str, Any]:
    """The same summary for events in memory and snapshots already built (the HTTP route)."""
    comparer = Comparer(baseline, candidate)
    totals = _Totals()
    for line, event in enumerate(events, start=1):
        _add(totals, comparer.record(line, event), top)
    return _summary(totals, label, {"directory": baseline_label, "digest": baseline.digest},
                    {"directory": candidate_label, "digest": candidate.digest})


def _rate(count: int, of: int) -> float:
    return round(count / of, 4) if of else 0.0


def _summary(totals: _Totals, events: str, baseline: dict[str, str], candidate: dict[str, str]) -> dict[str, Any]:
    def money_row(before: Decimal, after: Decimal) -> dict[str, Any]:
        delta = after - before
        return {"baseline": f"{before:f}", "candidate": f"{after:f}", "delta": f"{delta:f}",
                "delta_percent": float(round(delta / before * 100, 2)) if before else None}

    segments = {}
    for name in SEGMENTS:
        rows = []
        for (value, currency), (count, changed, before, after) in sorted(totals.segments[name].items()):
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
        "invalid_examples": totals.examples,
        "rejected": totals.rejected,
        "changed": totals.changed,
        "changed_rate": _rate(totals.changed, totals.compared),
        "cost_by_currency": {currency: money_row(*sums) for currency, sums in sorted(totals.cost.items())},
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

def _chart(kind: str, title: str, labels: list[str], series: dict[str, list[float]]) -> str:
    import pygal
    from pygal.style import Style

    style = Style(background="white", plot_background="white", colors=("#6c7a89", "#d35400", "#27ae60"),
                  font_family="system-ui, sans-serif")
    chart_type = {"bar": pygal.Bar, "hbar": pygal.HorizontalBar}[kind]
    chart = chart_type(title=title, style=style, js=[], width=720, height=360, x_label_rotation=30,
                       legend_at_bottom=True, print_values=False, disable_xml_declaration=True)
    chart.x_labels = labels
    for name, values in series.items():
        chart.add(name, values)
    return str(chart.render(is_unicode=True))


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if cell is None else str(cell))}</td>" for cell in row)
                   + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def report_html(summary: dict[str, Any]) -> str:
    currencies = list(summary["cost_by_currency"])
    # Charts show the currency with the most decisions; the tables show every currency.
    main = max(currencies, key=lambda c: sum(summary["cost_distribution"][c]["baseline"]), default=None)
    parts = [f"<h1>Simulation: {html.escape(summary['events_file'])}</h1>",
             "<p>" + html.escape(f"baseline {summary['baseline']['directory']} ({summary['baseline']['digest'][:19]}…)"
                                 f" → candidate {summary['candidate']['directory']} "
                                 f"({summary['candidate']['digest'][:19]}…)") + "</p>",
             _table(["events", "compared", "changed", "changed %", "invalid", "approval before", "approval after"],
                    [[summary["events"], summary["compared"], summary["changed"],
                      round(summary["changed_rate"] * 100, 2), summary["invalid"],
                      f"{summary['approval_rate']['baseline']:.2%}", f"{summary['approval_rate']['candidate']:.2%}"]]),
             "<h2>Cost by currency</h2>",
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
    if main is not None:
        dist = summary["cost_distribution"][main]
        parts.append(_chart("bar", f"Cost distribution ({main}): decisions per cost band", dist["bins"],
                            {"baseline": dist["baseline"], "candidate": dist["candidate"]}))
    for name in SEGMENTS:
        rows = summary["cost_by"][name]
        parts.append(f"<h2>Cost by {name.replace('_', ' ')}</h2>")
        if main is not None:
            mine = [row for row in rows if row["currency"] == main]
            parts.append(_chart("hbar", f"Cost change by {name.replace('_', ' ')} ({main})",
                                [row["segment"] for row in mine], {"delta": [float(row["delta"]) for row in mine]}))
        parts.append(_table(["segment", "currency", "events", "changed", "baseline", "candidate", "delta", "delta %"],
                            [[r["segment"], r["currency"], r["events"], r["changed"], r["baseline"],
                              r["candidate"], r["delta"], r["delta_percent"]] for r in rows]))
    parts.append("<h2>Events whose cost moved most</h2>")
    for currency, movers in summary["top_movers"].items():
        parts.append(f"<h3>{html.escape(currency)}</h3>")
        parts.append(_table(["line", "event id", "baseline", "candidate", "delta"],
                            [[m["line"], m["event_id"], m["baseline"], m["candidate"], m["delta"]] for m in movers]))
    style = ("body{font-family:system-ui,sans-serif;margin:2rem;max-width:64rem;color:#222}"
             "table{border-collapse:collapse;margin:0.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:0.25rem 0.6rem;"
             "text-align:right}th{background:#f3f3f3}svg{max-width:100%;height:auto}")
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Rules simulation</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")


def write_reports(summary: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "simulation.json"
    html_path = out / "simulation.html"
    json_path.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    html_path.write_text(report_html(summary), encoding="utf-8")
    return json_path, html_path
