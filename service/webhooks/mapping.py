"""Applying a mapping: from a parsed delivery to a FailureEvent, or a list of what is missing.

A `Mapping` (loaded and validated by `mapfile`) says, for each event field, where
in the ticket to look: one or more sources tried in order, each with one or more
paths, an optional `values` table and an optional `split`. The first source that
yields a value wins; `default` fills an absent field.

Only ticket fields are read, never the envelope's delivery time or attempt
counter, so a redelivery of the same ticket gives the same event, hence the same
`decision_id`. `apply()` raises `Unmappable` with one entry per problem, each
naming the event field, the ticket paths looked at (and what they held), and the
mapping key and line to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..models import FailureEvent
from . import paths
from .targets import TARGETS, TICKET_ID, NotConvertible, Target, convert, lookup_key

MAX_SHOWN = 80


@dataclass(frozen=True)
class Source:
    paths: tuple[paths.Path, ...]
    split: str | None = None
    values: tuple[tuple[str, Any], ...] | None = None
    """(lookup key, event value) in file order: for a list of tags, the first row found wins."""


@dataclass(frozen=True)
class FieldMap:
    target: str
    sources: tuple[Source, ...]
    default: Any = None
    required: bool = False
    line: int | None = None

    @property
    def key(self) -> str:
        return self.target if self.target in ("ticket_id", "ticket_status") else f"fields.{self.target}"


@dataclass(frozen=True)
class Mapping:
    system: str
    file: str
    ticket_id: FieldMap
    fields: tuple[FieldMap, ...]
    ticket_status: FieldMap | None = None
    """Where the ticket's status is (optional): the ledger records it with each delivery."""

    def field(self, target: str) -> FieldMap | None:
        return next((item for item in self.fields if item.target == target), None)


@dataclass(frozen=True)
class Mapped:
    ticket_id: str
    event: FailureEvent
    found_at: dict[str, str]
    """Event field -> the ticket path its value came from ("default" for a default)."""
    ticket_status: str | None = None


class Unmappable(Exception):
    """The ticket cannot become a valid event; `errors` are {loc, msg, mapping, looked_at}."""

    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        super().__init__("; ".join(error["msg"] for error in errors))


@dataclass
class _Look:
    path: str
    saw: Any = None
    note: str | None = None


def _shown(value: Any) -> Any:
    text = value if isinstance(value, str) else repr(value) if isinstance(value, (list, dict)) else str(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def _elements(raw: Any, split: str | None) -> list[Any]:
    if isinstance(raw, list):
        return [item for item in raw if item is not None and not isinstance(item, (dict, list))]
    if split is not None and isinstance(raw, str):
        parts = raw.split() if split == " " else raw.split(split)
        return [part.strip() for part in parts if part.strip()]
    return [raw]


def _is_absent(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []


class _Resolver:
    def __init__(self, mapping: Mapping, payload: Any):
        self.mapping = mapping
        self.payload = payload
        self.errors: list[dict[str, Any]] = []
        self.found_at: dict[str, str] = {}

    def where(self, item: FieldMap) -> str:
        line = f":{item.line}" if item.line is not None else ""
        return f"{self.mapping.file}{line} `{item.key}`"

    def error(self, item: FieldMap, loc: list[str], message: str, looks: list[_Look]) -> None:
        self.errors.append({
            "loc": loc, "msg": message, "mapping": self.where(item),
            "looked_at": [{"path": look.path, **({"saw": _shown(look.saw)} if look.saw is not None else {}),
                           **({"problem": look.note} if look.note else {})} for look in looks],
        })

    def value(self, item: FieldMap, target: Target, loc: list[str]) -> Any:
        """The field's value, or None (absent); problems are recorded in `errors`."""
        looks: list[_Look] = []
        unconvertible = False
        for source in item.sources:
            for path in source.paths:
                raw = paths.resolve(self.payload, path)
                if _is_absent(raw):
                    looks.append(_Look(path.text))
                    continue
                if isinstance(raw, dict):
                    unconvertible = True
                    keys_shown = ", ".join(sorted(map(str, raw))[:6])
                    looks.append(_Look(path.text, raw, f"an object (keys {keys_shown}): point `from` at one of them"))
                    continue
                if source.values is not None:
                    keys = {lookup_key(element) for element in _elements(raw, source.split)}
                    hit = next((value for key, value in source.values if key in keys), None)
                    if hit is not None:
                        self.found_at[item.target] = path.text
                        return hit
                    looks.append(_Look(path.text, raw, "not listed under `values`"))
                    continue
                candidates = _elements(raw, source.split)
                if len(candidates) != 1:
                    unconvertible = True
                    looks.append(_Look(path.text, raw, "several values: add `values` to pick one"))
                    continue
                try:
                    converted = convert(target, candidates[0])
                except NotConvertible as exc:
                    unconvertible = True
                    looks.append(_Look(path.text, raw, str(exc)))
                    continue
                self.found_at[item.target] = path.text
                return converted
        if unconvertible:
            self.error(item, loc, f"{'.'.join(loc)}: the ticket has a value the mapping cannot use; fix the ticket "
                       f"field or change `{item.key}` in {self.mapping.file}", looks)
            return None
        if item.default is not None:
            self.found_at[item.target] = "default"
            return item.default
        if item.required:
            listed = any(look.saw is not None for look in looks)
            fix = (f"add the ticket's value under `{item.key}.values`, or set `{item.key}.default`" if listed
                   else f"point `{item.key}` at the ticket field that holds it, or set `{item.key}.default`")
            what = "none of the ticket's values is listed in the mapping" if listed else "no value in the ticket"
            self.error(item, loc, f"{'.'.join(loc)}: {what}; {fix} in {self.mapping.file}", looks)
        return None


def apply(mapping: Mapping, payload: Any) -> Mapped:
    """The failure event `payload` maps to; raises Unmappable listing every problem."""
    resolver = _Resolver(mapping, payload)
    ticket_id = resolver.value(mapping.ticket_id, TICKET_ID, ["ticket_id"])
    values: dict[str, Any] = {}
    for item in mapping.fields:
        value = resolver.value(item, TARGETS[item.target], item.target.split("."))
        if value is not None:
            values[item.target] = value
    for money in ("order.amount", "customer.lifetime_value"):
        if f"{money}.amount" in values and f"{money}.currency" not in values:
            resolver.error(mapping.field(f"{money}.amount") or mapping.ticket_id, money.split(".") + ["currency"],
                           f"{money}.currency: the ticket has an amount ({values[f'{money}.amount']}) but no "
                           f"currency; map `fields.{money}.currency` or give it a `default` in {mapping.file}", [])
    if resolver.errors or ticket_id is None:
        raise Unmappable(resolver.errors)
    event = _build(mapping.system, str(ticket_id), values)
    status = None
    if mapping.ticket_status is not None:  # a status that cannot be read never makes a ticket unmappable
        status = _Resolver(mapping, payload).value(mapping.ticket_status, TICKET_ID, ["ticket_status"])
    try:
        return Mapped(str(ticket_id), FailureEvent.model_validate(event), resolver.found_at,
                      None if status is None else str(status)[:64])
    except ValidationError as exc:
        raise Unmappable(explain(mapping, resolver.found_at, [
            {"loc": [str(part) for part in error["loc"]], "msg": str(error["msg"]).removeprefix("Value error, ")}
            for error in exc.errors(include_url=False)])) from None


def _build(system: str, ticket_id: str, values: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = {"event_id": f"{system}:{ticket_id}"}
    for target, value in values.items():
        if target.startswith(("order.", "customer.lifetime_value.")) and target.endswith((".amount", ".currency")):
            continue
        node = event
        *parents, leaf = target.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    if "order.amount.amount" in values:
        order = event.setdefault("order", {})
        order["amount"] = {"amount": values["order.amount.amount"], "currency": values["order.amount.currency"]}
    else:
        event.pop("order", None)  # an order id alone is no order: the contract needs its amount
    if "customer.lifetime_value.amount" in values:
        customer = event.setdefault("customer", {})
        customer["lifetime_value"] = {"amount": values["customer.lifetime_value.amount"],
                                      "currency": values["customer.lifetime_value.currency"]}
    return event


def explain(mapping: Mapping, found_at: dict[str, str], errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Contract or catalogue errors on the mapped event, each with the mapping entry that made the value."""
    out = []
    for error in errors:
        loc = [str(part) for part in error["loc"]]
        dotted = ".".join(loc)
        item = mapping.ticket_id if dotted == "event_id" else mapping.field(dotted) or next(
            (field for field in mapping.fields if field.target.startswith(dotted + ".")), None)
        entry: dict[str, Any] = {"loc": loc, "msg": f"{dotted}: {error['msg']}"}
        if item is not None:
            line = f":{item.line}" if item.line is not None else ""
            entry["mapping"] = f"{mapping.file}{line} `{item.key}`"
            if item.target in found_at:
                entry["looked_at"] = [{"path": found_at[item.target]}]
        out.append(entry)
    return out
