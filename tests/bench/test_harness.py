"""`python -m bench --quick`: the whole harness in seconds, producing well-formed results.

No timing is asserted: only that every part ran, measured something and wrote it
down, and that the three engines agreed on which rules match.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from service.engine import loader
from tests.support import ROOT, RULES

README = ROOT / "bench" / "README.md"


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("bench")
    readme_before = README.read_bytes()
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--tmp", str(tmp),
                           "--out", str(tmp / "quick.json")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert README.read_bytes() == readme_before, "a quick run must leave bench/README.md alone"
    results: dict[str, Any] = json.loads((tmp / "quick.json").read_text())
    results["_stdout"] = done.stdout
    return results


def _timing(summary: dict[str, float]) -> None:
    assert summary["n"] > 0
    assert 0 < summary["p50"] <= summary["p99"]


def test_the_run_describes_the_machine(quick: dict[str, Any]) -> None:
    assert quick["mode"] == "quick"
    machine = quick["machine"]
    assert machine["nproc"] >= 1 and machine["cpu"] and machine["python"].startswith("3.")
    assert machine["date"][:2] == "20"


def test_the_engines_agree_on_every_ruleset(quick: dict[str, Any]) -> None:
    shipped_rules = len(loader.load_dir(RULES).rules)
    entries = {entry["ruleset"]: entry for entry in quick["engines"]}
    assert set(entries) == {"shipped", "generated-100", "generated-1000"}
    assert [entries[name]["rules"] for name in ("shipped", "generated-100", "generated-1000")] == \
        [shipped_rules, 100, 1000]
    for name, entry in entries.items():
        assert entry["agree"] and entry["disagreements"] == 0, (name, entry["examples"])
        assert entry["events"] > 0 and entry["matches_per_event"]["max"] > 0, name
        for engine in ("service", "rete", "zen", "zen_core", "python"):
            _timing(entry["us"][engine])
        assert entry["ratios"]["service_vs_zen_p50"] > 0
        cache = entry["cache"]
        assert cache["groups"] > 0 and cache["warm_up_events"] > 0 and 0 <= cache["hit_rate"] <= 1
    # After the warm-up the shipped rules' classes come from the cache (its events repeat classes).
    assert entries["shipped"]["cache"]["hit_rate"] > 0.5


def test_the_full_decision_in_process_is_measured_by_stage(quick: dict[str, Any]) -> None:
    inproc = quick["in_process"]
    assert inproc["events"] > 0
    _timing(inproc["us"])
    assert set(inproc["stage_means_us"]) == {"validate", "normalize", "match", "combine_render", "dumps"}
    for stage in ("validate", "normalize", "match", "decide", "dumps"):
        _timing(inproc["stages_us"][stage])


def test_the_server_answered_both_routes_and_its_memory_was_read(quick: dict[str, Any]) -> None:
    worker = quick["http"]["workers"]["1"]
    for route in ("/v1/decisions", "/bench/noop"):
        run = worker["fixed_rate"][route]
        assert run["sent"] > 0 and run["completed"] == run["sent"], route
        assert run["statuses"] == {"200": run["sent"]}, route
        assert 0 < run["latency_ms"]["p50"] <= run["latency_ms"]["p99"]
    own = worker["fixed_rate"]["decisions_at_half_own_ceiling"]
    assert own["completed"] == own["sent"] > 0 and own["statuses"] == {"200": own["sent"]}
    memory = worker["memory"]
    assert memory["decisions"] >= 3000
    assert memory["decisions_by_route"]["/v1/decisions"] > 0 and memory["decisions_by_route"]["/v1/decisions:batch"] > 0
    assert len(memory["rss_after_warmup_mib"]) == 1 and memory["rss_after_warmup_mib"][0] > 10
    assert [sample["decisions"] for sample in memory["samples"]][0] == 0
    assert len(memory["samples"]) >= 2


def test_the_ledger_part_measured_the_decision_path_with_the_ledger_on_and_off(quick: dict[str, Any]) -> None:
    ledger = quick["ledger"]
    fixed = ledger["fixed_rate"]
    for name in ("off", "sqlite", "sqlite_records_only"):
        run = fixed[name]
        assert run["statuses"] == {"200": int(fixed["rate"] * fixed["seconds"])}, name
        assert 0 < run["latency_ms"]["p50"] <= run["latency_ms"]["p99"], name
        assert run["cpu_us_per_request"] > 0, name
    assert fixed["sqlite_vs_off_cpu"] > 0 and fixed["sqlite_records_only_vs_off_cpu"] > 0
    assert ledger["postgresql"].startswith("skipped: quick mode")


def test_every_target_is_reported_and_only_measured_ones_are_judged(quick: dict[str, Any]) -> None:
    statuses = {target["key"]: target["status"] for target in quick["targets"]}
    assert set(statuses) == {"engine_shipped_vs_zen", "engine_1000_vs_zen", "decisions_vs_noop_rps_2w",
                             "p99_at_half_ceiling_ms", "rss_growth_1m_mib", "ledger_sqlite_vs_off_rps",
                             "ledger_postgresql_vs_off_rps", "ledger_outage_lost"}
    assert statuses["engine_shipped_vs_zen"] in ("PASS", "MISS")
    assert statuses["engine_1000_vs_zen"] in ("PASS", "MISS")
    # The quick run sends no 1,000,000 decisions, runs no wrk and starts no PostgreSQL: those
    # targets are not judged.
    for key in ("decisions_vs_noop_rps_2w", "p99_at_half_ceiling_ms", "rss_growth_1m_mib", "ledger_sqlite_vs_off_rps",
                "ledger_postgresql_vs_off_rps", "ledger_outage_lost"):
        assert statuses[key] == "n/a", key
    for target in quick["targets"]:
        assert f"{target['status']:<4} {target['what']}" in quick["_stdout"]
