// The console's start: load the live ruleset (asking for an API key only if the
// service answers 401), then fill the views; the ledger's loads when it is first shown.

import { api } from "./api.js";
import { forgetKey, storedKey } from "./auth.js";
import { CaseForm } from "./case.js";
import { CompareForm } from "./compare.js";
import { byId, h, replace } from "./dom.js";
import { EXAMPLES } from "./examples.js";
import { shortDigest, utc } from "./format.js";
import { LedgerView } from "./ledger.js";
import { hideProblem, showProblem } from "./problems.js";
import { RulesView } from "./rules.js";
import { setupTabs } from "./tabs.js";

const caseForm = new CaseForm();
const rulesView = new RulesView();
const compareForm = new CompareForm();
const ledgerView = new LedgerView();

function showKeyStatus() {
  byId("key-status").hidden = !storedKey();
}

async function loadRuleset() {
  const badge = byId("ruleset-badge");
  const problem = byId("global-problem");
  try {
    const ruleset = await api("v1/ruleset");
    hideProblem(problem);
    replace(badge, `Live ruleset: ${ruleset.name} ${ruleset.version} `,
      h("code", { title: ruleset.digest }, shortDigest(ruleset.digest)), ` loaded ${utc(ruleset.loaded_at)}`,
      ruleset.last_reload_failure ? h("span", { class: "badge-warning" }, " · the last reload failed") : null);
    caseForm.useCatalogues(ruleset.catalogues || {});
    caseForm.useRuleset(ruleset);
    rulesView.render(ruleset);
    compareForm.useRuleset(ruleset);
    compareForm.loadDirectories();
    caseForm.loadCandidates();
    return true;
  } catch (error) {
    replace(badge, "The live ruleset is not available.");
    showProblem(problem, error);
    problem.append(h("p", {}, h("button", { type: "button", onclick: () => loadRuleset() },
      error.status === 401 ? "Enter an API key" : "Try again")));
    return false;
  }
}

window.addEventListener("api-key-changed", showKeyStatus);
byId("forget-key").addEventListener("click", () => forgetKey());
byId("refresh-ruleset").addEventListener("click", () => loadRuleset());
setupTabs(document.querySelector('[role="tablist"]'), (view) => {
  if (view === "ledger") ledgerView.shown();
});
showKeyStatus();
loadRuleset().then((loaded) => {
  if (loaded) caseForm.fill(EXAMPLES[0].event);
});
