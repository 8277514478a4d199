"""What to say: apology, explanation and agent note, rendered from the ruleset's templates.

The ruleset's `messages:` holds texts per locale with {placeholders}
(`service.engine.templates` lists which each text may use, and the loader checks them,
so rendering cannot fail). The locale is `context.locale` when the ruleset has texts
for it (an exact tag, else the same language), otherwise the default locale, and the
decision says so. A text missing in one locale falls back to the default locale's.
Money is formatted for the locale with CLDR data (Babel).

Rendering depends only on the decision and the ruleset, so it is as deterministic as
the decision itself.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Callable, Mapping

from babel import Locale, UnknownLocaleError
from babel import numbers as babel_numbers
from babel.core import get_global

from ..engine.loader import RulesetDef
from ..engine.schema import LocaleTexts, Messages, NoteTexts

#: The texts used when a ruleset declares no `messages:` (English, plain).
BUILTIN = Messages.model_validate({"default_locale": "en", "locales": {"en": {
    "apology": {"standard": "We are sorry about the {failure}.",
                "sincere": "We are truly sorry about the {failure}; this should not have happened.",
                "personal": "I am personally sorry about the {failure}, and I will see it put right.",
                "customer_caused": "We are sorry for the trouble with the {failure}, and we are here to help."},
    "explanation": {"provider": "The {failure} was our mistake.",
                    "customer": "We looked into the {failure}: here is what happened and how to avoid it.",
                    "third_party": "The {failure} happened at a partner we work with; we own putting it right.",
                    "unknown": "We are still finding out what caused the {failure}, and will tell you."},
    "agent_note": {
        "header": "Service recovery: {failure}, severity {severity}.",
        "owed": "- Owed ({kind}): {amount}, {basis}",
        "not_assessed": "- Not assessed: {what}",
        "refund": "- Refund {amount}",
        "credit": "- Store credit {amount}, valid {days} days",
        "discount": "- {percent}% off the next order, valid {days} days",
        "replacement": "- {replacement}",
        "alternatives": "Recommended: {recommended}; the customer may choose instead: {options}.",
        "no_compensation": "Offer: no compensation ({reason}).",
        "apology": "Apologise ({who}), and explain what happened.",
        "respond": "Respond within {minutes} minutes.",
        "follow_up": "Follow up within {hours} hours.",
        "approval": "Approval: a {who} must approve before you offer this ({reasons}).",
        "offer_now": "You may offer now: {items}.",
        "no_approval": "Approval: not needed, you can offer this yourself.",
        "review": "Flag the case for a root-cause review.",
        "footer": "Decision {decision_id} (ruleset {ruleset} {version})."}}}})

_PROBES = (Decimal("0"), Decimal("7.5"), Decimal("12"), Decimal("999.99"), Decimal("1234.5"), Decimal("12345.67"),
           Decimal("1234567.89"), Decimal("100000"))


class MoneyFormat:
    """Formats amounts of one currency for one locale as Babel's `format_currency` does, without its
    per-call cost: the CLDR pattern and symbols are read once. It checks itself against Babel on probe
    amounts and uses Babel directly where the two would differ."""

    def __init__(self, locale: Locale, currency: str):
        self.locale = locale
        self.currency = currency
        pattern = locale.currency_formats["standard"]
        symbol = babel_numbers.get_currency_symbol(currency, locale)
        self.prefix = pattern.prefix[0].replace("¤", symbol)
        self.suffix = pattern.suffix[0].replace("¤", symbol)
        self.primary, self.secondary = pattern.grouping
        symbols = locale.number_symbols["latn"]
        self.decimal = symbols["decimal"]
        self.group = symbols["group"]
        digits = babel_numbers.get_currency_precision(currency)
        self.quantum = Decimal(1).scaleb(-digits)
        self.fast = pattern.scale == 0 and not pattern.exp_prec and all(
            self._fast(probe) == self._babel(probe) for probe in _PROBES)

    def _babel(self, amount: Decimal) -> str:
        return str(babel_numbers.format_currency(amount, self.currency, locale=self.locale))

    def _fast(self, amount: Decimal) -> str:
        text = f"{amount.quantize(self.quantum, rounding=ROUND_HALF_EVEN):f}"
        whole, _, fraction = text.partition(".")
        if len(whole) > self.primary:
            groups = [whole[-self.primary:]]
            rest = whole[:-self.primary]
            while rest:
                groups.append(rest[-self.secondary:])
                rest = rest[:-self.secondary]
            whole = self.group.join(reversed(groups))
        number = whole + (self.decimal + fraction if fraction else "")
        return self.prefix + number + self.suffix

    def __call__(self, amount: Decimal) -> str:
        return self._fast(amount) if self.fast else self._babel(amount)


def _likely_script(locale: Locale) -> str | None:
    """The script a locale is usually written in (CLDR likely subtags: zh-TW is Hant, zh-CN is Hans)."""
    likely = get_global("likely_subtags")
    for key in (f"{locale.language}_{locale.territory}" if locale.territory else None, locale.language):
        if key and key in likely:
            parts = likely[key].split("_")
            return parts[1] if len(parts) > 2 else None
    return None


@dataclass
class _Locale:
    tag: str
    babel: Locale
    texts: LocaleTexts


class _Template:
    """One text, ready to fill: capitalised up front when it starts with words, at fill time when it starts
    with a placeholder."""

    __slots__ = ("text", "late")

    def __init__(self, text: str):
        self.late = text.startswith("{")
        self.text = text if self.late or not text[:1].islower() else text[:1].upper() + text[1:]

    def fill(self, values: Mapping[str, Any]) -> str:
        out = self.text.format_map(values)
        return out[:1].upper() + out[1:] if self.late and out[:1].islower() else out


_NOTE_SLOTS = tuple(NoteTexts.model_fields)


class _Texts:
    """A locale's texts with the default locale's filling the gaps, resolved once."""

    def __init__(self, texts: LocaleTexts, default: LocaleTexts):
        def pick(get: Callable[[LocaleTexts], Any]) -> Any:
            value = get(texts)
            return get(default) if value is None else value

        def template(get: Callable[[LocaleTexts], str | None]) -> _Template | None:
            value = pick(get)
            return None if value is None else _Template(value)

        self.apology = {level: template(lambda t, level=level: getattr(t.apology, level))
                        for level in ("standard", "sincere", "personal")}
        self.customer_caused = template(lambda t: t.apology.customer_caused)
        self.explanation = {cause: template(lambda t, cause=cause: getattr(t.explanation, cause))
                            for cause in ("provider", "customer", "third_party", "unknown")}
        self.note = {slot: template(lambda t, slot=slot: getattr(t.agent_note, slot)) for slot in _NOTE_SLOTS}
        self.labels = {table: {**getattr(default, table), **getattr(texts, table)}
                       for table in ("failure_types", "replacements", "levels", "owed_kinds", "alternatives")}

    def label(self, table: str, key: str) -> str:
        found = self.labels[table].get(key)
        return found if found is not None else key.replace("_", " ")


class Renderer:
    """The messages of one ruleset revision."""

    def __init__(self, ruleset: RulesetDef):
        messages = ruleset.messages or BUILTIN
        self.ruleset = ruleset
        self.default = messages.default_locale
        self.locales = {tag: _Locale(tag, Locale.parse(tag, sep="-"), texts)
                        for tag, texts in messages.locales.items()}
        default = messages.locales[self.default]
        self.texts = {tag: _Texts(texts, default) for tag, texts in messages.locales.items()}
        self._by_lower = {tag.lower(): tag for tag in self.locales}
        self._by_language: dict[tuple[str, str | None], str] = {}
        for tag, item in self.locales.items():
            self._by_language.setdefault((item.babel.language, item.babel.script), tag)
        self._picked: dict[str, tuple[str, bool]] = {}
        self._formats: dict[tuple[str, str], MoneyFormat] = {}

    def pick(self, requested: str | None) -> tuple[str, bool]:
        """The locale to render in, and whether that is a fallback: an exact tag, else the same language
        in the same script (en-GB gets en; zh-TW, written in traditional characters, does not get zh-CN),
        else the default locale (a fallback)."""
        if requested is None:
            return self.default, False
        key = requested.lower()
        found = self._picked.get(key)
        if found is None:
            found = self._pick(requested)
            if len(self._picked) < 1024:
                self._picked[key] = found
        return found

    def _pick(self, requested: str) -> tuple[str, bool]:
        exact = self._by_lower.get(requested.lower())
        if exact is not None:
            return exact, False
        try:
            wanted = Locale.parse(requested, sep="-")
        except (ValueError, TypeError, UnknownLocaleError):
            return self.default, True
        script = wanted.script or _likely_script(wanted)
        for (language, theirs), tag in self._by_language.items():
            if language == wanted.language and (theirs or _likely_script(self.locales[tag].babel)) == script:
                return tag, False
        return self.default, True

    def money(self, tag: str, amount: Decimal, currency: str) -> str:
        key = (tag, currency)
        formatter = self._formats.get(key)
        if formatter is None:
            formatter = self._formats[key] = MoneyFormat(self.locales[tag].babel, currency)
        return formatter(amount)

    def render(self, decision: Mapping[str, Any], flat: Mapping[str, Any]) -> dict[str, Any]:
        requested = flat.get("context.locale")
        tag, fallback = self.pick(requested)
        texts = self.texts[tag]
        ruleset = self.ruleset
        mix = decision["mix"]
        root_cause = flat["failure.root_cause"]
        failure_type = flat["failure.type"]
        currency = decision["estimated_cost"]["currency"] if decision["estimated_cost"] else ""
        common = {"failure": texts.label("failure_types", failure_type), "failure_type": failure_type,
                  "severity": flat["failure.severity"], "decision_id": decision["decision_id"],
                  "ruleset": ruleset.meta.name, "version": ruleset.meta.version, "currency": currency}
        level = mix["apology"]["level"]
        apology = None
        if level != "none":
            template = (texts.customer_caused if root_cause == "customer" else None) or texts.apology[level]
            apology = None if template is None else template.fill(common)
        explanation = None
        if mix["apology"]["explanation"]:
            template = texts.explanation[root_cause]
            explanation = None if template is None else template.fill(common)
        note = self._note(tag, texts, decision, common)
        out: dict[str, Any] = {"locale": tag, "apology": apology, "explanation": explanation, "agent_note": note}
        if requested is not None:
            out["requested_locale"] = requested
            out["fallback"] = fallback
        return out

    def _note(self, tag: str, texts: _Texts, decision: Mapping[str, Any], common: dict[str, Any]) -> str:
        lines: list[str] = []
        note = texts.note

        def line(slot: str, **extra: Any) -> None:
            template = note[slot]
            if template is not None:
                lines.append(template.fill({**common, **extra} if extra else common))

        def money(value: Mapping[str, str]) -> str:
            return self.money(tag, Decimal(value["amount"]), value["currency"])

        mix = decision["mix"]
        line("header")
        for owed in decision["owed"]:
            line("owed", amount=money(owed["amount"]), basis=owed["basis"],
                 kind=texts.label("owed_kinds", owed["kind"]))
        for item in decision["not_assessed"]:
            line("not_assessed", what=item["what"])
        offer = False
        if mix["refund"]:
            offer = True
            line("refund", amount=money(mix["refund"]))
        if mix["credit"]:
            offer = True
            line("credit", amount=money(mix["credit"]), days=mix["credit"]["expires_in_days"])
        if mix["discount"]:
            offer = True
            line("discount", percent=mix["discount"]["percent"], days=mix["discount"]["valid_days"])
        if mix.get("replacement"):
            offer = True
            replacement = mix["replacement"]
            value = money(replacement["value"]) if replacement.get("value") else ""
            line("replacement", replacement=texts.label("replacements", replacement["kind"]), value=value)
        if not offer and not decision["owed"]:
            line("no_compensation", reason=decision["justice"]["distributive"].get("reason") or "")
        alternatives = decision["alternatives"]
        if len(alternatives) > 1:
            def name(item: Mapping[str, Any]) -> str:
                return texts.labels["alternatives"].get(item["id"]) or item["description"]

            recommended = next(item for item in alternatives if item["recommended"])
            others = [name(item) for item in alternatives if not item["recommended"]]
            line("alternatives", recommended=name(recommended), options="; ".join(others))
        apology = mix["apology"]
        if apology["level"] != "none":
            line("apology", who=texts.label("levels", apology["from"]))
        procedural = decision["justice"]["procedural"]
        if procedural.get("respond_within_minutes") is not None:
            line("respond", minutes=procedural["respond_within_minutes"])
        if procedural.get("follow_up_within_hours") is not None:
            line("follow_up", hours=procedural["follow_up_within_hours"])
        approval = decision["approval"]
        if approval["required"]:
            approver = approval.get("approver", approval["level"])
            line("approval", who=texts.label("levels", approver), reasons="; ".join(approval["reasons"]))
            now = approval.get("agent_may_offer_now") or {}
            items = [money(now[part]) + f" ({part})" for part in ("refund", "credit") if now.get(part)]
            if now.get("discount"):
                items.append(f"{now['discount']['percent']}%")
            if now.get("replacement"):
                items.append(texts.label("replacements", now["replacement"]["kind"]))
            if items:
                line("offer_now", items=", ".join(items))
        else:
            line("no_approval")
        if decision["process_recovery"]["root_cause_review"]:
            line("review")
        line("footer")
        return "\n".join(lines)


_RENDERERS: "OrderedDict[str, Renderer]" = OrderedDict()


def renderer(ruleset: RulesetDef) -> Renderer:
    """The renderer of a ruleset revision, kept for the last few revisions."""
    found = _RENDERERS.get(ruleset.digest)
    if found is None:
        found = Renderer(ruleset)
        _RENDERERS[ruleset.digest] = found
        while len(_RENDERERS) > 8:
            _RENDERERS.popitem(last=False)
    return found
