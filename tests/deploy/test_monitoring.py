"""The chart's PrometheusRule and Grafana dashboard: valid PromQL (`promtool check rules`, `make promtool`)
over metrics the service really exports, so an alert or a panel never silently watches nothing."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from service import metrics
from tests.deploy.tools import ROOT, one, render

PROMTOOL = ROOT / ".tools" / "bin" / "promtool"
ON = ["--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.dashboard.enabled=true"]
# Grafana's variables, as Grafana would substitute them
GRAFANA = {"$__rate_interval": "5m", "$__range": "6h", "$namespace": "recovery"}


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return render(*ON)


def alerts(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rule for group in one(docs, "PrometheusRule")["spec"]["groups"] for rule in group["rules"]]


def panel_exprs(docs: list[dict[str, Any]]) -> list[str]:
    dashboard = next(doc for doc in docs if doc["kind"] == "ConfigMap" and doc["metadata"]["name"].endswith("-dashboard"))
    board = json.loads(dashboard["data"]["service-recovery.json"])
    exprs = [target["expr"] for panel in board["panels"] for target in panel["targets"]]
    for variable, value in GRAFANA.items():
        exprs = [expr.replace(variable, value) for expr in exprs]
    return exprs


def promtool_rules(tmp_path: Path, groups: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    if not PROMTOOL.exists():
        raise AssertionError(f"{PROMTOOL.relative_to(ROOT)} is missing: run `make promtool`")
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": groups}))
    return subprocess.run([str(PROMTOOL), "check", "rules", str(path)], capture_output=True, text=True, timeout=60)


def exported() -> set[str]:
    names = set()
    for family in metrics.REGISTRY.collect():
        names.add(family.name)
        names.update({f"{family.name}_total", f"{family.name}_bucket", f"{family.name}_count", f"{family.name}_sum"})
    return names


def referenced(expr: str) -> set[str]:
    return set(re.findall(r"\b((?:recovery|process|python)_[a-z0-9_]+)\b", expr))


def test_alerts_are_valid_prometheus_rules(tmp_path: Path, docs: list[dict[str, Any]]) -> None:
    result = promtool_rules(tmp_path, one(docs, "PrometheusRule")["spec"]["groups"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_dashboard_queries_are_valid_promql(tmp_path: Path, docs: list[dict[str, Any]]) -> None:
    records = [{"record": f"dashboard:panel_{index}:check", "expr": expr} for index, expr in enumerate(panel_exprs(docs))]
    assert len(records) >= 10
    result = promtool_rules(tmp_path, [{"name": "dashboard", "rules": records}])
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rejects_a_broken_query(tmp_path: Path) -> None:
    result = promtool_rules(tmp_path, [{"name": "x", "rules": [{"alert": "X", "expr": "sum(rate(recovery_x[5m]"}]}])
    assert result.returncode != 0


def test_alerts_and_panels_watch_metrics_the_service_exports(docs: list[dict[str, Any]]) -> None:
    names = exported()
    used = set().union(*(referenced(rule["expr"]) for rule in alerts(docs)),
                       *(referenced(expr) for expr in panel_exprs(docs)))
    assert used and used <= names, sorted(used - names)


def test_each_alert_says_what_to_look_at(docs: list[dict[str, Any]]) -> None:
    for rule in alerts(docs):
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"] and len(rule["annotations"]["description"]) > 40, rule["alert"]
        assert 'namespace="recovery"' in rule["expr"], rule["alert"]


def test_the_dashboard_is_labelled_for_grafanas_sidecar(docs: list[dict[str, Any]]) -> None:
    dashboard = next(doc for doc in docs if doc["kind"] == "ConfigMap" and doc["metadata"]["name"].endswith("-dashboard"))
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
