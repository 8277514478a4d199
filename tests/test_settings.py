"""Settings as operators expect: a misspelt RECOVERY_* variable stops the service with the setting it
resembles, and the README's table lists every setting there is."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from service.settings import variables
from tests.support import ROOT, RULES, running_server


@pytest.mark.parametrize(("variable", "said"), [
    ("RECOVERY_API_KEY", "RECOVERY_API_KEY: not a setting; did you mean RECOVERY_API_KEYS?"),
    ("RECOVERY_CORS_ORIGIN", "did you mean RECOVERY_CORS_ORIGINS?"),
    ("RECOVERY_WEBHOOK_ZENDSK_SECRET", "did you mean RECOVERY_WEBHOOK_ZENDESK_SECRET?"),
    ("RECOVERY_FROBNICATE", "RECOVERY_FROBNICATE: not a setting; see the README's Configuration table"),
])
def test_an_unknown_variable_stops_the_service_with_a_suggestion(variable: str, said: str) -> None:
    env = {**os.environ, "RECOVERY_RULES_DIR": str(RULES), "RECOVERY_LEDGER_URL": "off", variable: "crm:x" * 4}
    result = subprocess.run([sys.executable, "-m", "service.cli", "serve"], env=env, capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 2
    assert said in result.stderr


def test_known_variables_start_the_service() -> None:
    with running_server("settings-known", env={"RECOVERY_CORS_ORIGINS": "https://crm.example.com",
                                               "RECOVERY_RATE_LIMIT_PER_MINUTE": "600"}) as live:
        with live.client() as http:
            assert http.get("/livez").status_code == 200


def test_the_readme_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration"):readme.index("## For platform engineers")]
    webhooks = (ROOT / "docs" / "webhooks.md").read_text()
    listed = set(re.findall(r"RECOVERY_[A-Z0-9_]+[A-Z0-9]", table))
    missing = [name for name in variables()
               if name not in listed and not (name.startswith("RECOVERY_WEBHOOK_") and name in webhooks)]
    assert missing == []
    assert "`RECOVERY_WEBHOOK_*`" in table
