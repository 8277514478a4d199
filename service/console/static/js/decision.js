// A decision as people read it: what to offer (with amounts and currency), the
// apology, the three justice dimensions each marked addressed or not with its
// reason, whether approval is needed and why, the rules that fired, and the
// explanation (which condition stopped each other rule, which rule set each part,
// which limit clipped it).

import { h, replace } from "./dom.js";
import { apologyLine, capitalised, levelName, money, plural, shortDigest, words } from "./format.js";

const DIMENSIONS = {
  distributive: "Distributive: a fair outcome",
  procedural: "Procedural: a fair, quick process",
  interactional: "Interactional: respectful treatment",
};

function mixItems(mix) {
  const refund = mix.refund ? money(mix.refund) : "none";
  const credit = mix.credit ? `${money(mix.credit)}, expires in ${plural(mix.credit.expires_in_days, "day")}` : "none";
  const discount = mix.discount
    ? `${mix.discount.percent}% off the next purchase, valid ${plural(mix.discount.valid_days, "day")}` : "none";
  const replacement = mix.replacement
    ? words(mix.replacement.kind) + (mix.replacement.value ? `, worth ${money(mix.replacement.value)}` : "") : "none";
  return [["Refund", refund, mix.refund], ["Credit", credit, mix.credit], ["Discount", discount, mix.discount],
          ["Replacement", replacement, mix.replacement]];
}

function procedural(dimension) {
  const parts = [];
  if (dimension.respond_within_minutes != null) {
    parts.push(`respond within ${plural(dimension.respond_within_minutes, "minute")}`);
  }
  if (dimension.follow_up_within_hours != null) {
    parts.push(`follow up within ${plural(dimension.follow_up_within_hours, "hour")}`);
  }
  return parts;
}

function justiceItem(name, dimension) {
  const addressed = Boolean(dimension.addressed);
  const how = [];
  if (dimension.by && dimension.by.length) how.push(`by ${dimension.by.map(words).join(", ")}`);
  if (name === "procedural") how.push(...procedural(dimension));
  return h("li", { class: `dimension ${addressed ? "addressed" : "not-addressed"}`, "data-dimension": name },
    h("span", { class: "mark", "aria-hidden": "true" }, addressed ? "✓" : "✗"),
    h("div", {},
      h("p", { class: "dimension-name" }, DIMENSIONS[name] || name),
      h("p", { class: "dimension-state" }, addressed ? "Addressed" : "Not addressed"),
      how.length ? h("p", { class: "dimension-how" }, capitalised(how.join("; "))) : null,
      dimension.reason ? h("p", { class: "dimension-reason" }, `Reason: ${dimension.reason}`) : null));
}

function offerNow(now) {
  if (!now) return [];
  const parts = [];
  if (now.refund) parts.push(`refund ${money(now.refund)}`);
  if (now.credit) parts.push(`credit ${money(now.credit)}`);
  if (now.discount) parts.push(`${now.discount.percent}% discount`);
  if (now.replacement) parts.push(words(now.replacement.kind));
  return parts;
}

function approval(decision) {
  const { required, level, approver, reasons, agent_may_offer_now: now } = decision.approval;
  const parts = offerNow(now);
  return h("div", { class: `approval ${required ? "needed" : "not-needed"}`, id: "approval" },
    h("p", { class: "approval-title" },
      required ? `Needs approval by ${levelName(approver || level)}` : "No approval needed: the agent can offer this"),
    reasons && reasons.length ? h("ul", { class: "approval-reasons" }, reasons.map((reason) => h("li", {}, reason)))
      : null,
    required ? h("p", { class: "offer-now", id: "offer-now" },
      parts.length ? `The agent may offer now: ${parts.join(", ")}.` : "Nothing may be offered before approval.") : null);
}

function owedSection(decision) {
  const owed = decision.owed || [];
  const missing = decision.not_assessed || [];
  if (!owed.length && !missing.length) return null;
  return [h("h3", {}, "What is owed (before any goodwill)"),
    owed.length ? h("ul", { class: "owed", id: "owed" }, owed.map((line) =>
      h("li", { "data-kind": line.kind }, h("strong", {}, money(line.amount)),
        ` ${line.kind}, paid as ${line.pay_as}: ${line.basis} `, h("code", {}, line.rule)))) : null,
    missing.length ? h("ul", { class: "not-assessed", id: "not-assessed" }, missing.map((item) =>
      h("li", {}, h("strong", {}, "Not assessed: "), item.what))) : null];
}

function alternativesSection(decision) {
  const options = decision.alternatives || [];
  if (!options.length) return null;
  return [h("h3", {}, "Alternatives (the customer chooses one)"),
    h("table", { class: "data", id: "alternatives-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Option"), h("th", { scope: "col" }, "Gives"),
                                 h("th", { scope: "col" }, "Estimated cost"), h("th", { scope: "col" }, "Approval"))),
      h("tbody", {}, options.map((option) => h("tr", { "data-alternative": option.id,
                                                       class: option.recommended ? "recommended" : "" },
        h("th", { scope: "row" }, option.description, option.recommended
          ? h("span", { class: "badge" }, option.answers_request ? " recommended: the customer asked for it"
            : " recommended") : null),
        h("td", {}, mixItems(option.mix).filter(([, , present]) => present).map(([name, text]) => `${name}: ${text}`)
          .join("; ") || "—"),
        h("td", {}, option.estimated_cost ? money(option.estimated_cost) : "—"),
        h("td", {}, option.approval.required ? levelName(option.approval.approver || option.approval.level)
          : "none")))))];
}

function messagesSection(decision) {
  const messages = decision.messages;
  if (!messages) return null;
  return [h("h3", {}, `What to say (${messages.locale}${messages.fallback ? `, no texts for ${messages.requested_locale}`
    : ""})`),
    h("div", { class: "messages", id: "messages", lang: messages.locale },
      messages.apology ? h("p", { class: "message-apology" }, messages.apology) : null,
      messages.explanation ? h("p", { class: "message-explanation" }, messages.explanation) : null,
      h("details", {}, h("summary", {}, "Agent note"), h("pre", { class: "agent-note", id: "agent-note" },
        messages.agent_note)))];
}

function steps(entry) {
  const out = [];
  if (entry.combined != null) out.push(`combined ${entry.combined}`);
  for (const step of entry.multiplied_by || []) out.push(`× ${step.factor} (${step.rule})`);
  for (const step of entry.added_by || []) out.push(`+ ${step.amount} (${step.rule})`);
  if (entry.goodwill != null) out.push(`goodwill ${entry.goodwill}`);
  if (entry.owed != null && entry.owed !== "0.00" && entry.owed !== "0") out.push(`+ owed ${entry.owed}`);
  return out.join(" → ") || "—";
}

function limitLine(limit) {
  const unit = limit.currency ? ` ${limit.currency}` : "";
  return h("li", {}, h("strong", {}, capitalised(words(limit.component))),
    ` cut from ${limit.before}${unit} to ${limit.after}${unit} by `, h("code", {}, limit.limit));
}

function where(rule) {
  return rule && rule.file ? `${rule.file}:${rule.line}` : "";
}

function explanation(decision) {
  const explain = decision.explain;
  if (!explain) return null;
  const notFired = (explain.rules || []).filter((rule) => !rule.matched);
  const components = Object.entries(explain.components || {}).sort(([a], [b]) => a.localeCompare(b));
  const ruleRefs = (ids) => ids.length ? ids.map((id, index) => [index ? ", " : "", h("code", {}, id)]) : "—";
  return h("section", { class: "explain", "aria-labelledby": "explain-heading" },
    h("h3", { id: "explain-heading" }, "Why: the explanation"),
    h("h4", {}, "Which rule set each part"),
    h("table", { class: "data", id: "components-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Part"), h("th", { scope: "col" }, "Set by"),
                                 h("th", { scope: "col" }, "Steps"), h("th", { scope: "col" }, "Clipped by"))),
      h("tbody", {}, components.map(([name, entry]) => h("tr", { "data-component": name },
        h("th", { scope: "row" }, words(name)),
        h("td", {}, ruleRefs(entry.set_by || [])),
        h("td", { class: "steps" }, steps(entry)),
        h("td", {}, ruleRefs(entry.clipped_by || [])))))),
    explain.order_of_operations ? h("p", { class: "hint" },
      `Order of operations: ${explain.order_of_operations.join(" → ")}.`) : null,
    h("h4", {}, `Rules that did not fire (${notFired.length})`),
    h("table", { class: "data", id: "not-fired-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Rule"), h("th", { scope: "col" }, "Condition that failed"),
                                 h("th", { scope: "col" }, "Value seen"), h("th", { scope: "col" }, "Where"))),
      h("tbody", {}, notFired.map((rule) => {
        const failed = rule.failed || {};
        const saw = failed.saw === undefined || failed.saw === null ? "(not given)" : JSON.stringify(failed.saw);
        return h("tr", { "data-rule": rule.id },
          h("th", { scope: "row" }, h("code", {}, rule.id)),
          h("td", {}, failed.condition ? h("code", {}, failed.condition) : "—"),
          h("td", {}, saw),
          h("td", { class: "where" }, failed.line ? `${rule.file}:${failed.line}` : where(rule)));
      }))),
    h("details", { class: "event-seen" },
      h("summary", {}, "The event as the rules saw it"),
      h("dl", { class: "meta" }, Object.entries(explain.event || {}).map(([field, seen]) =>
        h("div", {}, h("dt", {}, h("code", {}, field)), h("dd", {}, JSON.stringify(seen)))))));
}

export function renderDecision(container, decision) {
  const mix = decision.mix;
  const explainRules = Object.fromEntries(((decision.explain || {}).rules || []).map((rule) => [rule.id, rule]));
  replace(container,
    h("h2", { id: "decision-heading", tabindex: "-1" }, "Recommended recovery"),
    h("p", { class: "decision-meta" },
      decision.event_id ? `Event ${decision.event_id} · ` : "",
      `${decision.decision_id} · ruleset ${decision.ruleset.name} ${decision.ruleset.version} `,
      h("code", { title: decision.ruleset.digest }, shortDigest(decision.ruleset.digest))),
    h("div", { class: "headline" },
      h("div", { class: "cost" }, h("p", { class: "cost-label" }, "Estimated cost"),
        h("p", { class: "cost-value", id: "estimated-cost" },
          decision.estimated_cost ? money(decision.estimated_cost) : "no currency given")),
      approval(decision)),
    owedSection(decision),
    h("h3", {}, "What to offer"),
    h("dl", { class: "mix", id: "mix" }, mixItems(mix).map(([name, text, present]) =>
      h("div", { class: present ? "mix-item given" : "mix-item", "data-component": name.toLowerCase() },
        h("dt", {}, name), h("dd", {}, text)))),
    h("p", { class: "apology", id: "apology" }, h("strong", {}, "Apology: "), apologyLine(mix.apology)),
    alternativesSection(decision),
    messagesSection(decision),
    h("h3", {}, "Justice"),
    h("ul", { class: "justice", id: "justice" },
      Object.keys(DIMENSIONS).map((name) => justiceItem(name, decision.justice[name] || {}))),
    h("p", { class: "process-recovery" },
      decision.process_recovery && decision.process_recovery.root_cause_review
        ? "Process recovery: review the root cause so it does not happen again."
        : "Process recovery: no root-cause review needed."),
    decision.limits_applied && decision.limits_applied.length
      ? [h("h3", {}, "Limits applied"), h("ul", { class: "limits-applied", id: "limits-applied" },
          decision.limits_applied.map(limitLine))]
      : null,
    h("h3", {}, `Rules that fired (${decision.rules_fired.length})`),
    h("ol", { class: "rules-fired", id: "rules-fired" }, decision.rules_fired.map((rule) =>
      h("li", { "data-rule": rule.id }, h("code", {}, rule.id),
        explainRules[rule.id] ? h("span", { class: "where" }, ` ${where(explainRules[rule.id])}`) : null,
        h("p", {}, rule.description)))),
    explanation(decision));
}
