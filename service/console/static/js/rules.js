// "Rules": the live ruleset (rules, catalogues, the facts events may carry, limits,
// currencies and alternatives) with a filter box, its digest and load time, and the
// last reload failure with its findings.

import { byId, h, replace } from "./dom.js";
import { capitalised, levelName, plural, when, words } from "./format.js";
import { findingsList } from "./problems.js";

/** A rule's `when` or `then` as its file writes it, in one line: `{gte: 2}`, `[provider, unknown]`. */
function brief(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return `[${value.map(brief).join(", ")}]`;
  if (typeof value === "object") return `{${Object.entries(value).map(([key, item]) => `${key}: ${brief(item)}`).join(", ")}}`;
  return String(value);
}

/** One line per key of a `when` or `then` (amounts included), or `empty` when there is none. */
function clauses(mapping, empty) {
  const entries = Object.entries(mapping || {});
  if (!entries.length) return h("span", { class: "muted" }, empty);
  return entries.map(([key, value]) => h("div", {}, h("code", {}, `${key}: ${brief(value)}`)));
}

function amounts(byCurrency) {
  return Object.entries(byCurrency).map(([currency, amount]) => `${amount} ${currency}`).join(", ");
}

function setting(key, value) {
  if (key === "max_percent_of_order") return `at most ${value}% of the order`;
  if (key === "max_percent") return `at most ${value}%`;
  if (key === "max") return `at most ${typeof value === "object" ? amounts(value) : value}`;
  return `${words(key)}: ${typeof value === "object" ? JSON.stringify(value) : value}`;
}

/** Each limit as a sentence: [topic, text]. */
function limitRows(limits) {
  const rows = [];
  for (const [component, settings] of Object.entries(limits || {})) {
    if (component === "approval") {
      for (const step of settings.by_amount || []) {
        rows.push(["approval", `${capitalised(levelName(step.level))} approves above ${amounts(step.above)}`]);
      }
      for (const step of settings.by_prior_recoveries || []) {
        rows.push(["approval", `${capitalised(levelName(step.level))} approves when the customer had at least ` +
                               `${plural(step.at_least, "recovery", "recoveries")} in 90 days`]);
      }
      for (const [key, value] of Object.entries(settings)) {
        if (key !== "by_amount" && key !== "by_prior_recoveries") rows.push(["approval", setting(key, value)]);
      }
    } else if (settings && typeof settings === "object") {
      rows.push([component, Object.entries(settings).map(([key, value]) => setting(key, value)).join("; ")]);
    } else {
      rows.push([component, String(settings)]);
    }
  }
  return rows;
}

function combineRows(combine) {
  return Object.entries(combine || {}).map(([part, how]) =>
    ["combining", `${capitalised(words(part))}: when several rules give one, the ${how} wins`]);
}

function costingRows(costing) {
  return Object.entries(costing || {}).map(([key, value]) => key === "discount_expected_use_percent"
    ? ["costing", `A discount is costed at ${value}% of its value on the order (the share expected to be used)`]
    : ["costing", setting(key, value)]);
}

function searchable(row, ...texts) {
  row.dataset.search = texts.join(" ").toLowerCase();
  return row;
}

function failurePanel(failure) {
  if (!failure) return null;
  return h("section", { class: "problem warning", id: "reload-failure-panel", "aria-labelledby": "reload-failure-title" },
    h("h3", { id: "reload-failure-title" }, "The last reload failed"),
    h("p", {}, `At ${when(failure.at)} a change to the rules did not load; the ruleset shown here keeps serving. ` +
               `${plural((failure.findings || []).length, "finding")}:`),
    findingsList(failure.findings || []));
}

export class RulesView {
  constructor() {
    this.filter = byId("rules-filter");
    this.filter.addEventListener("input", () => this.applyFilter());
    this.rows = [];
  }

  render(ruleset) {
    replace(byId("ruleset-meta"),
      [["Name", ruleset.name], ["Version", ruleset.version], ["Digest", h("code", {}, ruleset.digest)],
       ["Loaded", when(ruleset.loaded_at)], ["Files", (ruleset.files || []).join(", ")],
       ["Description", ruleset.description || "—"]].map(([term, detail]) =>
        h("div", {}, h("dt", {}, term), h("dd", {}, detail))));
    replace(byId("reload-failure"), failurePanel(ruleset.last_reload_failure));
    const warnings = ruleset.warnings || [];
    replace(byId("ruleset-warnings"), warnings.length
      ? h("section", { class: "notice" }, h("h3", {}, `Warnings (${warnings.length})`), findingsList(warnings)) : null);

    const rules = (ruleset.rules || []).map((rule) => searchable(
      h("tr", { "data-rule": rule.id },
        h("th", { scope: "row" }, h("code", {}, rule.id)), h("td", {}, rule.description),
        h("td", { class: "logic when" }, clauses(rule.when, "every event")),
        h("td", { class: "logic then" }, clauses(rule.then, "nothing")),
        h("td", { class: "where" }, `${rule.file}:${rule.line}`)),
      rule.id, rule.description, rule.file, brief(rule.when), brief(rule.then)));
    replace(byId("rules-table").tBodies[0], rules);

    const catalogues = ruleset.catalogues || {};
    const types = Object.entries(catalogues.failure_types || {}).map(([type, entry]) => searchable(
      h("tr", { "data-type": type }, h("th", { scope: "row" }, h("code", {}, type)), h("td", {}, entry.category),
        h("td", {}, entry.kind || "—"), h("td", {}, entry.description || "")),
      type, entry.category, entry.kind || "", entry.description || ""));
    replace(byId("types-table").tBodies[0], types);

    const chips = [];
    const lists = [["Tiers, lowest first", catalogues.tiers], ["Currencies", catalogues.currencies],
                   ["Channels", catalogues.channels]].map(([title, values]) => h("div", { class: "catalogue" },
      h("h3", {}, title),
      h("ul", { class: "chips" }, (values || []).map((item) => {
        const chip = searchable(h("li", {}, item), item, title);
        chips.push(chip);
        return chip;
      }))));
    replace(byId("other-catalogues"), lists);

    const facts = Object.entries(ruleset.facts || {}).map(([name, fact]) => searchable(
      h("tr", { "data-fact": name }, h("th", { scope: "row" }, h("code", {}, `facts.${name}`)), h("td", {}, fact.type),
        h("td", {}, fact.description), h("td", {}, fact.expects + (fact.default != null ? `; default ${fact.default}` : "")
          + ((fact.required_for || []).length ? `; needed for ${fact.required_for.join(", ")}` : ""))),
      name, fact.type, fact.description));
    replace(byId("facts-table").tBodies[0], facts);
    byId("facts-none").hidden = facts.length > 0;

    const currency = ruleset.currency;
    const currencyRows = currency ? [["currencies", `Amounts are written in ${currency.base}; ` +
      Object.entries(currency.rates || {}).map(([code, rate]) => `1 ${currency.base} = ${rate} ${code}`).join(", ")]] : [];
    const alternativeRows = (ruleset.alternatives || []).map((alternative, index) => ["alternatives",
      `${index + 1}. ${alternative.description} (${alternative.id})` +
      (alternative.answers.length ? `, when the customer asks for ${alternative.answers.join(" or ")}` : "")]);
    const levelRows = [["approval", `Approval levels, lowest first: ${(catalogues.approval_levels || []).join(", ")}`]];
    const limitTable = [...limitRows(ruleset.limits), ...levelRows, ...combineRows(ruleset.combine),
                        ...costingRows(ruleset.costing), ...currencyRows, ...alternativeRows]
      .map(([topic, text]) => searchable(h("tr", {}, h("th", { scope: "row" }, capitalised(words(topic))),
                                                   h("td", {}, text)), topic, text));
    replace(byId("limits"), h("table", { class: "data", id: "limits-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Applies to"), h("th", { scope: "col" }, "Setting"))),
      h("tbody", {}, limitTable)));

    this.groups = [["rule", "rules", rules], ["failure type", "failure types", types], ["fact", "facts", facts],
                   ["catalogue entry", "catalogue entries", chips], ["limit or setting", "limits and settings", limitTable]];
    this.applyFilter();
  }

  applyFilter() {
    if (!this.groups) return;
    const terms = this.filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    const counts = this.groups.map(([one, many, rows]) => {
      let shown = 0;
      for (const row of rows) {
        row.hidden = !terms.every((term) => row.dataset.search.includes(term));
        if (!row.hidden) shown += 1;
      }
      return terms.length ? `${shown} of ${plural(rows.length, one, many)}` : plural(rows.length, one, many);
    });
    byId("rules-count").textContent = `Showing ${counts.join(", ")}.`;
  }
}
