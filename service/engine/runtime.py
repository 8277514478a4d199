"""The only module that touches durable_rules: one `Engine` per ruleset revision.

durable-rules 2.0.28 is driven through its C binding (`durable_rules_engine`)
directly, which is both faster than its Python `Host` and sidesteps the hazards
that Host carries (each reproduced on these machines, see docs/engine.md and
tests/engine/test_hazards.py):

- No `Host`, so no timer threads that call `start_action()` every 0.2 s and steal
  the action of a session just asserted (lost results, segfaults under threads).
- Facts, not events: `assert_fact` fires every matching rule.
- One session (`sid` "0") per shard, reused: the fact is retracted after each
  evaluation instead of creating sessions (at most 1,024 live ones, 235 KiB to
  12 MiB each) or deleting them (which can free uninitialised memory).
- No Python actions at all: the matched rule names are read from the action
  queue and the queue is drained, so nothing runs inside the engine, no
  exception can be swallowed into the state, and the state is never re-asserted
  (no rule can loop on it).
- The session is renewed every `RENEW_EVERY` evaluations (its state deleted under the lock,
  the next assert starts a fresh one): durable_rules keeps something in a session's state for
  every fact asserted even after it is retracted, so a session reused for ever grows (about
  16 MiB per 20,000 evaluations at 1,000 generated rules) and its evaluations slow down (13%
  slower than a fresh engine beside it after 20,000). Renewed, it stays as fast and as small
  as a fresh one (see the table in docs/engine.md).
- The catch-all rule fires for every fact; if it does not, results were lost and
  the evaluation fails loudly instead of returning a partial match.
- The binding holds the GIL; a lock per engine keeps threads from interleaving
  the assert / drain / retract steps of one session.

The network decides each class of events once (`classes.py`: events the compiled tests
cannot tell apart match the same rules, group of rules by group); its answer per group and
class is kept in a bounded cache (oldest class out first, ~6 MiB at most) that lives and
dies with this ruleset revision. An event with a class not seen before in some group goes
through the network, which gives every group its share.
"""

from __future__ import annotations

import itertools
import json
import threading
from decimal import Decimal
from typing import Any, Mapping

import durable_rules_engine as _dre
import orjson

from .compiler import CATCH_ALL, Program

#: Classes of events whose matches an engine keeps, over all its groups (~200 bytes each).
CLASS_CACHE_SIZE = 32768
#: The cache is judged every PROBE events: below MIN_HIT_RATE found in it, the next BYPASS events go
#: straight to the network (when the rules cut the events into more classes than the cache holds).
PROBE = 4096
MIN_HIT_RATE = 0.5
BYPASS = 65536
#: Evaluations per shard after which the session's state is deleted and started afresh.
RENEW_EVERY = 1000
_SID = "0"
_FACT_ID = "e"
_labels = itertools.count()


class EngineError(Exception):
    """The engine failed to build or to evaluate; never caused by a client's event."""


class Engine:
    """A compiled ruleset revision, built once when the rules load."""

    def __init__(self, program: Program, label: str = "ruleset", cache_size: int = CLASS_CACHE_SIZE):
        self._lock = threading.Lock()
        self._classifier = program.classifier if cache_size > 0 else None
        self._groups = self._classifier.groups if self._classifier is not None else ()
        self._caches: list[dict[Any, tuple[int, ...]]] = [{} for _ in self._groups]
        self._per_group = max(256, cache_size // max(1, len(self._groups)))
        self._lookup = self._classifier.lookup(self._caches) if self._classifier is not None else None
        self._bypass = 0
        self.cache_hits = 0    # in the current probe
        self.cache_misses = 0
        self.matches = 0       # since the engine was built: every match, and those the cache answered
        self.answered = 0
        self.probes: list[float] = []  # the share of events found in the cache, per probe (the last few)
        self._keys = program.keys
        self._always = program.always
        self._shards: list[tuple[int, dict[str, int]]] = []
        self._closed = False
        self._since_renewal = 0
        self.rule_count = program.rule_count
        try:
            for number, shard in enumerate(program.shards):
                name = f"{label}-{next(_labels)}-{number}"
                handle = _dre.create_ruleset(name, json.dumps(shard.definition))
                self._shards.append((handle, shard.names))
        except _dre.error as exc:
            self.close()
            raise EngineError(f"durable_rules refused the compiled ruleset: {exc}") from exc

    @property
    def shard_count(self) -> int:
        return len(self._shards)

    @property
    def cached_classes(self) -> int:
        """How many classes of events the cache holds now (0 while it is bypassed)."""
        return sum(len(cache) for cache in self._caches)

    def fact(self, flat: Mapping[str, Any]) -> str:
        fact: dict[str, Any] = {"sid": _SID, "id": _FACT_ID}
        for path, key in self._keys:
            value = flat.get(path)
            if value is not None:
                fact[key] = float(value) if isinstance(value, Decimal) else value
        return orjson.dumps(fact).decode()

    def match(self, flat: Mapping[str, Any]) -> list[int]:
        """Indexes of the rules whose condition holds for the flat event, ascending."""
        self.matches += 1
        lookup = self._lookup
        if lookup is None or self._bypass:
            return self._uncached(flat)
        if self._closed:
            raise EngineError("this ruleset revision has been retired")
        matched, missing, keys = lookup(flat)
        if missing is None:
            self.cache_hits += 1
            self.answered += 1
        else:
            self.cache_misses += 1
            full = set(self.evaluate(flat))  # the Rete network decides; each group keeps its share
            groups = self._groups
            for number in missing:
                cache = self._caches[number]
                found = tuple(index for index in groups[number].rules if index in full)
                if len(cache) >= self._per_group:
                    try:
                        del cache[next(iter(cache))]  # the oldest class out first
                    except (KeyError, RuntimeError, StopIteration):
                        pass  # another thread changed it meanwhile
                cache[keys[number]] = found
                matched += found
        if self._always:
            matched += self._always
        matched.sort()
        if self.cache_hits + self.cache_misses >= PROBE:
            self._judge()
        return matched

    def _uncached(self, flat: Mapping[str, Any]) -> list[int]:
        if self._bypass:
            self._bypass -= 1  # at 0, the next event starts a new probe with empty caches
        return self.evaluate(flat)

    def _judge(self) -> None:
        """After a probe of `PROBE` events: keep caching when most events were found in it, else go
        straight to the network for the next `BYPASS` events (the lookups would only add to its cost)."""
        hits, self.cache_hits, self.cache_misses = self.cache_hits, 0, 0
        self.probes.append(round(hits / PROBE, 3))
        del self.probes[:-8]
        if hits < PROBE * MIN_HIT_RATE:
            self._bypass = BYPASS
            # Classes that did not repeat are only memory (at 1,000 generated rules the full cache is
            # about 5 MiB): let go of it while it goes unused; the next probe starts empty.
            for cache in self._caches:
                cache.clear()

    def evaluate(self, flat: Mapping[str, Any]) -> list[int]:
        """The Rete network's match for the flat event, never from the cache."""
        fact = self.fact(flat)
        matched: set[int] = set(self._always)
        with self._lock:
            if self._closed:
                raise EngineError("this ruleset revision has been retired")
            for handle, names in self._shards:
                self._evaluate(handle, names, fact, matched)
            self._since_renewal += 1
            if self._since_renewal >= RENEW_EVERY:
                self._since_renewal = 0
                for handle, _ in self._shards:
                    self._reset(handle)  # every fact was handled and retracted: nothing is lost
        return sorted(matched)

    def _evaluate(self, handle: int, names: dict[str, int], fact: str, matched: set[int]) -> None:
        caught = False
        try:
            result, state = _dre.assert_fact(handle, fact)
            if result != 0:
                raise EngineError(f"durable_rules did not handle the fact (result {result})")
            action = _dre.start_action_for_state(handle, state)
            message = None if action is None else action[1]
            while message is not None:
                name = message[2:message.index('"', 2)]
                index = names.get(name)
                if index is not None:
                    matched.add(index)
                elif name == CATCH_ALL:
                    caught = True
                message = _dre.complete_and_start_action(handle, state)
            _dre.retract_fact(handle, fact)
        except (_dre.error, EngineError, ValueError) as exc:
            self._reset(handle)
            raise EngineError(f"evaluation failed: {exc}") from exc
        if not caught:
            self._reset(handle)
            raise EngineError("the catch-all rule did not fire: results were lost")

    @staticmethod
    def _reset(handle: int) -> None:
        # Safe: every fact asserted here was handled (the catch-all matches it).
        try:
            _dre.delete_state(handle, _SID)
        except _dre.error:
            pass

    def close(self) -> None:
        """Free the engine's memory; evaluations after this raise EngineError."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for cache in self._caches:
                cache.clear()
            shards, self._shards = self._shards, []
            for handle, _ in shards:
                self._reset(handle)
                try:
                    _dre.delete_ruleset(handle)
                except _dre.error:
                    pass
