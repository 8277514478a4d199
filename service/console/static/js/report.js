// The simulation summary (POST /v1/simulations, JSON) as a readable report with
// charts: how many decisions change, the cost difference per currency and per
// segment (tier, failure type, root cause), approvals, justice gaps, the cost
// distribution and the events that move most.

import { divergingBars, groupedBars } from "./charts.js";
import { byId, h, replace } from "./dom.js";
import { plural, rate, shortDigest, signed, signedPercent, words } from "./format.js";

const SEGMENTS = { tier: "tier", failure_type: "failure type", root_cause: "root cause" };

export function table(id, headings, rows) {
  return h("table", { class: "data numeric", id },
    h("thead", {}, h("tr", {}, headings.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows));
}

export function stat(label, value, note) {
  return h("div", { class: "stat" }, h("p", { class: "stat-label" }, label), h("p", { class: "stat-value" }, value),
    note ? h("p", { class: "stat-note" }, note) : null);
}

function deltaCell(delta, percent) {
  const direction = Number(delta) > 0 ? "up" : Number(delta) < 0 ? "down" : "flat";
  return h("td", { class: `delta ${direction}` }, signed(delta), h("span", { class: "percent" }, ` (${signedPercent(percent)})`));
}

function currenciesOf(summary) {
  return Object.keys(summary.cost_by_currency || {});
}

/** The currency most of the replayed decisions were in (the one the charts are most telling for). */
function defaultCurrency(summary) {
  const events = {};
  for (const row of (summary.cost_by || {}).tier || []) events[row.currency] = (events[row.currency] || 0) + row.events;
  const ranked = currenciesOf(summary).sort((a, b) => (events[b] || 0) - (events[a] || 0) || a.localeCompare(b));
  return ranked[0] || null;
}

function select(id, label, entries, chosen, onChange) {
  const control = h("select", { id, onchange: (event) => onChange(event.target.value) },
    entries.map(([value, text]) => h("option", { value, selected: value === chosen }, text)));
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

function segmentView(summary, state) {
  const rows = ((summary.cost_by || {})[state.segment] || []).filter((row) => row.currency === state.currency);
  const labels = rows.map((row) => words(row.segment));
  const title = `Cost by ${SEGMENTS[state.segment]} in ${state.currency}: live against candidate`;
  return [
    rows.length ? groupedBars(title, labels, [
      { name: "live ruleset", values: rows.map((row) => Number(row.baseline)), texts: rows.map((row) => row.baseline) },
      { name: "candidate", values: rows.map((row) => Number(row.candidate)), texts: rows.map((row) => row.candidate) },
    ]) : h("p", {}, `No events in ${state.currency}.`),
    table("segment-table", [capitalisedWord(SEGMENTS[state.segment]), "Events", "Changed", "Live", "Candidate", "Difference"],
      rows.map((row) => h("tr", { "data-segment": row.segment },
        h("th", { scope: "row" }, words(row.segment)), h("td", {}, row.events), h("td", {}, row.changed),
        h("td", {}, row.baseline), h("td", {}, row.candidate), deltaCell(row.delta, row.delta_percent)))),
  ];
}

function capitalisedWord(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function distributionView(summary, currency) {
  const distribution = (summary.cost_distribution || {})[currency];
  if (!distribution) return h("p", {}, `No cost distribution for ${currency}.`);
  return groupedBars(`How many decisions cost how much, in ${currency}`,
    distribution.bins.map((bin) => `${bin} ${currency}`), [
      { name: "live ruleset", values: distribution.baseline, texts: distribution.baseline.map(String) },
      { name: "candidate", values: distribution.candidate, texts: distribution.candidate.map(String) },
    ]);
}

/** Which components changed and which rules fired only under one side, e.g. "credit; + fair-floor-credit". */
function whatMoved(row) {
  const parts = [];
  if ((row.components || []).length) parts.push(row.components.join(", "));
  for (const rule of row.rules_added || []) parts.push(`+ ${rule}`);
  for (const rule of row.rules_removed || []) parts.push(`\u2212 ${rule}`);
  return parts.join("; ");
}

function movers(summary) {
  const groups = Object.entries(summary.top_movers || {}).filter(([, rows]) => rows.length);
  if (!groups.length) return h("p", {}, "No event's cost moved.");
  return groups.map(([currency, rows]) => [
    h("h5", {}, currency),
    table(`movers-${currency}`, ["Event", "Line", "Live", "Candidate", "Difference", "What moved"],
      rows.map((row) => h("tr", {}, h("th", { scope: "row" }, row.event_id || "(no id)"), h("td", {}, row.line),
        h("td", {}, row.baseline), h("td", {}, row.candidate),
        h("td", { class: `delta ${Number(row.delta) > 0 ? "up" : "down"}` }, signed(row.delta)),
        h("td", { class: "moved" }, whatMoved(row))))),
  ]);
}

export function renderReport(container, summary, { onDownload }) {
  const byCurrency = Object.entries(summary.cost_by_currency || {});
  const currencies = currenciesOf(summary);
  const state = { segment: "tier", currency: defaultCurrency(summary) };
  const segmentBox = h("div", { id: "segment-view" });
  const distributionBox = h("div", { id: "distribution-view" });
  const redrawSegments = () => replace(segmentBox, segmentView(summary, state));
  const gaps = summary.justice_gaps || { baseline: {}, candidate: {} };
  const approval = summary.approval_rate || {};
  const invalid = summary.invalid_examples || [];

  replace(container,
    h("h3", { id: "report-heading", tabindex: "-1" }, "What the candidate would change"),
    h("p", { class: "report-meta" },
      `Replayed ${summary.events_file}: live ruleset `, h("code", {}, shortDigest(summary.baseline.digest)),
      ` against ${summary.candidate.directory} `, h("code", {}, shortDigest(summary.candidate.digest)), "."),
    h("div", { class: "stats" },
      stat("Events replayed", String(summary.events), summary.invalid ? `${plural(summary.invalid, "invalid event")} skipped` : null),
      stat("Decisions changed", `${summary.changed} of ${summary.compared}`, rate(summary.changed_rate), ),
      stat("Approval needed", `${rate(approval.baseline)} → ${rate(approval.candidate)}`, "live → candidate"),
      stat("Refused by a ruleset", `${summary.rejected.baseline} → ${summary.rejected.candidate}`, "live → candidate")),
    h("h4", {}, "Cost by currency"),
    byCurrency.length ? divergingBars("Cost change by currency (percent of the live cost)",
      byCurrency.map(([currency]) => currency), byCurrency.map(([, cost]) => cost.delta_percent),
      byCurrency.map(([, cost]) => `${signed(cost.delta)} (${signedPercent(cost.delta_percent)})`)) : null,
    table("currency-table", ["Currency", "Live", "Candidate", "Difference"],
      byCurrency.map(([currency, cost]) => h("tr", { "data-currency": currency },
        h("th", { scope: "row" }, currency), h("td", {}, cost.baseline), h("td", {}, cost.candidate),
        deltaCell(cost.delta, cost.delta_percent)))),
    h("h4", {}, "Cost difference by segment"),
    h("div", { class: "controls" },
      select("segment-by", "Segment by", Object.entries(SEGMENTS), state.segment,
        (value) => { state.segment = value; redrawSegments(); }),
      select("segment-currency", "Currency", currencies.map((code) => [code, code]), state.currency,
        (value) => { state.currency = value; redrawSegments(); })),
    segmentBox,
    h("h4", {}, "Justice gaps (decisions that leave a dimension unaddressed)"),
    table("justice-table", ["Dimension", "Live", "Candidate"], ["distributive", "procedural", "interactional"].map(
      (name) => h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, gaps.baseline[name] ?? 0),
        h("td", {}, gaps.candidate[name] ?? 0)))),
    h("h4", {}, "Cost distribution"),
    h("div", { class: "controls" }, select("distribution-currency", "Currency", currencies.map((code) => [code, code]),
      state.currency, (value) => replace(distributionBox, distributionView(summary, value)))),
    distributionBox,
    h("h4", {}, "Events whose cost moved most"),
    movers(summary),
    invalid.length ? [h("h4", {}, "Invalid events (skipped)"), h("ul", { class: "findings" },
      invalid.map((item) => h("li", {}, JSON.stringify(item))))] : null,
    h("p", { class: "actions" }, h("button", { type: "button", id: "download-report", onclick: onDownload },
      "Download the full HTML report")));
  redrawSegments();
  if (state.currency) replace(distributionBox, distributionView(summary, state.currency));
  byId("report-heading").focus();
}
