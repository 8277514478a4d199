"""The ledger from the command line: migrate, simulate --from-ledger, erase, prune (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.ledger.conftest import Database, ledger_server
from tests.ledger.test_idempotency import gold_15
from tests.ledger.test_reports import EVENTS
from tests.support import ROOT, RULES


def recovery(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "service.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_recorded_events_replay_against_a_candidate_and_a_customer_can_be_erased(database: Database,
                                                                               tmp_path: Path) -> None:
    with ledger_server("cli", database) as server, server.client() as http:
        decisions = [http.post("/v1/decisions", json=event).json() for event in EVENTS]
        deadline = time.monotonic() + 20
        while http.get("/v1/reports/summary").json()["decisions"] < len(EVENTS) and time.monotonic() < deadline:
            time.sleep(0.2)
    gold_eur = [decision for event, decision in zip(EVENTS, decisions)
                if event["customer"]["tier"] == "gold" and decision["mix"]["credit"]]
    assert gold_eur, "the sample needs gold customers with a credit for the candidate to change"

    out = tmp_path / "report"
    done = recovery("simulate", "--from-ledger", database.url, "--baseline", str(RULES),
                    "--candidate", str(gold_15(tmp_path)), "--out", str(out), "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert f"replaying {len(EVENTS)} events recorded in the ledger" in done.stderr
    summary = json.loads((out / "simulation.json").read_text())
    assert summary["events"] == len(EVENTS) and summary["invalid"] == 0
    assert summary["changed"] == len(gold_eur)  # a larger gold credit changes exactly the gold decisions

    erased = recovery("ledger", "erase", "c-alice", "--url", database.url)
    assert erased.returncode == 0, erased.stderr
    assert json.loads(erased.stdout)["deleted"]["decisions"] == 2
    again = recovery("simulate", "--from-ledger", database.url, "--baseline", str(RULES), "--candidate",
                     str(RULES), "--out", str(tmp_path / "again"), "--workers", "1")
    assert f"replaying {len(EVENTS) - 2} events" in again.stderr
    pruned = recovery("ledger", "prune", "--url", database.url)
    assert pruned.returncode == 0 and json.loads(pruned.stdout)["deleted"]["decisions"] == 0


def test_migrate_creates_the_schema_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    first = recovery("ledger", "migrate", "--url", url)
    assert first.returncode == 0 and first.stdout.strip() == "ledger schema: empty -> 0002"
    assert recovery("ledger", "migrate", "--url", url).stdout.strip() == "ledger schema: 0002 -> 0002"
    bad = recovery("ledger", "migrate", "--url", "mysql://x@y/z")
    assert bad.returncode == 2 and "PostgreSQL or SQLite" in bad.stderr
    off = recovery("simulate", "--from-ledger", "off", "--baseline", str(RULES), "--candidate", str(RULES))
    assert off.returncode == 2 and "the ledger is off" in off.stderr
