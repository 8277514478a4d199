"""`recovery decide EVENT.json` prints the decision the HTTP route gives."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support import ROOT
from tests.test_decisions_http import CONTRACT_EXAMPLE


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "service.cli", *args], input=stdin, capture_output=True,
                          cwd=ROOT, timeout=60)


def test_decide_prints_the_same_bytes_as_http(tmp_path: Path, client: httpx.Client) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(CONTRACT_EXAMPLE))
    result = run_cli("decide", str(event))
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.rstrip(b"\n") == client.post("/v1/decisions", json=CONTRACT_EXAMPLE).content


def test_decide_reads_stdin_and_explains() -> None:
    result = run_cli("decide", "-", "--explain", stdin=json.dumps(CONTRACT_EXAMPLE).encode())
    assert result.returncode == 0
    body = json.loads(result.stdout)
    assert any(rule["id"] == "outcome-value-partial" and not rule["matched"] for rule in body["explain"]["rules"])


def test_decide_refuses_a_bad_event_with_the_field() -> None:
    bad = json.loads(json.dumps(CONTRACT_EXAMPLE))
    bad["failure"]["severity"] = 9
    result = run_cli("decide", "-", stdin=json.dumps(bad).encode())
    assert result.returncode == 1
    assert "failure.severity" in result.stderr.decode()
    assert result.stdout == b""


def test_decide_reports_rules_that_do_not_load(tmp_path: Path) -> None:
    (tmp_path / "ruleset.yaml").write_text("ruleset: {name: broken}\n")
    result = run_cli("decide", "-", "--rules", str(tmp_path), stdin=json.dumps(CONTRACT_EXAMPLE).encode())
    assert result.returncode == 2
    assert "ruleset.yaml" in result.stderr.decode()


def test_the_readmes_sample_event_decides() -> None:
    result = run_cli("decide", str(ROOT / "samples" / "event.json"), "--pretty")
    assert result.returncode == 0, result.stderr.decode()
    body = json.loads(result.stdout)
    assert body["event_id"] == "crm-48213" and body["mix"]["refund"] == {"amount": "17.00", "currency": "EUR"}
