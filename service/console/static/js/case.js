// "Try a case": the failure-event form, filled from the live catalogues, and its
// round trip to POST /v1/decisions?explain=true; optionally the same event under a
// candidate rules directory too (POST /v1/simulations with `decisions`), side by side.

import { api } from "./api.js";
import { byId, h, replace } from "./dom.js";
import { renderDecision } from "./decision.js";
import { EXAMPLES } from "./examples.js";
import { money } from "./format.js";
import { clearFieldErrors, hideProblem, showProblem } from "./problems.js";

const OTHER = "__other__";

/** The facts box as an object; text that is not a JSON object is sent as is, so the service names the problem. */
function parsedFacts(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const FIELD_FOR = {
  event_id: "f-event-id",
  "failure.category": "f-category",
  "failure.severity": "f-severity",
  "failure.root_cause": "f-root-cause",
  "failure.recurring": "f-recurring",
  "failure.description": "f-description",
  "customer.tier": "f-tier",
  "customer.prior_recoveries_90d": "f-prior",
  "customer.lifetime_value.currency": "f-currency",
  "customer.lifetime_value": "f-ltv",
  "order.amount.currency": "f-currency",
  "order.amount": "f-amount",
  order: "f-amount",
  "context.channel": "f-channel",
  "context.minutes_since_report": "f-minutes",
  "context.customer_request": "f-request",
  "context.locale": "f-locale",
  "failure.amount_at_stake": "f-stake",
  "failure.value_received": "f-value-received",
  facts: "f-facts",
};

const value = (id) => byId(id).value.trim();

function options(select, entries, { blank = null } = {}) {
  const kept = select.value;
  replace(select,
    blank === null ? null : h("option", { value: "" }, blank),
    entries.map(([optionValue, text]) => h("option", { value: optionValue }, text)));
  if ([...select.options].some((option) => option.value === kept)) select.value = kept;
}

/** A whole number as a number; anything else as typed, so the service names the problem. */
function integer(text) {
  return /^\d+$/.test(text) ? Number(text) : text;
}

export class CaseForm {
  constructor() {
    this.form = byId("case-form");
    this.problem = byId("case-problem");
    this.output = byId("decision");
    this.types = {};
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    byId("f-type").addEventListener("change", () => this.typeChanged());
    replace(byId("example-buttons"), EXAMPLES.map((example) =>
      h("button", { type: "button", class: "example", onclick: () => this.fill(example.event) }, example.label)));
  }

  /** Offer the live ruleset's catalogues: failure types, tiers, currencies, channels. */
  useCatalogues(catalogues) {
    this.types = catalogues.failure_types || {};
    options(byId("f-type"), [
      ...Object.entries(this.types).map(([type, entry]) => [type, `${type} (${entry.category})`]),
      [OTHER, "Another type, not in the catalogue…"],
    ]);
    options(byId("f-tier"), (catalogues.tiers || []).map((tier) => [tier, tier]));
    options(byId("f-currency"), (catalogues.currencies || []).map((code) => [code, code]));
    options(byId("f-channel"), (catalogues.channels || []).map((channel) => [channel, channel.replaceAll("_", " ")]),
            { blank: "(not given)" });
    this.typeChanged();
  }

  /** The facts and locales the live ruleset declares. */
  useRuleset(ruleset) {
    const facts = Object.entries(ruleset.facts || {});
    byId("f-facts-hint").textContent = facts.length
      ? `Declared: ${facts.map(([name, fact]) => `${name} (${fact.expects})`).join("; ")}.`
      : "This ruleset declares no facts.";
    const locales = ruleset.locales || {};
    options(byId("f-locale"), (locales.available || []).map((tag) => [tag, tag]), { blank: "(the ruleset's default)" });
  }

  typeChanged() {
    const type = value("f-type");
    const other = type === OTHER;
    byId("f-custom-type-field").hidden = !other;
    byId("f-category-field").hidden = !other;
    const entry = this.types[type];
    byId("f-type-hint").textContent = entry
      ? `${entry.description}; category ${entry.category}, kind ${entry.kind}`
      : other ? "Name the type and say whether it is an outcome or a process failure." : "";
  }

  fill(event) {
    const failure = event.failure || {};
    const customer = event.customer || {};
    const context = event.context || {};
    const order = event.order ? event.order.amount : null;
    const catalogued = failure.type in this.types;
    byId("f-type").value = catalogued ? failure.type : OTHER;
    byId("f-custom-type").value = catalogued ? "" : failure.type || "";
    byId("f-category").value = catalogued ? "" : failure.category || "";
    byId("f-severity").value = String(failure.severity || 3);
    byId("f-root-cause").value = failure.root_cause || "provider";
    byId("f-recurring").checked = Boolean(failure.recurring);
    byId("f-description").value = failure.description || "";
    byId("f-tier").value = customer.tier || "standard";
    byId("f-prior").value = String(customer.prior_recoveries_90d || 0);
    byId("f-ltv").value = customer.lifetime_value ? customer.lifetime_value.amount : "";
    byId("f-amount").value = order ? order.amount : "";
    const currency = order ? order.currency : customer.lifetime_value ? customer.lifetime_value.currency : null;
    if (currency) byId("f-currency").value = currency;
    byId("f-channel").value = context.channel || "";
    byId("f-minutes").value = context.minutes_since_report ?? "";
    byId("f-request").value = context.customer_request || "";
    byId("f-event-id").value = event.event_id || "";
    byId("f-stake").value = failure.amount_at_stake ? failure.amount_at_stake.amount : "";
    byId("f-value-received").value = failure.value_received || "";
    byId("f-locale").value = context.locale || "";
    byId("f-facts").value = event.facts ? JSON.stringify(event.facts) : "";
    this.typeChanged();
  }

  /** The failure event the form describes, in the contract's shape. */
  event() {
    const other = value("f-type") === OTHER;
    const failure = { type: other ? value("f-custom-type") : value("f-type"),
                      severity: Number(value("f-severity")), root_cause: value("f-root-cause") };
    if (other && value("f-category")) failure.category = value("f-category");
    if (byId("f-recurring").checked) failure.recurring = true;
    if (value("f-description")) failure.description = value("f-description");
    const currency = value("f-currency");
    if (value("f-stake") !== "") failure.amount_at_stake = { amount: value("f-stake"), currency };
    if (value("f-value-received")) failure.value_received = value("f-value-received");
    const customer = { tier: value("f-tier") };
    if (value("f-prior") !== "") customer.prior_recoveries_90d = integer(value("f-prior"));
    if (value("f-ltv") !== "") customer.lifetime_value = { amount: value("f-ltv"), currency };
    const event = {};
    if (value("f-event-id")) event.event_id = value("f-event-id");
    event.failure = failure;
    event.customer = customer;
    if (value("f-amount") !== "") event.order = { amount: { amount: value("f-amount"), currency } };
    const context = {};
    if (value("f-channel")) context.channel = value("f-channel");
    if (value("f-minutes") !== "") context.minutes_since_report = integer(value("f-minutes"));
    if (value("f-request")) context.customer_request = value("f-request");
    if (value("f-locale")) context.locale = value("f-locale");
    event.context = context;
    if (value("f-facts").trim()) event.facts = parsedFacts(value("f-facts"));
    return event;
  }

  fieldFor(loc) {
    if (loc[0] === "facts") return byId("f-facts");
    const path = loc.join(".");
    if (path === "failure.type") return byId(value("f-type") === OTHER ? "f-custom-type" : "f-type");
    for (let end = loc.length; end > 0; end -= 1) {
      const id = FIELD_FOR[loc.slice(0, end).join(".")];
      if (id && !byId(id).closest("[hidden]")) return byId(id);
    }
    return null;
  }

  /** The rules directories a case can also be decided under (the same list the Compare view uses). */
  async loadCandidates() {
    let directories = [];
    try {
      directories = (await api("v1/simulations/directories")).directories;
    } catch (error) {
      directories = [];  // a key without the simulate scope: live only
    }
    replace(byId("f-candidate"), h("option", { value: "" }, "the live ruleset only"),
      directories.map((name) => h("option", { value: name }, `the live ruleset and ${name}`)));
  }

  /** The event decided under the chosen directory, beside the live decision: what differs, line by line. */
  async compareWith(directory, event, live) {
    const panel = byId("decision-candidate");
    if (!directory) {
      panel.hidden = true;
      return;
    }
    try {
      const summary = await simulateOne(directory, event);
      const pair = (summary.decisions || [])[0] || {};
      replace(panel, sideBySide(directory, live, pair.candidate));
    } catch (error) {
      replace(panel, h("h2", { id: "candidate-heading" }, `Under ${directory}`),
        h("p", { class: "problem" }, `Not decided under ${directory}: ${error.message}`));
    }
    panel.hidden = false;
  }

  async submit() {
    const button = byId("decide-button");
    const status = byId("case-status");
    clearFieldErrors(this.form);
    hideProblem(this.problem);
    button.disabled = true;
    status.textContent = "Deciding…";
    try {
      const event = this.event();
      const decision = await api("v1/decisions?explain=true", { method: "POST", body: event });
      renderDecision(this.output, decision);
      this.output.hidden = false;
      await this.compareWith(value("f-candidate"), event, decision);
      status.textContent = "Decided.";
      byId("decision-heading").focus();
    } catch (error) {
      this.output.hidden = true;
      status.textContent = "";
      showProblem(this.problem, error, { fieldFor: (loc) => this.fieldFor(loc) });
      this.problem.scrollIntoView({ block: "nearest" });
    } finally {
      button.disabled = false;
    }
  }
}

/** POST /v1/simulations for one event; a worker runs one simulation at a time (429 simulation-running,
 * e.g. while a comparison is still being computed), so wait and ask again a few times. */
async function simulateOne(directory, event) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await api("v1/simulations", { method: "POST",
        body: { candidate: { directory }, events: [event], decisions: true } });
    } catch (error) {
      if (error.status !== 429 || attempt >= 10) throw error;
      await new Promise((resolve) => { setTimeout(resolve, 1000); });
    }
  }
}

function offerLine(decision) {
  const mix = decision.mix || {};
  return {
    "Estimated cost": decision.estimated_cost ? money(decision.estimated_cost) : "—",
    Refund: mix.refund ? money(mix.refund) : "—",
    Credit: mix.credit ? money(mix.credit) : "—",
    Discount: mix.discount ? `${mix.discount.percent}% for ${mix.discount.valid_days} days` : "—",
    Replacement: mix.replacement ? mix.replacement.kind.replaceAll("_", " ") : "—",
    Apology: mix.apology ? `${mix.apology.level}, from the ${mix.apology.from}` : "—",
    Approval: decision.approval && decision.approval.required ? `needed: ${decision.approval.approver || decision.approval.level}`
      : "not needed",
  };
}

/** Live and candidate answers in two columns; the rows that differ are marked, then the rules that fired
 * under one ruleset only. */
function sideBySide(directory, live, candidate) {
  if (!candidate) {
    return [h("h2", { id: "candidate-heading", tabindex: "-1" }, `Under ${directory}`),
      h("p", { class: "problem" }, `${directory} refuses this event (its catalogues do not take it).`)];
  }
  const before = offerLine(live);
  const after = offerLine(candidate);
  const firedLive = live.rules_fired.map((rule) => rule.id);
  const firedCandidate = candidate.rules_fired.map((rule) => rule.id);
  const only = (ids, others) => ids.filter((id) => !others.includes(id));
  return [
    h("h2", { id: "candidate-heading", tabindex: "-1" }, `Live against ${directory}`),
    h("table", { class: "data", id: "candidate-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ""), h("th", { scope: "col" }, "Live"),
        h("th", { scope: "col" }, directory))),
      h("tbody", {}, Object.keys(before).map((name) => h("tr",
        { "data-row": name.toLowerCase(), class: before[name] === after[name] ? "same" : "differs" },
        h("th", { scope: "row" }, name), h("td", {}, before[name]), h("td", {}, after[name]))))),
    h("p", { id: "candidate-rules" },
      only(firedCandidate, firedLive).length ? `Only under ${directory}: ${only(firedCandidate, firedLive).join(", ")}. ` : "",
      only(firedLive, firedCandidate).length ? `Only live: ${only(firedLive, firedCandidate).join(", ")}.` : "",
      !only(firedCandidate, firedLive).length && !only(firedLive, firedCandidate).length ? "The same rules fired." : ""),
  ];
}
