"""Rules files as hostile input: mutated and generated YAML never crash the loader or a running
service; each gets a clear finding, and a live service keeps its last good ruleset."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.engine.findings import RulesetInvalid
from service.engine.loader import load_sources, rules_files
from service.engine.registry import build
from tests.support import RULES, running_server
from tests.test_decisions_http import CONTRACT_EXAMPLE

EXAMPLES = int(os.environ.get("RECOVERY_HOSTILE_EXAMPLES", "150"))
SOURCES = {path.name: path.read_bytes() for path in rules_files(RULES)}
DATA = {name: yaml.safe_load(raw) for name, raw in SOURCES.items()}

junk = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                 st.text(max_size=40), st.lists(st.integers(), max_size=3),
                 st.dictionaries(st.text(max_size=8), st.integers(), max_size=3))


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += paths(item, prefix + (index,))
    return out


def replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {key: (replace(item, rest, new) if key == head else item) for key, item in value.items()}
    return [replace(item, rest, new) if index == head else item for index, item in enumerate(value)]


@st.composite
def mutated_sources(draw: st.DrawFn) -> dict[str, bytes]:
    sources = dict(SOURCES)
    name = draw(st.sampled_from(sorted(sources)))
    how = draw(st.sampled_from(["value", "drop", "bytes", "truncate", "snippet"]))
    if how in ("value", "drop"):
        data = DATA[name]
        path = draw(st.sampled_from(paths(data)[1:]))
        if how == "value":
            data = replace(data, path, draw(junk))
        else:
            parent = path[:-1]
            container = data
            for part in parent:
                container = container[part]
            data = replace(data, parent, {k: v for k, v in container.items() if k != path[-1]}
                           if isinstance(container, dict) else [v for i, v in enumerate(container) if i != path[-1]])
        sources[name] = yaml.safe_dump(data, allow_unicode=True).encode()
    elif how == "bytes":
        raw = bytearray(sources[name])
        for _ in range(draw(st.integers(1, 8))):
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
        sources[name] = bytes(raw)
    elif how == "truncate":
        sources[name] = sources[name][: draw(st.integers(0, len(sources[name])))]
    else:
        sources[name] = sources[name] + draw(st.sampled_from([
            b"\n  - id: &a x\n    description: *a\n",
            b"\n" + b"x: [" * 80 + b"]" * 80,
            b"\nrules:\n  - id: dup\n",
            b"\n\t- tab: indented\n",
            b"\n!!python/object:os.system {}\n",
            b"\n%YAML 9.9\n---\n",
        ]))
    return sources


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(sources=mutated_sources())
def test_mutated_rules_get_findings_never_crashes(sources: dict[str, bytes]) -> None:
    try:
        ruleset = load_sources(sources)
    except RulesetInvalid as exc:
        assert exc.findings
        for finding in exc.findings:
            assert finding.severity == "error" and finding.message and finding.code
            assert finding.file is None or finding.file in sources
        return
    build(ruleset).engine.close()  # a mutation that still loads must also compile and run


HOSTILE = {
    "wrong-types.yaml": b"rules:\n  - id: 5\n    description: [a, list]\n    when: 7\n    then: yes\n",
    "huge.yaml": b"rules:\n" + b"  - {id: r, description: padding padding, then: {explanation: true}}\n" * 60000,
    "deep.yaml": b"rules: " + b"[" * 500 + b"]" * 500 + b"\n",
    "bomb.yaml": b"a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                 b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                 b"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
    "latin1.yaml": "rules:\n  - id: caf\xe9\n".encode("latin-1"),
    "missing-field.yaml": b"rules:\n  - id: ghost\n    description: tests a field no event has\n"
                          b"    when: {customer.shoe_size: 44}\n    then: {explanation: true}\n",
    "nul.yaml": b"rules: []\n\x00\n",
}


def test_a_live_service_keeps_its_last_good_ruleset_through_hostile_files(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules, ignore=shutil.ignore_patterns("cases", "invariants", "webhooks", "*.md"))
    # A short quiet period: each hostile file is written in one go, and the wait for a plain directory
    # to settle is tested in tests/test_watcher.py and tests/test_pod_revision.py.
    env = {"RECOVERY_RELOAD_INTERVAL_SECONDS": "0.1", "RECOVERY_RELOAD_QUIET_SECONDS": "0.3"}
    with running_server("hostile-rules", rules, env=env, ready_path="/readyz") as server, server.client() as http:
        good = http.get("/v1/ruleset").json()["digest"]
        for name, raw in HOSTILE.items():
            target = rules / name
            target.write_bytes(raw)
            deadline = time.monotonic() + 20
            while True:
                view = http.get("/v1/ruleset").json()
                failure = view["last_reload_failure"]
                if failure and any(f.get("file") == name for f in failure["findings"]):
                    break
                assert time.monotonic() < deadline, f"{name}: no finding reported"
                time.sleep(0.1)
            assert view["digest"] == good
            assert all(f["message"] for f in failure["findings"])
            decision = http.post("/v1/decisions", json=CONTRACT_EXAMPLE)
            assert decision.status_code == 200 and decision.json()["ruleset"]["digest"] == good
            assert http.get("/readyz").status_code == 200
            target.unlink()
        assert server.process.poll() is None
