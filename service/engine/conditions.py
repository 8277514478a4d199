"""Conditions: the `when` of a rule, parsed, type-checked and normalised.

A `when` is written as YAML:

    when:
      failure.category: outcome                 # equals
      failure.severity: {gte: 3}                # operators on one field (all must hold)
      customer.tier: [gold, platinum]           # a list means "in"
      any:                                      # all / any / not combine conditions
        - failure.recurring: true
        - customer.prior_recoveries_90d: {gte: 2}

Semantics: a test on a field the event does not carry is false (except
`present: false`); `not` negates the whole condition under it.

This module gives three views of one parsed condition:
- `holds()` / `explain()`: a plain Python reading, used to explain a decision
  (which condition failed and the value seen), never to make one;
- `dnf()`: the condition as a disjunction of conjunctive terms of atoms, which the
  compiler lays into durable_rules' Rete network, where decisions are matched;
- `contradicts()` via an empty `dnf()`: a rule that can never fire.
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping, Union

from .. import numbers
from . import vocabulary as vocab

MISSING: Any = object()

#: A term of the DNF may not grow beyond this many alternatives per rule.
MAX_TERMS_PER_RULE = 256
MAX_CONDITION_DEPTH = 32


@dataclass(frozen=True, slots=True)
class FieldTest:
    """One field with one or more operators, all of which must hold."""

    field: str
    ops: tuple[tuple[str, Any], ...]
    text: str
    line: int | None


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple["Node", ...]
    line: int | None


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple["Node", ...]
    line: int | None


@dataclass(frozen=True, slots=True)
class NotOf:
    item: "Node"
    line: int | None


Node = Union[FieldTest, AllOf, AnyOf, NotOf]

#: An atom of the DNF: (field path, operator, value); operators are
#: eq, ne, gt, gte, lt, lte (value compared) and ex, nex (value None).
Atom = tuple[str, str, Any]
Term = tuple[Atom, ...]


@dataclass(frozen=True, slots=True)
class Failed:
    """Why a condition did not hold: the first failing test and what it saw."""

    condition: str
    line: int | None
    field: str | None
    seen: Any


# --------------------------------------------------------------------------- parsing

Report = Callable[[str, tuple, str | None], None]
Locate = Callable[[tuple], int | None]


class ConditionParser:
    """Parses a `when` against the vocabulary and the ruleset's catalogues.

    Problems are reported through `report(message, path, hint)` (errors) and
    `warn(message, path, hint)`; parsing continues so every problem is found.
    """

    def __init__(self, catalogues: Mapping[str, Iterable[str]], report: Report, warn: Report, locate: Locate,
                 vocabulary: vocab.Vocabulary = vocab.STATIC):
        self.catalogues = {name: tuple(values) for name, values in catalogues.items()}
        self.vocabulary = vocabulary
        self.report = report
        self.warn = warn
        self.locate = locate

    def parse(self, data: Any, path: tuple, depth: int = 0) -> Node | None:
        if depth > MAX_CONDITION_DEPTH:
            self.report(f"conditions nest deeper than {MAX_CONDITION_DEPTH} levels", path,
                        "flatten the condition: all/any lists can hold many items")
            return None
        if not isinstance(data, dict) or not data:
            self.report("expected a mapping of field tests or all/any/not, got "
                        f"{_describe(data)}", path, "write e.g. `failure.severity: {gte: 3}`")
            return None
        items: list[Node] = []
        for key, value in data.items():
            node = self._parse_entry(key, value, path + (key,), depth)
            if node is not None:
                items.append(node)
        if len(items) != len(data):
            return None
        return items[0] if len(items) == 1 else AllOf(tuple(items), self.locate(path))

    def _parse_entry(self, key: Any, value: Any, path: tuple, depth: int) -> Node | None:
        line = self.locate(path)
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                self.report(f"`{key}` expects a non-empty list of conditions, got {_describe(value)}", path, None)
                return None
            parsed = [self.parse(item, path + (index,), depth + 1) for index, item in enumerate(value)]
            if any(item is None for item in parsed):
                return None
            nodes = tuple(item for item in parsed if item is not None)
            return AllOf(nodes, line) if key == "all" else AnyOf(nodes, line)
        if key == "not":
            inner = self.parse(value, path, depth + 1)
            return None if inner is None else NotOf(inner, line)
        if not isinstance(key, str):
            self.report(f"expected a field name, got {_describe(key)}", path, None)
            return None
        field = self.vocabulary.get(key)
        if field is None:
            known = list(self.vocabulary.fields)
            guess = difflib.get_close_matches(key, known + ["all", "any", "not"], n=1)
            hint = f"did you mean `{guess[0]}`?" if guess else "see the field list in rules/README.md"
            if key.startswith("facts.") and not guess:
                facts = [path for path in known if path.startswith("facts.")]
                hint = (f"declare it under `facts:` (declared: {', '.join(facts)})" if facts
                        else "declare the fact under `facts:` in the ruleset first")
            self.report(f"unknown field `{key}`: conditions can test "
                        f"{', '.join(known)} or combine with all/any/not", path, hint)
            return None
        return self._parse_field(field, value, path, line)

    def _parse_field(self, field: vocab.Field, value: Any, path: tuple, line: int | None) -> FieldTest | None:
        if isinstance(value, dict):
            if not value:
                self.report(f"`{field.path}` has an empty operator mapping", path, "write e.g. {gte: 3}")
                return None
            raw_ops = list(value.items())
        elif isinstance(value, list):
            raw_ops = [("in", value)]
        else:
            raw_ops = [("eq", value)]
        allowed = vocab.operators_for(field)
        ops: list[tuple[str, Any]] = []
        ok = True
        for op, operand in raw_ops:
            op_path = path + (op,) if isinstance(value, dict) else path
            if op not in allowed:
                hint = (f"`{field.path}` takes {', '.join(allowed)}" if op in vocab.ALL_OPERATORS
                        else _suggest(op, allowed))
                self.report(f"operator `{op}` does not apply to `{field.path}` ({field.kind})", op_path, hint)
                ok = False
                continue
            normalized = self._operand(field, op, operand, op_path)
            if normalized is MISSING:
                ok = False
                continue
            ops.append((op, normalized))
        if not ok:
            return None
        return FieldTest(field.path, tuple(ops), _text(field.path, ops), line)

    def _operand(self, field: vocab.Field, op: str, operand: Any, path: tuple) -> Any:
        if op == "present":
            if not isinstance(operand, bool):
                self.report(f"`present` expects true or false, got {_describe(operand)}", path, None)
                return MISSING
            if field.always and operand is False:
                self.report(f"`{field.path}` is always present, so `present: false` never holds", path,
                            "remove this rule or test another field")
                return MISSING
            return operand
        if op in ("in", "not_in"):
            if not isinstance(operand, list) or not operand:
                self.report(f"`{op}` expects a non-empty list, got {_describe(operand)}", path, None)
                return MISSING
            values = [self._value(field, item, path + (index,)) for index, item in enumerate(operand)]
            if any(item is MISSING for item in values):
                return MISSING
            return tuple(dict.fromkeys(values))
        if op == "between":
            if not isinstance(operand, list) or len(operand) != 2:
                self.report(f"`between` expects [low, high], got {_describe(operand)}", path, None)
                return MISSING
            low, high = (self._value(field, item, path + (index,)) for index, item in enumerate(operand))
            if low is MISSING or high is MISSING:
                return MISSING
            if low > high:
                self.report(f"`between` low {low} is above high {high}", path, "swap the two bounds")
                return MISSING
            return (low, high)
        if op in ("at_least", "at_most"):
            return self._value(field, operand, path)
        return self._value(field, operand, path)

    def _value(self, field: vocab.Field, value: Any, path: tuple) -> Any:
        kind = field.kind
        if kind == "bool":
            if isinstance(value, bool):
                return value
            self.report(f"`{field.path}` is true or false, got {_describe(value)}", path, None)
            return MISSING
        if kind == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                if field.minimum is not None and value < field.minimum or \
                        field.maximum is not None and value > field.maximum:
                    self.report(f"`{field.path}` ranges over {field.minimum}..{field.maximum or 'any'}, "
                                f"got {value}", path, "no event can carry this value: use one inside the range")
                    return MISSING
                return value
            self.report(f"`{field.path}` is a whole number, got {_describe(value)}", path, None)
            return MISSING
        if kind == "decimal":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                self.report(f"`{field.path}` is a decimal amount, got {_describe(value)}", path,
                            'write the amount as a string, e.g. "100.00"')
                return MISSING
            try:
                number = numbers.decimal_of(value)
            except numbers.NotANumber:
                number = Decimal("NaN")
            if not number.is_finite() or abs(number.adjusted()) > numbers.MAX_PLAIN_EXPONENT:
                self.report(f"`{field.path}` is a decimal amount, got {value!r}", path,
                            'write the amount as a string, e.g. "100.00"')
                return MISSING
            if field.minimum is not None and number < field.minimum or \
                    field.maximum is not None and number > field.maximum:
                self.report(f"`{field.path}` ranges over {field.minimum}..{field.maximum}, got {value}", path,
                            "no event can carry this value: use one inside the range")
                return MISSING
            return number
        if not isinstance(value, str):
            self.report(f"`{field.path}` takes a string, got {_describe(value)}", path,
                        "quote the value if YAML read it as a number or a boolean")
            return MISSING
        if kind == "enum":
            known = field.values or self.catalogues.get(field.catalogue or "", ())
            if known and value not in known:
                where = f"the `{field.catalogue}` catalogue" if field.catalogue else f"`{field.path}`"
                message = f"`{value}` is not in {where} ({', '.join(known)})"
                hint = _suggest(value, known)
                # Failure types and channels are open sets: an event may carry a value the
                # catalogue does not list, so a rule on one is suspicious but not wrong.
                if field.catalogue in ("failure_types", "channels"):
                    self.warn(message, path, hint)
                else:
                    self.report(message, path, hint)
                    return MISSING
            elif not known and field.catalogue == "channels":
                pass
        return value


def _suggest(value: Any, known: Iterable[str]) -> str:
    options = list(known)
    guess = difflib.get_close_matches(str(value), options, n=1)
    if guess:
        return f"did you mean `{guess[0]}`?"
    return f"use one of {', '.join(options)}" if len(options) <= 12 else "see the catalogue for the values"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if value is None:
        return "nothing (null)"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_SYMBOL = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=",
           "in": "in", "not_in": "not in", "at_least": "at least", "at_most": "at most"}


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    return str(value)


def _text(path: str, ops: Iterable[tuple[str, Any]]) -> str:
    parts = []
    for op, value in ops:
        if op == "present":
            parts.append(f"{path} is {'present' if value else 'absent'}")
        elif op == "between":
            parts.append(f"{path} between {_show(value[0])} and {_show(value[1])}")
        else:
            parts.append(f"{path} {_SYMBOL[op]} {_show(value)}")
    return " and ".join(parts)


# --------------------------------------------------------------------------- Python reading

def _op_holds(op: str, operand: Any, value: Any, rank: Mapping[str, int]) -> bool:
    if op == "present":
        return (value is not MISSING) is operand
    if value is MISSING:
        return False
    if op == "eq":
        return bool(value == operand)
    if op == "ne":
        return bool(value != operand)
    if op == "in":
        return value in operand
    if op == "not_in":
        return value not in operand
    if op == "gt":
        return bool(value > operand)
    if op == "gte":
        return bool(value >= operand)
    if op == "lt":
        return bool(value < operand)
    if op == "lte":
        return bool(value <= operand)
    if op == "between":
        return bool(operand[0] <= value <= operand[1])
    if op == "at_least":
        return rank[value] >= rank[operand]
    if op == "at_most":
        return rank[value] <= rank[operand]
    raise ValueError(f"unknown operator {op}")


def explain(node: Node | None, flat: Mapping[str, Any], rank: Mapping[str, int]) -> Failed | None:
    """None when `node` holds for the flat event, else the first failing test."""
    if node is None:
        return None
    if isinstance(node, FieldTest):
        value = flat.get(node.field, MISSING)
        for op, operand in node.ops:
            if not _op_holds(op, operand, value, rank):
                seen = None if value is MISSING else value
                return Failed(_text(node.field, [(op, operand)]), node.line, node.field, seen)
        return None
    if isinstance(node, AllOf):
        for item in node.items:
            failed = explain(item, flat, rank)
            if failed is not None:
                return failed
        return None
    if isinstance(node, AnyOf):
        first: Failed | None = None
        for item in node.items:
            failed = explain(item, flat, rank)
            if failed is None:
                return None
            first = first or failed
        assert first is not None  # a parsed `any` has at least one item
        return Failed(f"none of {len(node.items)} alternatives held; first: {first.condition}",
                      node.line, first.field, first.seen)
    if explain(node.item, flat, rank) is None:
        return Failed(f"not ({_node_text(node.item)})", node.line, None, None)
    return None


def holds(node: Node | None, flat: Mapping[str, Any], rank: Mapping[str, int]) -> bool:
    return explain(node, flat, rank) is None


def _node_text(node: Node) -> str:
    if isinstance(node, FieldTest):
        return node.text
    if isinstance(node, AllOf):
        return " and ".join(f"({_node_text(item)})" for item in node.items)
    if isinstance(node, AnyOf):
        return " or ".join(f"({_node_text(item)})" for item in node.items)
    return f"not ({_node_text(node.item)})"


def fields_of(node: Node | None) -> set[str]:
    if node is None:
        return set()
    if isinstance(node, FieldTest):
        return {node.field}
    if isinstance(node, NotOf):
        return fields_of(node.item)
    return set().union(*(fields_of(item) for item in node.items))


# --------------------------------------------------------------------------- DNF

class TooComplex(Exception):
    """A condition expands to more alternatives than the engine should hold."""


def dnf(node: Node | None, rank: Mapping[str, int], vocabulary: vocab.Vocabulary = vocab.STATIC) -> list[Term]:
    """The condition as a list of satisfiable conjunctive terms (empty: never holds)."""
    if node is None:
        return [()]
    terms = _dnf(node, False, rank)
    simplified: dict[Term, None] = {}
    for term in terms:
        reduced = simplify(term, vocabulary)
        if reduced is not None:
            simplified[reduced] = None
    return list(simplified)


def _product(groups: list[list[Term]]) -> list[Term]:
    size = 1
    for group in groups:
        size *= len(group)
        if size > MAX_TERMS_PER_RULE * 4:
            raise TooComplex(f"the condition expands to more than {MAX_TERMS_PER_RULE} alternatives")
    return [tuple(itertools.chain.from_iterable(combo)) for combo in itertools.product(*groups)]


def _dnf(node: Node, negate: bool, rank: Mapping[str, int]) -> list[Term]:
    if isinstance(node, NotOf):
        return _dnf(node.item, not negate, rank)
    if isinstance(node, (AllOf, AnyOf)):
        parts = [_dnf(item, negate, rank) for item in node.items]
        conjunctive = isinstance(node, AllOf) != negate
        if conjunctive:
            return _product(parts)
        merged = list(itertools.chain.from_iterable(parts))
        if len(merged) > MAX_TERMS_PER_RULE * 4:
            raise TooComplex(f"the condition expands to more than {MAX_TERMS_PER_RULE} alternatives")
        return merged
    op_terms = [_op_dnf(node.field, op, operand, negate, rank) for op, operand in node.ops]
    if negate:  # not (a and b) = not a or not b
        return list(itertools.chain.from_iterable(op_terms))
    return _product(op_terms)


def _op_dnf(path: str, op: str, operand: Any, negate: bool, rank: Mapping[str, int]) -> list[Term]:
    if op in ("at_least", "at_most"):
        path, op, operand = vocab.TIER_RANK_PATH, ("gte" if op == "at_least" else "lte"), rank[operand]
    if op == "present":
        return [((path, "ex" if operand != negate else "nex", None),)]
    absent: list[Term] = [((path, "nex", None),)]
    if op in ("eq", "ne", "gt", "gte", "lt", "lte"):
        if not negate:
            return [((path, op, operand),)]
        flipped = {"eq": "ne", "ne": "eq", "gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt"}[op]
        return absent + [((path, flipped, operand),)]
    if op == "in":
        if not negate:
            return [((path, "eq", value),) for value in operand]
        return absent + [tuple((path, "ne", value) for value in operand)]
    if op == "not_in":
        if not negate:
            return [tuple((path, "ne", value) for value in operand)]
        return absent + [((path, "eq", value),) for value in operand]
    if op == "between":
        low, high = operand
        if not negate:
            return [((path, "gte", low), (path, "lte", high))]
        return absent + [((path, "lt", low),), ((path, "gt", high),)]
    raise ValueError(f"unknown operator {op}")


def simplify(term: Term, vocabulary: vocab.Vocabulary = vocab.STATIC) -> Term | None:
    """Drop implied atoms; None when the term's atoms contradict each other."""
    by_field: dict[str, list[Atom]] = {}
    for atom in term:
        by_field.setdefault(atom[0], []).append(atom)
    out: list[Atom] = []
    for path, atoms in by_field.items():
        ops = {op for _, op, _ in atoms}
        if "nex" in ops:
            if len(ops) > 1 or vocabulary.always(path):
                return None
            out.append((path, "nex", None))
            continue
        eqs = {value for _, op, value in atoms if op == "eq"}
        nes = {value for _, op, value in atoms if op == "ne"}
        lows = [(value, op == "gt") for _, op, value in atoms if op in ("gt", "gte")]
        highs = [(value, op == "lt") for _, op, value in atoms if op in ("lt", "lte")]
        if vocabulary.integral(path):  # x > 3 is x >= 4, so that `> 3 and < 4` is seen to be empty
            lows = [(value + 1, False) if strict else (value, False) for value, strict in lows]
            highs = [(value - 1, False) if strict else (value, False) for value, strict in highs]
        low = max(lows, key=lambda bound: (bound[0], bound[1])) if lows else None
        high = min(highs, key=lambda bound: (bound[0], not bound[1])) if highs else None
        if len(eqs) > 1:
            return None
        if eqs:
            (value,) = eqs
            if value in nes:
                return None
            if low is not None and (value < low[0] or (value == low[0] and low[1])):
                return None
            if high is not None and (value > high[0] or (value == high[0] and high[1])):
                return None
            out.append((path, "eq", value))
            continue
        if low is not None and high is not None:
            if low[0] > high[0] or (low[0] == high[0] and (low[1] or high[1])):
                return None
        if isinstance(next(iter(nes), None), bool) and len(nes) == 1:
            (value,) = nes  # a boolean that is not x is (not x)
            out.append((path, "eq", not value))
            continue
        for value in sorted(nes, key=str):
            out.append((path, "ne", value))
        if low is not None:
            out.append((path, "gt" if low[1] else "gte", low[0]))
        if high is not None:
            out.append((path, "lt" if high[1] else "lte", high[0]))
        if not eqs and not nes and low is None and high is None:
            if "ex" in ops and not vocabulary.always(path):
                out.append((path, "ex", None))
    order = vocabulary.order
    # Equality tests first (they share nodes and exclude each other in the Rete
    # network), then the rest, each in vocabulary order.
    out.sort(key=lambda atom: (0 if atom[1] == "eq" else 1, order.get(atom[0], 999), atom[1], str(atom[2])))
    return tuple(out)
