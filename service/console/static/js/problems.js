// Showing what the service refused, as people read it: the problem's title and
// detail in a box, each per-field error next to its field (and listed in the box
// with a link to the field), and a rules file's findings with file, line and fix.

import { h, replace } from "./dom.js";

function labelText(field) {
  const label = field.labels && field.labels[0];
  if (!label) return field.name || field.id;
  return (label.firstChild ? label.firstChild.textContent : label.textContent).trim();
}

function focusLink(field, text) {
  return h("a", { href: `#${field.id}`, onclick: (event) => { event.preventDefault(); field.focus(); } }, text);
}

/** Remove every per-field error inside `root`. */
export function clearFieldErrors(root) {
  for (const node of root.querySelectorAll(".field-error")) node.remove();
  for (const field of root.querySelectorAll("[aria-invalid]")) {
    field.removeAttribute("aria-invalid");
    const ids = (field.getAttribute("aria-describedby") || "").split(" ")
      .filter((id) => id && !id.endsWith("-error"));
    if (ids.length) field.setAttribute("aria-describedby", ids.join(" "));
    else field.removeAttribute("aria-describedby");
  }
}

/** Put `messages` (strings or nodes) under `field`, and tie them to it for screen readers. */
export function showFieldError(field, messages) {
  const id = `${field.id}-error`;
  let box = document.getElementById(id);
  if (!box) {
    box = h("div", { id, class: "field-error" });
    const container = field.closest(".field") || field.parentElement;
    container.append(box);
  }
  for (const message of messages) box.append(h("p", {}, message));
  field.setAttribute("aria-invalid", "true");
  const ids = new Set((field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
  ids.add(id);
  field.setAttribute("aria-describedby", [...ids].join(" "));
}

export function hideProblem(box) {
  replace(box);
  box.hidden = true;
}

function findingLine(finding) {
  const where = [finding.file, finding.line].filter((part) => part !== null && part !== undefined).join(":");
  return h("span", { class: "finding" },
    h("span", { class: `severity ${finding.severity || "error"}` }, finding.severity || "error"), " ",
    where ? h("code", {}, where) : null, where ? " " : null,
    finding.rule_id ? h("span", {}, "[", h("code", {}, finding.rule_id), "] ") : null,
    finding.message,
    finding.hint ? h("span", { class: "hint-inline" }, ` Fix: ${finding.hint}`) : null);
}

export function findingsList(findings) {
  return h("ul", { class: "findings" }, findings.map((finding) => h("li", {}, findingLine(finding))));
}

/**
 * Show `error` (an ApiError or any Error) in `box`. `fieldFor(loc)` names the form
 * field a validation error belongs to (or null); such errors also go next to it.
 * `findingsField` receives a rules candidate's findings.
 */
export function showProblem(box, error, { fieldFor = () => null, findingsField = null } = {}) {
  const problem = error.problem || { title: "Something went wrong", detail: error.message };
  const status = error.status ? ` (HTTP ${error.status})` : "";
  const listed = [];
  for (const item of problem.errors || []) {
    const loc = Array.isArray(item.loc) ? item.loc : [];
    const field = fieldFor(loc);
    const where = loc.join(".");
    if (field) {
      showFieldError(field, [item.msg]);
      listed.push(h("li", {}, focusLink(field, labelText(field)), `: ${item.msg}`));
    } else {
      listed.push(h("li", {}, where ? h("code", {}, where) : null, where ? ": " : null, item.msg));
    }
  }
  const findings = problem.findings || [];
  if (findings.length && findingsField) {
    showFieldError(findingsField, [findingsList(findings)]);
    listed.push(h("li", {}, focusLink(findingsField, labelText(findingsField)), ": ",
      `${findings.length === 1 ? "1 finding" : `${findings.length} findings`}, shown under it`));
  }
  replace(box,
    h("p", { class: "problem-title" }, `${problem.title || "Error"}${status}`),
    problem.detail ? h("p", { class: "problem-detail" }, problem.detail) : null,
    listed.length ? h("ul", { class: "problem-errors" }, listed) : null,
    findings.length && !findingsField ? findingsList(findings) : null);
  box.hidden = false;
}
