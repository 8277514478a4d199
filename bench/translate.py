"""The same rules for two other engines: a zen-engine decision table and Python predicates.

- `zen_table()`: one JDM decision table, hit policy `collect`, one input column
  per field the rules test and one row per alternative of each rule's condition
  (`rule.when`): a field test stays one cell, as an analyst would write it
  (`$ in [...]`, `$ >= 3`), and only `any` / `not` across fields add rows. The
  row outputs the rule's index. Each cell is guarded with `$ != null` so that, as
  in the rules format, a test on a field the event does not carry is false.
- `python_matcher()`: each rule's condition tree becomes one Python expression;
  the ruleset becomes one compiled function returning the matching indexes.

Neither reads the DNF terms (`rule.terms`) the project's compiler lays into the
Rete network, so agreement between the three engines also checks that DNF.

Both take the flat event `service.recovery.normalize.normalize()` makes, so all
three engines answer the same question.
"""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any, Callable, Mapping, Sequence

from service.engine import conditions as cond
from service.engine import vocabulary as vocab
from service.engine.loader import RulesetDef

Flat = Mapping[str, Any]

_COMPARE = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

#: One test of a decision-table cell: (flat path of the column, kind, zen expression on a present `$`);
#: kind is "pos" (the test holds), "neg" (it does not, or the field is absent), "ex" or "nex".
Literal = tuple[str, str, str]


def _zen_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return str(value)
    return json.dumps(value)


def _zen_core(op: str, operand: Any) -> str:
    """The test for a value that is present, as one zen comparison on `$` (no `and`, no `or`)."""
    if op in _COMPARE:
        return f"$ {_COMPARE[op]} {_zen_literal(operand)}"
    if op in ("in", "not_in"):
        listed = "[" + ", ".join(_zen_literal(item) for item in operand) + "]"
        return f"$ {'in' if op == 'in' else 'not in'} {listed}"
    if op == "between":
        return f"$ in [{_zen_literal(operand[0])}..{_zen_literal(operand[1])}]"
    raise ValueError(f"unknown operator {op}")


def _zen_literals(test: cond.FieldTest, rank: Mapping[str, int], negate: bool) -> list[Literal]:
    out = []
    for op, operand in test.ops:
        path = test.field
        if op in ("at_least", "at_most"):
            path, op, operand = vocab.TIER_RANK_PATH, ("gte" if op == "at_least" else "lte"), rank[operand]
        if op == "present":
            out.append((path, "ex" if operand != negate else "nex", ""))
        else:
            out.append((path, "neg" if negate else "pos", _zen_core(op, operand)))
    return out


def _zen_dnf(node: cond.Node, rank: Mapping[str, int], negate: bool) -> list[list[Literal]]:
    """The condition as rows (alternatives) of cell tests; one field test stays one cell."""
    if isinstance(node, cond.NotOf):
        return _zen_dnf(node.item, rank, not negate)
    if isinstance(node, cond.FieldTest):
        literals = _zen_literals(node, rank, negate)
        return [[literal] for literal in literals] if negate else [literals]
    parts = [_zen_dnf(item, rank, negate) for item in node.items]
    if isinstance(node, cond.AllOf) != negate:
        return [list(itertools.chain.from_iterable(combo)) for combo in itertools.product(*parts)]
    return list(itertools.chain.from_iterable(parts))


def _zen_cell(path: str, literals: Sequence[Literal]) -> str:
    """One cell for every test of a row on one column.

    zen's unary mode reads `(` as the start of an interval, so a cell never
    parenthesises `and` / `or`; it relies on `and` binding tighter than `or`.
    """
    kinds = {kind for _, kind, _ in literals}
    positives = [core for _, kind, core in literals if kind == "pos"]
    negatives = [f"not ({core})" for _, kind, core in literals if kind == "neg"]
    if "nex" in kinds and (positives or "ex" in kinds):
        return "false"
    if positives or "ex" in kinds:
        if len(positives) == 1 and not negatives and vocab.STATIC.always(path):
            return _zen_simple(positives[0])
        return " and ".join(["$ != null", *positives, *negatives])
    if "nex" in kinds:
        return "$ == null"
    return "$ == null or " + " and ".join(negatives)


def _zen_simple(core: str) -> str:
    """The short unary form an analyst writes for one test on a field every event carries."""
    if core.startswith("$ == "):
        return core[5:]
    if core.startswith("$ in [") and ".." not in core:
        return core[6:-1]
    if core.startswith("$ in ["):
        return core[5:]
    if core.startswith("$ not in") or core.startswith("$ != "):
        return core
    return core[2:]  # "$ >= 3" -> ">= 3"


def zen_rows(ruleset: RulesetDef) -> list[tuple[int, dict[str, str]]]:
    """(rule index, {flat path: cell}) for every row of the table, in rule order."""
    rows = []
    for rule in ruleset.rules:
        alternatives = [[]] if rule.when is None else _zen_dnf(rule.when, ruleset.tier_rank, False)
        for literals in alternatives:
            cells: dict[str, list[Literal]] = {}
            for literal in literals:
                cells.setdefault(literal[0], []).append(literal)
            rows.append((rule.index, {path: _zen_cell(path, tests) for path, tests in cells.items()}))
    return rows


def zen_fields(rows: Sequence[tuple[int, Mapping[str, str]]]) -> list[str]:
    """The flat paths the table's input columns read, in vocabulary order."""
    paths = {path for _, cells in rows for path in cells}
    return sorted(paths, key=lambda path: (vocab.STATIC.order.get(path, 999), path))


def zen_table(ruleset: RulesetDef) -> tuple[dict[str, Any], list[str]]:
    """The ruleset as a JDM graph (input -> collect decision table -> output) and its input fields."""
    rows = zen_rows(ruleset)
    fields = zen_fields(rows)
    column = {path: f"c{number}" for number, path in enumerate(fields)}
    inputs = [{"id": column[path], "name": path, "field": column[path]} for path in fields]
    table_rows = []
    for number, (index, cells) in enumerate(rows):
        row = {"_id": f"row{number}", "out": str(index)}
        row.update({column[path]: cells.get(path, "") for path in fields})
        table_rows.append(row)
    table = {"hitPolicy": "collect", "inputs": inputs,
             "outputs": [{"id": "out", "name": "rule", "field": "rule"}], "rules": table_rows}
    graph = {
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
            {"id": "rules", "type": "decisionTableNode", "name": "rules", "position": {"x": 300, "y": 0},
             "content": table},
            {"id": "response", "type": "outputNode", "name": "Response", "position": {"x": 600, "y": 0}},
        ],
        "edges": [
            {"id": "in", "sourceId": "request", "targetId": "rules", "type": "edge"},
            {"id": "out", "sourceId": "rules", "targetId": "response", "type": "edge"},
        ],
    }
    return graph, fields


def zen_input(flat: Flat, fields: Sequence[str]) -> dict[str, Any]:
    """The table's input for one flat event: the tested fields the event carries, amounts as numbers."""
    out: dict[str, Any] = {}
    for number, path in enumerate(fields):
        value = flat.get(path)
        if value is not None:
            out[f"c{number}"] = float(value) if isinstance(value, Decimal) else value
    return out


def zen_matches(result: Any) -> list[int]:
    """Matching rule indexes from a collect table's result, ascending, without repeats."""
    rows = result["result"]
    if isinstance(rows, dict):  # a single hit may come back unwrapped
        rows = [rows]
    return sorted({int(row["rule"]) for row in rows})


# --------------------------------------------------------------------------- Python predicates

class _Constants:
    """Decimal operands, bound once as names of the compiled function's globals."""

    def __init__(self) -> None:
        self.names: dict[Decimal, str] = {}

    def __call__(self, value: Any) -> str:
        if isinstance(value, Decimal):
            return self.names.setdefault(value, f"d{len(self.names)}")
        return repr(value)


def _py_op(var: str, op: str, operand: Any, rank: Mapping[str, int], value: "_Constants") -> str:
    if op == "present":
        return f"({var} is not M)" if operand else f"({var} is M)"
    if op == "eq":
        return f"({var} == {value(operand)})"
    if op == "in":
        return f"({var} in ({', '.join(value(item) for item in operand)},))"
    present = f"{var} is not M and "
    if op == "ne":
        return f"({present}{var} != {value(operand)})"
    if op == "not_in":
        return f"({present}{var} not in ({', '.join(value(item) for item in operand)},))"
    if op in ("gt", "gte", "lt", "lte"):
        symbol = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
        return f"({present}{var} {symbol} {value(operand)})"
    if op == "between":
        return f"({present}{value(operand[0])} <= {var} <= {value(operand[1])})"
    if op in ("at_least", "at_most"):
        symbol = ">=" if op == "at_least" else "<="
        rank_var = _var(vocab.TIER_RANK_PATH)
        return f"({rank_var} is not M and {rank_var} {symbol} {rank[operand]})"
    raise ValueError(f"unknown operator {op}")


def _var(path: str) -> str:
    return "v_" + path.replace(".", "_").replace("#", "_")


def _py_node(node: cond.Node, rank: Mapping[str, int], used: set[str], consts: _Constants) -> str:
    if isinstance(node, cond.FieldTest):
        used.add(node.field)
        if any(op in ("at_least", "at_most") for op, _ in node.ops):
            used.add(vocab.TIER_RANK_PATH)
        tests = (_py_op(_var(node.field), op, operand, rank, consts) for op, operand in node.ops)
        return "(" + " and ".join(tests) + ")"
    if isinstance(node, cond.AllOf):
        return "(" + " and ".join(_py_node(item, rank, used, consts) for item in node.items) + ")"
    if isinstance(node, cond.AnyOf):
        return "(" + " or ".join(_py_node(item, rank, used, consts) for item in node.items) + ")"
    return f"(not {_py_node(node.item, rank, used, consts)})"


def python_source(ruleset: RulesetDef) -> tuple[str, dict[str, Decimal]]:
    """Source of `match(flat) -> list[int]` testing every rule's condition in turn, and its constants."""
    used: set[str] = set()
    consts = _Constants()
    tests = []
    for rule in ruleset.rules:
        expression = "True" if rule.when is None else _py_node(rule.when, ruleset.tier_rank, used, consts)
        tests.append(f"    if {expression}:\n        out.append({rule.index})")
    reads = [f"    {_var(path)} = get({path!r}, M)" for path in sorted(used)]
    source = "\n".join(["def match(flat):", "    get = flat.get", "    out = []", *reads, *tests,
                        "    return out", ""])
    return source, {name: value for value, name in consts.names.items()}


def python_matcher(ruleset: RulesetDef) -> Callable[[Flat], list[int]]:
    source, constants = python_source(ruleset)
    namespace: dict[str, Any] = {"M": cond.MISSING, **constants}
    exec(compile(source, f"<predicates {ruleset.meta.name}>", "exec"), namespace)
    matcher: Callable[[Flat], list[int]] = namespace["match"]
    return matcher
