// The ledger dashboard: what the recorded decisions and their outcomes say
// (GET /v1/reports/*). The summary over a period, a breakdown by ruleset version,
// failure type, root cause, tier or channel with charts, and the root-cause Pareto;
// each breakdown can be downloaded as CSV. Money stays the service's decimal strings
// (per currency, never added across currencies); numbers feed only the bar lengths.

import { api } from "./api.js";
import { groupedBars } from "./charts.js";
import { byId, h, replace, saveFile } from "./dom.js";
import { rate, words } from "./format.js";
import { hideProblem, showProblem } from "./problems.js";
import { stat, table } from "./report.js";

const DIMENSIONS = { ruleset: "ruleset version", failure_type: "failure type", root_cause: "root cause",
                     tier: "tier", channel: "channel" };

function perCurrency(amounts) {
  const entries = Object.entries(amounts || {});
  return entries.length ? entries.map(([currency, amount]) => `${amount} ${currency}`).join(", ") : "none";
}

function label(group, by) {
  if (by === "ruleset") return `${group.ruleset_name} ${group.ruleset_version}`;
  const value = group[by];
  return value === null || value === undefined ? "(not given)" : words(value);
}

export class LedgerView {
  constructor() {
    this.form = byId("ledger-form");
    this.problem = byId("ledger-problem");
    this.output = byId("ledger-result");
    this.loaded = false;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.load();
    });
    byId("l-csv-breakdown").addEventListener("click", () => this.download("breakdown"));
    byId("l-csv-pareto").addEventListener("click", () => this.download("pareto"));
  }

  /** The first time the tab is shown, load; later, the form's Show button reloads. */
  shown() {
    if (!this.loaded) this.load();
  }

  params(extra = {}) {
    const days = Number(byId("l-period").value);
    const query = new URLSearchParams(extra);
    if (days > 0) query.set("since", new Date(Date.now() - days * 86_400_000).toISOString());
    return query.toString();
  }

  async load() {
    const by = byId("l-by").value;
    const status = byId("ledger-status");
    status.textContent = "Reading the ledger…";
    try {
      const [summary, breakdown, pareto] = await Promise.all([
        api(`v1/reports/summary?${this.params()}`),
        api(`v1/reports/breakdown?${this.params({ by })}`),
        api(`v1/reports/pareto?${this.params()}`),
      ]);
      hideProblem(this.problem);
      this.loaded = true;
      this.render(summary, breakdown.rows, pareto.rows, by);
      status.textContent = `${summary.decisions} decisions on record in the period.`;
    } catch (error) {
      status.textContent = "";
      replace(this.output);
      showProblem(this.problem, error);
    }
  }

  render(summary, rows, pareto, by) {
    const labels = rows.map((row) => label(row.group, by));
    const dimension = DIMENSIONS[by];
    const currencies = [...new Set(rows.flatMap((row) => Object.keys(row.cost)))].sort();
    const moneyCharts = currencies.map((currency) => groupedBars(`Owed and goodwill by ${dimension} (${currency})`,
      labels, ["owed", "goodwill"].map((kind) => ({
        name: kind,
        values: rows.map((row) => Number(row[kind][currency] || 0)),
        texts: rows.map((row) => row[kind][currency] ? `${row[kind][currency]} ${currency}` : "none"),
      }))));
    replace(this.output,
      h("div", { class: "stats", id: "ledger-stats" },
        stat("Decisions", String(summary.decisions), `${summary.outcomes} with an outcome`),
        stat("Accepted", rate(summary.acceptance_rate),
          `${summary.accepted} accepted, ${summary.declined} declined, ${summary.countered} countered`),
        stat("Needed approval", rate(summary.approval_rate)),
        stat("CSAT", summary.csat_mean === null ? "n/a" : String(summary.csat_mean),
          `${summary.csat_responses} responses`),
        stat("Repeat failures", String(summary.repeat_failures), `${rate(summary.repeat_rate)} within 90 days`),
        stat("Cost", perCurrency(summary.cost)),
        stat("Owed", perCurrency(summary.owed), `goodwill ${perCurrency(summary.goodwill)}`)),
      rows.length ? [
        groupedBars(`Decisions and acceptances by ${dimension}`, labels, [
          { name: "decisions", values: rows.map((row) => row.decisions), texts: rows.map((row) => String(row.decisions)) },
          { name: "accepted", values: rows.map((row) => row.accepted), texts: rows.map((row) => String(row.accepted)) },
        ]),
        ...moneyCharts,
        table("ledger-breakdown", [dimension, "decisions", "acceptance", "approval", "CSAT", "repeats", "cost"],
          rows.map((row, index) => h("tr", {},
            h("th", { scope: "row" }, labels[index]), h("td", {}, String(row.decisions)),
            h("td", {}, rate(row.acceptance_rate)), h("td", {}, rate(row.approval_rate)),
            h("td", {}, row.csat_mean === null ? "n/a" : String(row.csat_mean)),
            h("td", {}, String(row.repeat_failures)), h("td", {}, perCurrency(row.cost))))),
      ] : h("p", { class: "hint" }, "No decisions are on record in this period."),
      pareto.length ? [
        h("h3", {}, "Root causes: the few that make most failures"),
        groupedBars("Root-cause Pareto: decisions per root cause and failure type", pareto.map((row) =>
          `${words(row.root_cause)} · ${words(row.failure_type)}`), [{
          name: "decisions",
          values: pareto.map((row) => row.decisions),
          texts: pareto.map((row) => `${row.decisions} (${rate(row.cumulative_share)} so far)`),
        }]),
      ] : null);
  }

  async download(kind) {
    const by = byId("l-by").value;
    const path = kind === "pareto" ? `v1/reports/pareto?${this.params({ format: "csv" })}`
      : `v1/reports/breakdown?${this.params({ by, format: "csv" })}`;
    try {
      saveFile(await api(path, { as: "text" }), "text/csv", kind === "pareto" ? "pareto.csv" : `breakdown-${by}.csv`);
    } catch (error) {
      showProblem(this.problem, error);
    }
  }
}
