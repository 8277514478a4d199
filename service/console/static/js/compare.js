// "Compare": a candidate (a pasted or uploaded rules file, or a directory the
// service knows) and events (the shipped sample or an uploaded JSONL file), sent
// to POST /v1/simulations; the answer is shown by report.js.

import { api } from "./api.js";
import { byId, h, replace, saveFile } from "./dom.js";
import { clearFieldErrors, hideProblem, showFieldError, showProblem } from "./problems.js";
import { renderReport } from "./report.js";

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.ya?ml$/;

class FormProblem extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

const checked = (name) => document.querySelector(`input[name="${name}"]:checked`).value;

/** A JSONL file's events as JSON text, each line checked; the lines are sent as written. */
async function eventsText(input) {
  const file = input.files[0];
  if (!file) throw new FormProblem(input, "Choose a JSONL file of events, or replay the sample.");
  const lines = [];
  (await file.text()).split(/\r?\n/).forEach((line, index) => {
    if (!line.trim()) return;
    try {
      JSON.parse(line);
    } catch (error) {
      throw new FormProblem(input, `Line ${index + 1} of ${file.name} is not JSON: ${error.message}`);
    }
    lines.push(line);
  });
  if (!lines.length) throw new FormProblem(input, `${file.name} holds no events.`);
  return `[${lines.join(",")}]`;
}

export class CompareForm {
  constructor() {
    this.form = byId("compare-form");
    this.problem = byId("compare-problem");
    this.output = byId("report");
    this.lastBody = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    for (const radio of this.form.querySelectorAll('input[name="source"], input[name="events"]')) {
      radio.addEventListener("change", () => this.sync());
    }
    byId("c-file-upload").addEventListener("change", async (event) => {
      const file = event.target.files[0];
      if (!file) return;
      byId("c-file-text").value = await file.text();
      byId("c-file-name").value = file.name;
    });
    this.sync();
  }

  useRuleset(ruleset) {
    replace(byId("c-live-files"), (ruleset.files || []).map((name) => h("option", { value: name })));
  }

  async loadDirectories() {
    let directories = [];
    try {
      directories = (await api("v1/simulations/directories")).directories;
    } catch (error) {
      byId("c-dir-hint").textContent = `The directory list could not be loaded: ${error.message}`;
    }
    replace(byId("c-directory"), directories.map((name) => h("option", { value: name }, name)));
    const none = directories.length === 0;
    byId("c-source-dir").disabled = none;
    if (none && !byId("c-dir-hint").textContent) {
      byId("c-dir-hint").textContent = "No rules directories are configured on this service " +
        "(RECOVERY_SIMULATION_DIRS), so paste or upload a file.";
    } else if (!none) {
      byId("c-dir-hint").textContent = `Directories this service knows: ${directories.join(", ")}.`;
    }
  }

  sync() {
    const directory = checked("source") === "directory";
    byId("c-file-fields").hidden = directory;
    byId("c-dir-fields").hidden = !directory;
    byId("c-events-field").hidden = checked("events") !== "upload";
  }

  async body() {
    let candidate;
    if (checked("source") === "directory") {
      candidate = { directory: byId("c-directory").value };
    } else {
      const name = byId("c-file-name").value.trim();
      const text = byId("c-file-text").value;
      if (!FILE_NAME.test(name)) {
        throw new FormProblem(byId("c-file-name"), "Name the file it replaces, e.g. 50-customers.yaml " +
          "(letters, digits, . _ - ending in .yaml).");
      }
      if (!text.trim()) throw new FormProblem(byId("c-file-text"), "Paste the rules file, or upload it.");
      candidate = { files: { [name]: text } };
    }
    const head = `{"candidate":${JSON.stringify(candidate)}`;
    if (checked("events") === "upload") return `${head},"events":${await eventsText(byId("c-events-file"))}}`;
    return `${head}}`;
  }

  fieldFor(loc) {
    if (loc[0] === "events") return byId("c-events-file").closest("[hidden]") ? null : byId("c-events-file");
    if (loc[0] === "candidate") {
      return checked("source") === "directory" ? byId("c-directory") : byId("c-file-name");
    }
    return null;
  }

  async submit() {
    const button = byId("compare-button");
    const status = byId("compare-status");
    clearFieldErrors(this.form);
    hideProblem(this.problem);
    button.disabled = true;
    try {
      const body = await this.body();
      status.textContent = "Replaying the events through both rulesets…";
      const summary = await api("v1/simulations", { method: "POST", body });
      this.lastBody = body;
      this.output.hidden = false;
      renderReport(this.output, summary, { onDownload: () => this.download() });
      status.textContent = `Compared ${summary.compared} events.`;
    } catch (error) {
      status.textContent = "";
      if (error instanceof FormProblem) {
        showFieldError(error.field, [error.message]);
        error.field.focus();
      } else {
        const code = error.problem && error.problem.code;
        const findingsField = checked("source") === "directory" ? byId("c-directory") : byId("c-file-text");
        showProblem(this.problem, error, { fieldFor: (loc) => this.fieldFor(loc), findingsField });
        if (code === "unknown-directory") showFieldError(byId("c-directory"), [error.problem.detail]);
        if (code === "no-events") showFieldError(byId("c-events-upload"), [error.problem.detail]);
        this.problem.scrollIntoView({ block: "nearest" });
      }
    } finally {
      button.disabled = false;
    }
  }

  /** The service's own self-contained HTML report for the same comparison, as a file. */
  async download() {
    const button = byId("download-report");
    button.disabled = true;
    try {
      const html = await api("v1/simulations?format=html", { method: "POST", body: this.lastBody, as: "text" });
      saveFile(html, "text/html", "simulation.html");
    } catch (error) {
      showProblem(this.problem, error);
    } finally {
      button.disabled = false;
    }
  }
}
