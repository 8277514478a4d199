"""Equivalence classes of events: which events the engine cannot tell apart.

The engine's answer for an event depends only on whether each test the compiler laid into the
Rete network holds (a rule's term matches when every atom of its chain holds). The compiler
knows every atom: for each field the rules test, the values and cut points compared with. So
two events that agree, field by field, on

- presence (a field the event does not carry fails every test but `nex`),
- for a number: where it falls among the cut points (equal to one, or strictly between two),
- for any other value: which of the tested values it is (with its type), or none of them,

make every atom hold or fail alike, and the engine matches the same rules for both. That is
the *cell* of each field.

One key over every field would make almost every event a class of its own (the shipped rules
test 22 fields: their cells multiply), so the rules are split into **groups** by the fields
they test (a rule joins a group whose fields include all of its own), and an event has one
class per group, made of the cells of that group's fields only: a group's match depends on
those cells alone. `runtime.Engine` caches the Rete network's answer per group and class; a
class seen before costs a few dictionary steps. Rules that cut the events finer than a cache
can hold (many rules, each testing many fields with many values) make every event a new
class: the engine notices and goes straight to the network (`runtime.Engine._judge`).

Numbers are compared as the engine compares them: the compiler writes amounts as doubles
(`compiler._engine_value`) and the fact carries the event's amounts as doubles
(`Engine.fact`), so a value's cell is found among the doubles too.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Hashable, Iterable, Mapping, Sequence

from .conditions import Atom, Term

_ORDERING = frozenset({"gt", "gte", "lt", "lte"})
ABSENT: Hashable = ("absent",)
OTHER: Hashable = ("other",)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _typed(value: Any) -> tuple[type, Any]:
    return (float, float(value)) if isinstance(value, Decimal) else (type(value), value)


@dataclass(frozen=True)
class Field:
    """How one field's value maps to its cell."""

    path: str
    cuts: tuple[Any, ...] | None  # sorted cut points (as the engine sees them) for a numeric field
    values: frozenset[tuple[type, Any]]  # the values equality tests name (with their type), for any other field

    def cell(self, value: Any) -> Hashable:
        if value is None:
            return ABSENT
        cuts = self.cuts
        if cuts is not None:
            if isinstance(value, Decimal):
                value = float(value)
            elif not _number(value):
                return (type(value), value)
            at = bisect_left(cuts, value)
            return 2 * at + 1 if at < len(cuts) and cuts[at] == value else 2 * at
        typed = (type(value), value)  # with its type: True and 1 are equal in Python, not in the engine
        return typed if typed in self.values else OTHER


@dataclass(frozen=True)
class Group:
    """Rules that test the same fields (or fewer): their match depends on those fields' cells only."""

    rules: tuple[int, ...]   # rule indexes, ascending
    fields: tuple[int, ...]  # the cells (positions in `Classifier.fields`) the group's class is made of

    def key(self, cells: Sequence[Hashable]) -> tuple[Hashable, ...]:
        return tuple([cells[index] for index in self.fields])


class Classifier:
    """The cells of a flat event, and its class in each group, for one compiled ruleset."""

    def __init__(self, fields: Sequence[Field], groups: Sequence[Group]):
        self.fields = tuple(fields)
        self.groups = tuple(groups)
        self._paths = tuple(field.path for field in self.fields)
        self._cells = tuple(field.cell for field in self.fields)

    @classmethod
    def of(cls, rules: Iterable[tuple[int, Sequence[Term]]]) -> "Classifier | None":
        """From every conditional rule (index, DNF terms); None when some field's tests cannot be reduced
        to cells (an ordering test on a value that is not a number, which the vocabulary never allows)."""
        rules = list(rules)
        fields = _fields(atom for _, terms in rules for term in terms for atom in term)
        if fields is None:
            return None
        position = {field.path: number for number, field in enumerate(fields)}
        return cls(fields, [_group(members, position) for members in _grouped(rules)])

    def cells(self, flat: Mapping[str, Any]) -> list[Hashable]:
        get = flat.get
        return [cell(get(path)) for cell, path in zip(self._cells, self._paths)]

    def lookup(self, caches: Sequence[dict[Any, tuple[int, ...]]]) -> Callable[[Mapping[str, Any]], Any]:
        """A function of a flat event, bound to one cache per group, returning (the rules its cached
        classes match, the groups whose class is not cached or None, every group's key). The same work as
        `cells()` and each group's `key`, written out as straight-line code (a call per field and per
        group costs more than the lookups themselves)."""
        if self._source is None:
            self._source, self._constants = self._generate()
        namespace: dict[str, Any] = dict(self._constants)
        namespace.update({f"G{number}": cache.get for number, cache in enumerate(caches)})
        exec(compile(self._source, "<classes>", "exec"), namespace)
        return namespace["lookup"]  # type: ignore[no-any-return]

    _source: str | None = None
    _constants: dict[str, Any]

    def _generate(self) -> tuple[str, dict[str, Any]]:
        constants: dict[str, Any] = {"A": ABSENT, "O": OTHER}
        lines = ["def lookup(flat):", "    get = flat.get"]
        for number, field in enumerate(self.fields):
            constants[f"F{number}"] = field.cell
            lines.append(f"    v = get({field.path!r})")
            kinds = {kind for kind, _ in field.values}
            if field.cuts is None and not kinds:  # tested for presence only
                lines.append(f"    c{number} = A if v is None else O")
            elif field.cuts is None and len(kinds) == 1:
                (kind,) = kinds
                constants[f"T{number}"] = {value: (kind, value) for kind, value in field.values}
                constants[f"K{number}"] = kind
                lines.append(f"    c{number} = A if v is None else (T{number}.get(v, O) if v.__class__ is K{number} "
                             f"else F{number}(v))")
            elif field.cuts is not None and all(isinstance(cut, int) for cut in field.cuts):
                low, high = field.cuts[0] - 2, field.cuts[-1] + 2
                if high - low <= 1000:  # small whole numbers: their cells, computed once
                    constants[f"N{number}"] = {value: field.cell(value) for value in range(low, high + 1)}
                    lines.append(f"    c{number} = A if v is None else (N{number}.get(v) if v.__class__ is int "
                                 f"else None)")
                    lines.append(f"    if c{number} is None: c{number} = F{number}(v)")
                else:
                    lines.append(f"    c{number} = A if v is None else F{number}(v)")
            else:
                lines.append(f"    c{number} = A if v is None else F{number}(v)")
        lines.append("    m = []")
        lines.append("    x = None")
        for number, group in enumerate(self.groups):
            lines.append(f"    k{number} = (" + "".join(f"c{index}, " for index in group.fields) + ")")
            lines.append(f"    f = G{number}(k{number})")
            lines.append("    if f is None:")
            lines.append(f"        x = [{number}] if x is None else x + [{number}]")
            lines.append("    elif f:")
            lines.append("        m += f")
        lines.append("    return m, x, (" + "".join(f"k{number}, " for number in range(len(self.groups))) + ")")
        return "\n".join(lines) + "\n", constants


def _fields(atoms: Iterable[Atom]) -> list[Field] | None:
    """Each field the atoms test, with the cut points or values they name; None if one cannot be cut."""
    by_path: dict[str, list[Atom]] = {}
    for atom in atoms:
        by_path.setdefault(atom[0], []).append(atom)
    fields = []
    for path in sorted(by_path):
        tests = by_path[path]
        compared = [value for _, op, value in tests if op not in ("ex", "nex")]
        if compared and all(_number(value) for value in compared):
            cuts = sorted({float(value) if isinstance(value, Decimal) else value for value in compared})
            fields.append(Field(path, tuple(cuts), frozenset()))
        elif any(op in _ORDERING for _, op, _ in tests):
            return None
        else:
            fields.append(Field(path, None, frozenset(_typed(value) for value in compared)))
    return fields


def _fields_of(terms: Iterable[Term]) -> frozenset[str]:
    return frozenset(atom[0] for term in terms for atom in term)


def _grouped(rules: list[tuple[int, Sequence[Term]]]) -> list[list[tuple[int, Sequence[Term]]]]:
    """Rules joined to the first group whose fields hold all of theirs, widest rules first."""
    groups: list[tuple[frozenset[str], list[tuple[int, Sequence[Term]]]]] = []
    for rule in sorted(rules, key=lambda item: (-len(_fields_of(item[1])), item[0])):
        fields = _fields_of(rule[1])
        for group_fields, members in groups:
            if fields <= group_fields:
                members.append(rule)
                break
        else:
            groups.append((fields, [rule]))
    return [members for _, members in groups]


def _group(members: list[tuple[int, Sequence[Term]]], position: Mapping[str, int]) -> Group:
    terms = [term for _, rule_terms in members for term in rule_terms]
    fields = tuple(sorted((position[path] for path in _fields_of(terms))))
    return Group(tuple(sorted(index for index, _ in members)), fields)


