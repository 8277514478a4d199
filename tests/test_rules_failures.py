"""Every way a rules file can fail to load is a finding (issue 14, point 4).

An unquoted impossible date or an integer of thousands of digits used to raise
inside the loader: the old rules kept serving, but /readyz, GET /v1/ruleset and the
reload metric showed nothing, and a forced reload or a simulation was a 500.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_KEY
from tests.support import running_server
from tests.test_reload import copy_rules

RULE = "rules:\n  - id: broken\n    description: {value}\n    then: {{explanation: true}}\n"
BROKEN = {
    "impossible-date.yaml": RULE.format(value="2026-11-31"),
    "huge-integer.yaml": RULE.format(value="1" * 4400),
    "huge-sexagesimal.yaml": RULE.format(value="1" + ":59" * 3000),
}
ADMIN = {"X-API-Key": ADMIN_KEY}


def failed_reloads(http: httpx.Client) -> float:
    found = re.search(r'^recovery_ruleset_reloads_total\{result="failed"\} (\S+)$', http.get("/metrics").text, re.M)
    return float(found.group(1)) if found else 0.0


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_file_the_loader_cannot_build_is_reported_everywhere(tmp_path: Path, name: str) -> None:
    rules = copy_rules(tmp_path / "rules")
    env = {"RECOVERY_ADMIN_KEYS": f"ops:{ADMIN_KEY}", "RECOVERY_RELOAD_INTERVAL_SECONDS": "0.2",
           "RECOVERY_RELOAD_QUIET_SECONDS": "0.5"}
    with running_server(f"rules-failure-{name}", rules, env=env, ready_path="/readyz") as server, \
            server.client(headers=ADMIN) as http:
        good = http.get("/v1/ruleset").json()["digest"]
        before = failed_reloads(http)
        (rules / name).write_text(BROKEN[name])
        deadline = time.monotonic() + 20
        while http.get("/v1/ruleset").json()["last_reload_failure"] is None:
            assert time.monotonic() < deadline, "the failed reload was never reported"
            time.sleep(0.2)
        view = http.get("/v1/ruleset").json()
        assert view["digest"] == good
        finding = view["last_reload_failure"]["findings"][0]
        assert finding["file"] == name and finding["line"] == 3 and finding["message"]
        ready = http.get("/readyz").json()
        assert ready["status"] == "ready" and ready["last_reload_failure"]["findings"][0]["file"] == name
        assert failed_reloads(http) > before

        forced = http.post("/v1/ruleset:reload")
        assert forced.status_code == 422, forced.text
        assert forced.json()["findings"][0]["file"] == name

        simulated = http.post("/v1/simulations", json={"candidate": {"files": {name: BROKEN[name]}},
                                                         "events": [{"failure": {"type": "late_delivery",
                                                                                 "severity": 2,
                                                                                 "root_cause": "provider"}}]})
        assert simulated.status_code == 422, simulated.text
        assert simulated.json()["findings"][0]["file"] == name
        assert "unhandled error" not in server.logs()
