"""Regression tests for each durable_rules 2.0.28 hazard listed in docs/engine.md.

Each scenario runs in a subprocess through the real wrapper (`service.engine`),
because the hazards crash the interpreter (segfaults, aborts) or hang it. Each
test fails if its work-around is taken out of the wrapper or the compiler.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.support import ROOT

PRELUDE = """
import sys, threading, resource
from decimal import Decimal
import yaml
from service.engine import compiler
from service.engine.loader import load_sources
from service.engine.runtime import Engine, EngineError

HEADER = '''
ruleset: {name: hazard, version: "1"}
catalogues:
  tiers: [standard, gold]
  currencies: [EUR]
  failure_types:
    late_delivery: {category: outcome, kind: time}
'''

def engine_for(rules):
    rules = [dict(rule, description=rule.get("description", "a generated test rule"),
                  then=rule.get("then", {"explanation": True})) for rule in rules]
    ruleset = load_sources({"ruleset.yaml": HEADER.encode(),
                            "rules.yaml": yaml.safe_dump({"rules": rules}).encode()})
    return ruleset, Engine(compiler.compile_ruleset(ruleset), cache_size=0)

def event(**extra):
    flat = {"failure.root_cause": "provider", "failure.category": "outcome", "failure.kind": "time",
            "failure.recurring": False, "failure.type": "late_delivery", "customer.tier": "standard",
            "customer.tier#rank": 0, "failure.severity": 3, "customer.prior_recoveries_90d": 0}
    flat.update(extra)
    return flat

def rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
"""


def run(body: str, timeout: float = 120) -> str:
    code = PRELUDE + textwrap.dedent(body)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            timeout=timeout)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_facts_that_match_no_rule_are_handled_and_state_can_be_freed() -> None:
    # Hazard: an unhandled fact followed by delete_state frees uninitialised memory.
    # Work-around: the catch-all rule; the wrapper refuses an unhandled fact.
    out = run("""
        ruleset, engine = engine_for([{"id": "never", "when": {"failure.severity": 1}}])
        for i in range(20000):
            assert engine.match(event(**{"failure.severity": 3})) == []
            if i % 1000 == 0:
                engine._reset(engine._shards[0][0])   # the path an evaluation error takes
        engine.close()
        print("ok")
    """)
    assert out.strip() == "ok"


def test_no_timer_threads_and_no_lost_results() -> None:
    # Hazard: Host() starts timer threads that steal actions (lost results, segfaults).
    # Work-around: no Host at all; the catch-all doubles as a check that nothing was lost.
    out = run("""
        before = threading.active_count()
        ruleset, engine = engine_for([{"id": "a", "when": {"failure.severity": {"gte": 2}}},
                                      {"id": "b", "when": {"failure.category": "outcome"}},
                                      {"id": "c", "when": {"customer.tier": "standard"}}])
        assert threading.active_count() == before, "the engine started threads"
        wrong = sum(1 for _ in range(40000) if engine.match(event()) != [0, 1, 2])
        print(wrong)
    """)
    assert out.strip() == "0"


def test_threads_share_an_engine_without_wrong_or_lost_results() -> None:
    # Hazard: interleaving assert / drain / retract of one session across threads.
    # Work-around: a lock per engine.
    out = run("""
        ruleset, engine = engine_for([{"id": "a", "when": {"failure.severity": {"gte": 2}}},
                                      {"id": "b", "when": {"failure.recurring": True}}])
        wrong = []
        def work(n):
            for i in range(5000):
                recurring = (i + n) % 2 == 0
                expected = [0, 1] if recurring else [0]
                if engine.match(event(**{"failure.recurring": recurring})) != expected:
                    wrong.append(1)
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        [t.start() for t in threads]; [t.join() for t in threads]
        print(len(wrong))
    """, timeout=300)
    assert out.strip() == "0"


def test_sessions_do_not_accumulate() -> None:
    # Hazard: at most 1,024 live sessions per ruleset, up to MiBs each.
    # Work-around: one reused session; the fact is retracted after each evaluation,
    # which also keeps an identical next fact from being "already observed".
    out = run("""
        ruleset, engine = engine_for([{"id": "a", "when": {"failure.severity": {"gte": 2}}}])
        for _ in range(3000):
            assert engine.match(event()) == [0]
        start = rss_kib()
        for _ in range(60000):
            assert engine.match(event()) == [0]
        print(rss_kib() - start)
    """, timeout=300)
    assert int(out.strip()) < 5 * 1024, f"resident memory grew by {out.strip()} KiB"


def test_rules_never_match_the_engine_state_and_never_loop() -> None:
    # Hazard: the state fact ($s) matches rules such as `present: false`, and a rule
    # matching the re-asserted state loops forever inside assert_fact.
    # Work-around: every rule carries the $s-absent guard; the state is never re-asserted.
    out = run("""
        ruleset, engine = engine_for([
            {"id": "no-order", "when": {"order.amount.amount": {"present": False}}},
            {"id": "not-big", "when": {"not": {"order.amount.amount": {"gte": "100"}}}}])
        with_order = event(**{"order.amount.amount": Decimal("150.00")})
        print(engine.match(with_order), engine.match(with_order), engine.match(event()))
    """, timeout=60)
    assert out.strip() == "[] [] [0, 1]"


def test_large_and_broad_rulesets_are_sharded() -> None:
    # Hazard: ~850 broad rules overflow a 64-entry stack (error 303, then a segfault);
    # ~256 rules on one test overflow a node's beta list (error 108); 4,096 rules max.
    # Work-around: the compiler models the alpha network and packs rules into shards.
    out = run("""
        broad = [{"id": f"b{i}", "when": {"failure.severity": {"gte": 1}}} for i in range(1000)]
        ranges = [{"id": f"r{i}", "when": {"order.amount.amount": {"gte": str(i)}}} for i in range(300)]
        narrow = [{"id": f"n{i}", "when": {"customer.prior_recoveries_90d": i, "failure.severity": {"gte": 2}}}
                  for i in range(5000 - 1300)]
        ruleset, engine = engine_for(broad + ranges + narrow)
        matched = engine.match(event(**{"order.amount.amount": Decimal("1000.00"),
                                        "customer.prior_recoveries_90d": 7}))
        expected = list(range(1300)) + [1300 + 7]
        print(engine.shard_count > 1, matched == expected, len(matched))
    """, timeout=300)
    assert out.strip() == "True True 1301"


def test_engine_errors_surface_and_the_session_recovers() -> None:
    # Hazard: exceptions inside actions are swallowed into the state.
    # Work-around: no Python actions run inside the engine; an error while draining
    # fails the evaluation loudly, and the session is reset for the next one.
    out = run("""
        import service.engine.runtime as runtime
        ruleset, engine = engine_for([{"id": "a", "when": {"failure.severity": {"gte": 2}}}])
        real = runtime._dre.complete_and_start_action
        def broken(handle, state):
            raise runtime._dre.error("injected")
        runtime._dre.complete_and_start_action = broken
        try:
            engine.match(event())
            print("no error")
        except EngineError as exc:
            print("error")
        runtime._dre.complete_and_start_action = real
        print(engine.match(event()), engine.match(event()))
    """)
    assert out.split("\n")[:2] == ["error", "[0] [0]"]


def test_reloads_build_new_engines_and_free_old_ones() -> None:
    # Hazard: a ruleset name registers once per host; engines left behind leak.
    # Work-around: one engine per revision with a unique name, closed when retired.
    out = run("""
        rules = [{"id": f"r{i}", "when": {"failure.severity": {"gte": i % 5 + 1}}} for i in range(40)]
        for _ in range(30):
            engine_for(rules)[1].close()
        start = rss_kib()
        for _ in range(300):
            ruleset, engine = engine_for(rules)
            assert len(engine.match(event())) == 24
            engine.close()
        print(rss_kib() - start)
    """, timeout=300)
    assert int(out.strip()) < 8 * 1024, f"resident memory grew by {out.strip()} KiB over 300 reloads"
