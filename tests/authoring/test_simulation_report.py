"""The simulation report an analyst reads (issue 18): movers say which rule and component moved them, one
total in the ruleset's base currency, segments in catalogue order, cost bands fine enough for a 5 EUR change,
and an HTML page with thousands separators and without the rows where nothing changed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from service.authoring.simulate import run
from service.engine.loader import load_dir
from tests.authoring.test_simulate import first_lines
from tests.support import ROOT, RULES, edited_rules

# Every tier gets the fair floor credit from severity 1, and 5 EUR more of it.
FLOOR = "      failure.severity: {gte: 2}\n    then:\n      credit: {amount: {EUR: \"5.00\"}, expires_in_days: 180}"
WIDER = "      failure.severity: {gte: 1}\n    then:\n      credit: {amount: {EUR: \"10.00\"}, expires_in_days: 180}"


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("report")
    candidate = edited_rules(base, "candidate", "50-customers.yaml", FLOOR, WIDER)
    return run(first_lines(base, 800), RULES, candidate, workers=1, progress=False)


def test_movers_name_the_component_and_the_rule(summary: dict[str, Any]) -> None:
    movers = [mover for rows in summary["top_movers"].values() for mover in rows]
    # the credit, or the refund it becomes when the customer asked for money back (money_back_only)
    assert movers and all(mover["components"] and set(mover["components"]) <= {"credit", "refund"}
                          for mover in movers)
    newly = [mover for mover in movers if mover["rules_added"]]
    assert newly and all(mover["rules_added"] == ["fair-floor-credit"] for mover in newly)


def test_one_total_in_the_base_currency(summary: dict[str, Any]) -> None:
    total = summary["cost_total"]
    table = load_dir(RULES).currency
    assert total["currency"] == table.base == "EUR" and total["not_converted"] == []
    expected = sum(Decimal(row["candidate"]) / (Decimal(1) if code == "EUR" else table.rates[code])
                   for code, row in summary["cost_by_currency"].items())
    assert Decimal(total["candidate"]) == expected.quantize(Decimal("0.01"))
    assert Decimal(total["delta"]) > 0


def test_segments_follow_the_catalogue(summary: dict[str, Any]) -> None:
    catalogues = load_dir(RULES).catalogues
    tiers = [row["segment"] for row in summary["cost_by"]["tier"] if row["currency"] == "EUR"]
    assert tiers == [tier for tier in catalogues.tiers if tier in tiers] and len(tiers) == 4
    types = list(dict.fromkeys(row["segment"] for row in summary["cost_by"]["failure_type"]))
    assert types == [name for name in catalogues.failure_types if name in types]


def test_cost_bands_are_fine_enough_for_a_five_euro_change(summary: dict[str, Any]) -> None:
    bands = summary["cost_distribution"]["EUR"]
    assert Decimal(bands["width"]) <= 5
    assert sum(bands["baseline"]) == sum(bands["candidate"]) == sum(
        row["events"] for row in summary["cost_by"]["tier"] if row["currency"] == "EUR")
    assert bands["baseline"] != bands["candidate"]  # 5 EUR more moves decisions up a band


def html_of(summary: dict[str, Any]) -> str:
    # In a process of its own: pygal installs an import hook that, once in the test process, turns every
    # later import into an ImportWarning (an error here).
    result = subprocess.run([sys.executable, "-c", "import json, sys; from service.authoring.simulate import "
                             "report_html; sys.stdout.write(report_html(json.load(sys.stdin)))"],
                            input=json.dumps(summary), capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_html_groups_thousands_and_hides_what_did_not_change(summary: dict[str, Any]) -> None:
    page = html_of(summary)
    idr = summary["cost_by_currency"]["IDR"]["baseline"]
    grouped = f"{Decimal(idr):,f}"
    assert "," in grouped and grouped in page
    assert re.search(r"\d+ rows where nothing changed are not shown", page)
    unchanged = [row for row in summary["cost_by"]["failure_type"] if not row["changed"] and not Decimal(row["delta"])]
    assert unchanged
    assert f"Total cost in EUR" in page and "converted with the ruleset&#x27;s rate table" in page
    assert "fair-floor-credit" in page  # the movers' rule
    json.dumps(summary)  # the JSON report stays JSON
