"""Compiles a validated ruleset into durable_rules definitions. Pure: no engine calls.

Each rule's condition arrives as DNF terms; every term becomes one durable rule
whose single `m` pattern is a chain of alpha tests:

    {"all": [{"m": {"$and": [GUARD, atom, atom, ...]}}]}

- GUARD (`$s` absent) keeps every rule off the engine's own state fact, which is
  asserted when a session starts: without it a rule such as `present: false`
  would match the state and fire for every first event.
- A catch-all rule (GUARD alone) makes every fact "handled"; durable_rules can free
  uninitialised memory when an unhandled fact's state is deleted.

durable_rules 2.0.28 has fixed-size tables in its alpha network (rules.h, rete.c):
- a 64-entry stack while a fact walks the network (error 303, then memory
  corruption, when a fact matches too many sibling tests at once);
- 256 rules fed by one alpha node (error 108);
- 512 children per node in an open-addressed table whose lookup never stops when
  the table is full (creating the ruleset hangs), and 128 `$nex` children;
- 4,096 rules per ruleset (error 106).
The compiler models the network the engine will build (rete.c shares a node per
parent, property, operator and value) and packs rules into shards that stay well
inside every limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from . import vocabulary as vocab
from .classes import Classifier
from .conditions import Atom
from .loader import RuleDef, RulesetDef

GUARD: dict[str, Any] = {"$nex": {"$s": 1}}
CATCH_ALL = "$catchall"

STACK_BUDGET = 48       # the engine's stack holds 64 alpha nodes
FAN_IN_BUDGET = 200     # the engine's beta list per alpha node holds 256 rules
CHILDREN_BUDGET = 256   # a node's hashed children table holds 512 (lookups scan it)
NEX_CHILDREN_BUDGET = 100  # a node's `$nex` children list holds 128
MAX_RULES_PER_SHARD = 1000  # the engine holds at most 4,096 rules per ruleset

_DURABLE_OPS = {"ne": "$neq", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}


class CompileError(Exception):
    def __init__(self, rule: RuleDef, message: str):
        self.rule = rule
        super().__init__(message)


@dataclass(frozen=True)
class Shard:
    definition: dict[str, Any]
    names: dict[str, int]  # durable rule name -> rule index


@dataclass(frozen=True)
class Program:
    shards: tuple[Shard, ...]
    keys: tuple[tuple[str, str], ...]  # (flat event path, fact key) for every field the rules test
    always: tuple[int, ...] = ()  # rules without conditions: they match every event, no engine needed
    classifier: Classifier | None = None  # an event's class: events of one class match the same rules

    @property
    def rule_count(self) -> int:
        return sum(len(shard.names) for shard in self.shards)


def engine_key(path: str, vocabulary: vocab.Vocabulary = vocab.STATIC) -> str:
    """The short key a field has in the engine's facts (see `Vocabulary.keys`)."""
    return vocabulary.keys[path]


def _engine_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Amounts have at most 15 significant digits (money.MAX_AMOUNT), which a
        # double holds exactly enough to keep every comparison's order.
        return float(value)
    return value


def atom_json(atom: Atom, vocabulary: vocab.Vocabulary = vocab.STATIC) -> dict[str, Any]:
    path, op, value = atom
    key = engine_key(path, vocabulary)
    if op == "eq":
        return {key: _engine_value(value)}
    if op == "ex":
        return {"$ex": {key: 1}}
    if op == "nex":
        return {"$nex": {key: 1}}
    return {_DURABLE_OPS[op]: {key: _engine_value(value)}}


@dataclass
class _Node:
    children: dict[Atom, "_Node"] = field(default_factory=dict)
    ends: int = 0
    bound: int = 0
    nex_children: int = 0

    def effective_fanout(self) -> int:
        # Equality tests on one property exclude each other: at most one matches.
        eq_properties = {atom[0] for atom in self.children if atom[1] == "eq"}
        others = sum(1 for atom in self.children if atom[1] != "eq")
        return len(eq_properties) + others

    def refresh(self) -> None:
        deepest = max((child.bound for child in self.children.values()), default=0)
        self.bound = self.effective_fanout() + deepest


class _ShardBuilder:
    def __init__(self) -> None:
        self.root = _Node(ends=1)  # the guard node; the catch-all ends here
        self.rules: list[RuleDef] = []
        self.terms = 0

    def add(self, rule: RuleDef) -> bool:
        """Add the rule's terms; False (and the builder spoilt) when a budget breaks."""
        self.rules.append(rule)
        for term in rule.terms:
            self.terms += 1
            path = [self.root]
            node = self.root
            for atom in term:
                child = node.children.get(atom)
                if child is None:
                    child = node.children[atom] = _Node()
                    if atom[1] == "nex":
                        node.nex_children += 1
                        if node.nex_children > NEX_CHILDREN_BUDGET:
                            return False
                    elif len(node.children) - node.nex_children > CHILDREN_BUDGET:
                        return False
                node = child
                path.append(node)
            node.ends += 1
            if node.ends > FAN_IN_BUDGET:
                return False
            for visited in reversed(path):
                visited.refresh()
        return 1 + self.root.bound <= STACK_BUDGET and self.terms <= MAX_RULES_PER_SHARD


def pack(rules: Iterable[RuleDef]) -> list[list[RuleDef]]:
    shards: list[list[RuleDef]] = []
    builder = _ShardBuilder()
    for rule in rules:
        if builder.add(rule):
            continue
        done = builder.rules[:-1]
        builder = _ShardBuilder()
        if not builder.add(rule):
            raise CompileError(rule, "the rule is too broad for the engine: it tests too many alternatives "
                               "that can hold at once")
        if done:
            shards.append(done)
    if builder.rules:
        shards.append(builder.rules)
    return shards


def compile_ruleset(ruleset: RulesetDef) -> Program:
    vocabulary = ruleset.vocabulary
    always = tuple(rule.index for rule in ruleset.rules if rule.terms == ((),))
    conditional = [rule for rule in ruleset.rules if rule.terms != ((),)]
    shards = []
    for rules in pack(conditional):
        definition: dict[str, Any] = {}
        names: dict[str, int] = {}
        for rule in rules:
            for number, term in enumerate(rule.terms):
                name = f"r{rule.index}_{number}"
                chain = [GUARD] + [atom_json(atom, vocabulary) for atom in term]
                definition[name] = {"all": [{"m": {"$and": chain} if len(chain) > 1 else GUARD}]}
                names[name] = rule.index
        definition[CATCH_ALL] = {"all": [{"m": GUARD}]}
        shards.append(Shard(definition, names))
    paths = sorted({atom[0] for rule in ruleset.rules for term in rule.terms for atom in term},
                   key=lambda path: vocabulary.order.get(path, 999))
    classifier = Classifier.of((rule.index, rule.terms) for rule in conditional)
    return Program(tuple(shards), tuple((path, engine_key(path, vocabulary)) for path in paths), always,
                   classifier)
