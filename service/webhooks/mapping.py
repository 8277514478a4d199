"""Applying a mapping: from a parsed delivery to a FailureEvent, or a list of what is missing.

A `Mapping` (loaded and validated by `mapfile`) says, for each event field, where
in the ticket to look: one or more sources tried in order, each with one or more
paths, an optional `values` table and an optional `split`. Then the ticket's own
words: the phrase sets of `signals` read the texts the mapping names. The order
of precedence, for each field:

1. the first structured source that yields a value (a tag, a dropdown, a priority);
2. else the first phrase set row found in the text (`signals.PhraseSet.first`);
3. else the field's `default`;
4. else, for a required field, a problem naming the mapping entry to change.

A severity cue is the one exception: it only raises (a ticket at normal priority
whose customer writes "it caught fire" is severity 5), never lowers.

`Mapped.account` says for each event field how it was set (`field`, `text`,
`default`, `order`), which the webhook answer and its explain show. Only ticket
fields are read, never the envelope's delivery time or attempt counter, so a
redelivery of the same ticket gives the same event, hence the same `decision_id`.
`apply()` raises `Unmappable` with one entry per problem, each naming the event
field, the ticket paths looked at (and what they held), and the mapping key and
line to change.

A ServiceNow Table-API value is an object `{"value": "2", "display_value": "2 - High"}`:
it is read as its value, and a `values` table may list either form.
"""

from __future__ import annotations

import functools
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from typing import Mapping as TypingMapping

from pydantic import BaseModel, ValidationError

from ..engine.findings import Finding
from ..models import FailureEvent
from . import paths, signals
from .targets import (CURRENCY_FROM_ORDER, FACT, FACTS, MONEY, RAISED_BY_TEXT, TARGETS, TICKET_ID, NotConvertible, Target,
                      convert, fact_target, lookup_key)

MAX_SHOWN = 80
_SERVICENOW_KEYS = frozenset({"value", "display_value", "link"})
_MONEY_LABELS = {"order.amount": "Order amount", "customer.lifetime_value": "Lifetime value",
                 "failure.amount_at_stake": "Amount at stake"}


@dataclass(frozen=True)
class Source:
    paths: tuple[paths.Path, ...]
    split: str | None = None
    values: tuple[tuple[str, Any], ...] | None = None
    """(lookup key, event value) in file order: for a list of tags, the first row found wins."""
    band: bool = False
    """The values are a band's lower bound (a tag `order_value_500_plus`), stated as such."""


@dataclass(frozen=True)
class FieldMap:
    target: str
    sources: tuple[Source, ...]
    default: Any = None
    required: bool = False
    line: int | None = None

    @property
    def key(self) -> str:
        if self.target in ("ticket_id", "ticket_status") or self.target.startswith("writeback."):
            return self.target
        return f"fields.{self.target}"


@dataclass(frozen=True)
class Mapping:
    system: str
    file: str
    ticket_id: FieldMap
    fields: tuple[FieldMap, ...]
    ticket_status: FieldMap | None = None
    """Where the ticket's status is (optional): the ledger records it with each delivery."""
    root: tuple[paths.Path, ...] = ()
    """Every path is read inside the first of these that holds an object (none: the whole delivery)."""
    texts: tuple[paths.Path, ...] = ()
    """Where the customer's own words are (subject, description), read by the phrase sets."""
    phrases: tuple[signals.PhraseSet, ...] = ()
    writeback: dict[str, FieldMap] = field(default_factory=dict)
    """`record` (the id the vendor's API takes; default the ticket id) and, for ServiceNow, `table`."""
    shared_files: tuple[str, ...] = ()
    """Phrase files this mapping read (the store re-reads it when one changes)."""
    warnings: tuple[Finding, ...] = ()

    def field(self, target: str) -> FieldMap | None:
        return next((item for item in self.fields if item.target == target), None)

    def phrase_set(self, target: str) -> signals.PhraseSet | None:
        return next((item for item in self.phrases if item.target == target), None)


@dataclass(frozen=True)
class Mapped:
    ticket_id: str
    event: FailureEvent
    found_at: dict[str, str]
    """Event field -> the ticket path its value came from ("default" for a default)."""
    account: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Event field -> how it was set: {"by": "field"|"text"|"default"|"order", ...}."""
    record: dict[str, str] = field(default_factory=dict)
    """Where the vendor's API finds the ticket: {"id": ...} and, for ServiceNow, {"table": ...}."""
    caveats: tuple[str, ...] = ()
    """What the agent must know about the values read (an amount that is only a band's lower bound)."""
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


@dataclass
class _Found:
    value: Any
    account: dict[str, Any]
    path: str


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


def _servicenow_value(raw: dict[str, Any]) -> tuple[Any, list[Any]] | None:
    """(the value to convert, every form a `values` table may list) of a Table API field object:
    {value, display_value} (sysparm_display_value=all) or a reference {value, link}."""
    if not set(raw) <= _SERVICENOW_KEYS or not ({"display_value", "link"} & set(raw)):
        return None
    forms = [raw[key] for key in ("value", "display_value") if not _is_absent(raw.get(key))]
    return (forms[0] if forms else None), forms


@functools.cache
def model_has(dotted: str) -> bool:
    """Whether the service's FailureEvent model has the field `dotted` (e.g. failure.value_received)."""
    if dotted.startswith(FACTS):
        return "facts" in FailureEvent.model_fields
    model: type[BaseModel] | None = FailureEvent
    for part in dotted.split("."):
        if model is None or part not in model.model_fields:
            return False
        model = _model_in(model.model_fields[part].annotation)
    return True


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _model_field(target: str) -> str:
    for money in MONEY:
        if target.startswith(money + "."):
            return money
    return target


class _Resolver:
    def __init__(self, mapping: Mapping, payload: Any):
        self.mapping = mapping
        self.root: paths.Path | None = None
        self.base = payload
        for root in mapping.root:
            found = paths.resolve(payload, root)
            if isinstance(found, dict):
                self.root, self.base = root, found
                break
        self.errors: list[dict[str, Any]] = []
        self.found_at: dict[str, str] = {}
        self.account: dict[str, dict[str, Any]] = {}
        self.bands: dict[str, str] = {}

    def where(self, item: FieldMap) -> str:
        line = f":{item.line}" if item.line is not None else ""
        return f"{self.mapping.file}{line} `{item.key}`"

    def error(self, item: FieldMap, loc: list[str], message: str, looks: list[_Look]) -> None:
        self.errors.append({
            "loc": loc, "msg": message, "mapping": self.where(item),
            "looked_at": [{"path": look.path, **({"saw": _shown(look.saw)} if look.saw is not None else {}),
                           **({"problem": look.note} if look.note else {})} for look in looks],
        })

    def texts(self) -> list[tuple[str, str]]:
        out = []
        for path in self.mapping.texts:
            raw = paths.resolve(self.base, path)
            unwrapped = _servicenow_value(raw) if isinstance(raw, dict) else None
            text = signals.plain_text(unwrapped[0] if unwrapped is not None else raw)
            if text:
                out.append((path.under(self.root).text, signals.normalise(text)))
        return out

    def structured(self, item: FieldMap, target: Target) -> tuple[_Found | None, bool, list[_Look]]:
        """The first structured source's value; whether a value could not be used; what was looked at."""
        looks: list[_Look] = []
        unconvertible = False
        for source in item.sources:
            for relative in source.paths:
                path = relative.under(self.root).text
                raw = paths.resolve(self.base, relative)
                forms: list[Any] | None = None
                if isinstance(raw, dict):
                    unwrapped = _servicenow_value(raw)
                    if unwrapped is not None:
                        raw, forms = unwrapped
                if _is_absent(raw):
                    looks.append(_Look(path))
                    continue
                if isinstance(raw, dict):
                    unconvertible = True
                    keys_shown = ", ".join(sorted(map(str, raw))[:6])
                    looks.append(_Look(path, raw, f"an object (keys {keys_shown}): point `from` at one of them"))
                    continue
                if target.kind == "enum_list":  # every element counts, not the first
                    listed = self.every(source, raw, forms, target)
                    if isinstance(listed, str):
                        unconvertible = unconvertible or source.values is None
                        looks.append(_Look(path, raw, listed))
                        continue
                    return _Found(listed, {"by": "field", "path": path, "saw": _shown(raw)}, path), False, looks
                if source.values is not None:
                    elements = forms if forms is not None else _elements(raw, source.split)
                    keys = {lookup_key(element) for element in elements}
                    hit = next(((key, value) for key, value in source.values if key in keys), None)
                    if hit is not None:
                        account: dict[str, Any] = {"by": "field", "path": path, "saw": _shown(raw)}
                        if source.band:
                            account["band"] = "at least"
                            self.bands[item.target] = hit[0]
                        return _Found(hit[1], account, path), False, looks
                    looks.append(_Look(path, raw, "not listed under `values`"))
                    continue
                candidates = _elements(raw, source.split)
                if len(candidates) != 1:
                    unconvertible = True
                    looks.append(_Look(path, raw, "several values: add `values` to pick one"))
                    continue
                try:
                    converted = convert(target, candidates[0])
                except NotConvertible as exc:
                    unconvertible = True
                    looks.append(_Look(path, raw, str(exc)))
                    continue
                return _Found(converted, {"by": "field", "path": path, "saw": _shown(raw)}, path), False, looks
        return None, unconvertible, looks

    @staticmethod
    def every(source: Source, raw: Any, forms: list[Any] | None, target: Target) -> list[str] | str:
        """A list field's values from one source (each element, through `values` when given), or
        why none could be used."""
        elements = forms if forms is not None else _elements(raw, source.split)
        if source.values is not None:
            keys = {lookup_key(element) for element in elements}
            hits = [value for key, value in source.values if key in keys]
            if not hits:
                return "not listed under `values`"
            return convert(target, [item for hit in hits for item in (hit if isinstance(hit, list) else [hit])])
        try:
            return convert(target, elements)
        except NotConvertible as exc:
            return str(exc)

    def value(self, item: FieldMap, target: Target, loc: list[str], texts: list[tuple[str, str]]) -> Any:
        """The field's value by the order of precedence, or None (absent); problems go to `errors`."""
        found, unconvertible, looks = self.structured(item, target)
        if unconvertible and found is None:
            self.error(item, loc, f"{'.'.join(loc)}: the ticket has a value the mapping cannot use; fix the ticket "
                       f"field or change `{item.key}` in {self.mapping.file}", looks)
            return None
        phrase_set = self.mapping.phrase_set(item.target)
        if found is None and phrase_set is not None and item.target not in RAISED_BY_TEXT:
            found = _text_hit(phrase_set, phrase_set.first(texts))
        if found is None and item.default is not None:
            found = _Found(item.default, {"by": "default", "mapping": self.where(item)}, "default")
        if phrase_set is not None and item.target in RAISED_BY_TEXT:
            cue = _text_hit(phrase_set, phrase_set.highest(texts))
            if cue is not None and (found is None or cue.value > found.value):
                if found is not None:
                    cue.account["raised_from"] = {"value": found.value, **found.account}
                found = cue
        if found is None:
            if item.required:
                self.missing(item, loc, looks, phrase_set)
            return None
        self.found_at[item.target] = found.path
        self.account[item.target] = found.account
        return found.value

    def missing(self, item: FieldMap, loc: list[str], looks: list[_Look],
                phrase_set: signals.PhraseSet | None) -> None:
        listed = any(look.saw is not None for look in looks)
        fix = (f"add the ticket's value under `{item.key}.values`, or set `{item.key}.default`" if listed
               else f"point `{item.key}` at the ticket field that holds it, or set `{item.key}.default`")
        if phrase_set is not None:
            fix += f", or add a phrase for it under `{item.target}` ({phrase_set.origin})"
        what = "none of the ticket's values is listed in the mapping" if listed else "no value in the ticket"
        if phrase_set is not None:
            what += " and no listed phrase in its text"
        self.error(item, loc, f"{'.'.join(loc)}: {what}; {fix} in {self.mapping.file}", looks)

    def text_only(self, phrase_set: signals.PhraseSet, texts: list[tuple[str, str]]) -> Any:
        """A field the mapping sets from text alone (a phrase set without a `fields` entry)."""
        hit = phrase_set.highest(texts) if phrase_set.target in RAISED_BY_TEXT else phrase_set.first(texts)
        found = _text_hit(phrase_set, hit)
        if found is None:
            return None
        self.found_at[phrase_set.target] = found.path
        self.account[phrase_set.target] = found.account
        return found.value


def _text_hit(phrase_set: signals.PhraseSet, hit: signals.Hit | None) -> _Found | None:
    if hit is None:
        return None
    return _Found(hit.value, {"by": "text", "path": hit.path, "phrase": hit.phrase, "phrases": phrase_set.origin},
                  hit.path)


def apply(mapping: Mapping, payload: Any, facts: TypingMapping[str, Any] | None = None) -> Mapped:
    """The failure event `payload` maps to; raises Unmappable listing every problem. `facts` are the live
    ruleset's fact declarations, which type the mapping's `facts.<name>` fields."""
    resolver = _Resolver(mapping, payload)
    texts = resolver.texts()
    ticket_id = resolver.value(mapping.ticket_id, TICKET_ID, ["ticket_id"], [])
    values: dict[str, Any] = {}
    money_facts: set[str] = set()
    for item in mapping.fields:
        target = TARGETS.get(item.target)
        if item.target.startswith(FACTS):
            name = item.target[len(FACTS):]
            declared = (facts or {}).get(name)
            if declared is None:
                # Only a ticket that carries the value is refused: rules and mappings change apart.
                if resolver.value(item, FACT, item.target.split("."), texts) is not None:
                    listed = ", ".join(facts or {}) or "none"
                    resolver.error(item, item.target.split("."), f"{item.target}: the live ruleset declares no "
                                   f"fact `{name}` (it declares {listed}); rename or remove `fields.{item.target}` "
                                   f"in {mapping.file}", [])
                continue
            target = fact_target(declared)
            if declared.type == "money":
                money_facts.add(item.target)
        value = resolver.value(item, target, item.target.split("."), texts)
        if value is not None:
            values[item.target] = value
    for phrase_set in mapping.phrases:
        if mapping.field(phrase_set.target) is None:
            value = resolver.text_only(phrase_set, texts)
            if value is not None:
                values[phrase_set.target] = value
    _currencies(mapping, resolver, values)
    record = {key: resolver.value(item, TICKET_ID, ["writeback", key], [])
              for key, item in mapping.writeback.items()}
    if resolver.errors or ticket_id is None:
        raise Unmappable(resolver.errors)
    for target in money_facts:  # a money fact is in the order's currency, as the ruleset requires
        if target in values:
            currency = values.get("order.amount.currency") or values.get("failure.amount_at_stake.currency")
            if currency is None:
                resolver.error(mapping.field(target) or mapping.ticket_id, target.split("."),
                               f"{target}: an amount needs the order's currency; map `fields.order.amount.currency` "
                               f"in {mapping.file}", [])
                continue
            values[target] = {"amount": values[target], "currency": currency}
    if resolver.errors:
        raise Unmappable(resolver.errors)
    account = {target: entry for target, entry in resolver.account.items()
               if target in TARGETS or target.startswith(FACTS)}
    sent = _supported(account, values)
    caveats = tuple(_band_caveat(resolver, money, values) for money in MONEY if f"{money}.amount" in resolver.bands
                    and f"{money}.amount" in sent)
    event = _build(mapping.system, str(ticket_id), sent)
    references = {"id": str(record.get("record") or ticket_id),
                  **({"table": str(record["table"])} if record.get("table") else {})}
    status = None
    if mapping.ticket_status is not None:  # a status that cannot be read never makes a ticket unmappable
        status = _Resolver(mapping, payload).value(mapping.ticket_status, TICKET_ID, ["ticket_status"], [])
    try:
        return Mapped(str(ticket_id), FailureEvent.model_validate(event), resolver.found_at, account, references,
                      caveats, None if status is None else str(status)[:64])
    except ValidationError as exc:
        raise Unmappable(explain(mapping, resolver.found_at, [
            {"loc": [str(part) for part in error["loc"]], "msg": str(error["msg"]).removeprefix("Value error, ")}
            for error in exc.errors(include_url=False)])) from None


def _currencies(mapping: Mapping, resolver: _Resolver, values: dict[str, Any]) -> None:
    for money in MONEY:
        if f"{money}.amount" not in values or f"{money}.currency" in values:
            continue
        if money in CURRENCY_FROM_ORDER and "order.amount.currency" in values:
            values[f"{money}.currency"] = values["order.amount.currency"]
            resolver.account[f"{money}.currency"] = {"by": "order", "path": "order.amount.currency"}
            continue
        resolver.error(mapping.field(f"{money}.amount") or mapping.ticket_id, money.split(".") + ["currency"],
                       f"{money}.currency: the ticket has an amount ({values[f'{money}.amount']}) but no "
                       f"currency; map `fields.{money}.currency` or give it a `default` in {mapping.file}", [])


def _supported(account: dict[str, dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    """The values whose field the service's event model has; the others are marked as not sent."""
    sent = {}
    for target, value in values.items():
        if model_has(_model_field(target)):
            sent[target] = value
        elif target in account:
            account[target] = {**account[target], "sent": False,
                               "reason": f"this service's event model has no `{_model_field(target)}` yet"}
    return sent


def _band_caveat(resolver: _Resolver, money: str, values: dict[str, Any]) -> str:
    amount: Decimal = values[f"{money}.amount"]
    currency = values.get(f"{money}.currency", "")
    saw = resolver.bands[f"{money}.amount"]
    return (f"{_MONEY_LABELS[money]} {format(amount, 'f')} {currency} is the lower bound of a band (the ticket's "
            f"`{saw}`), not the exact amount: check the order before paying.")


def _build(system: str, ticket_id: str, values: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = {"event_id": f"{system}:{ticket_id}"}
    money_parts = {f"{money}.{part}" for money in MONEY for part in ("amount", "currency")}
    for target, value in values.items():
        if target in money_parts:
            continue
        node = event
        *parents, leaf = target.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    for money in MONEY:
        if f"{money}.amount" in values:
            *parents, leaf = money.split(".")
            node = event
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = {"amount": values[f"{money}.amount"], "currency": values[f"{money}.currency"]}
    if "order" in event and "amount" not in event["order"]:
        event.pop("order")  # an order id alone is no order: the contract needs its amount
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
        elif dotted in found_at:
            phrase_set = mapping.phrase_set(dotted)
            if phrase_set is not None:
                entry["mapping"] = f"{phrase_set.origin} `{dotted}`"
            entry["looked_at"] = [{"path": found_at[dotted]}]
        out.append(entry)
    return out
