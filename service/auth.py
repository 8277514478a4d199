"""API keys: who may call /v1/*, with which scope, and how often.

Keys come from the environment (or files mounted from a Kubernetes Secret), each
with a name that appears in logs instead of the key:

    RECOVERY_API_KEYS="crm:k3y-one,zendesk-bot:k3y-two"      scope: decide
    RECOVERY_SIMULATE_KEYS="cx-analysts:s1m-k3y"              scopes: decide and simulate
    RECOVERY_ADMIN_KEYS="ops:adm1n-k3y"                       scopes: decide, simulate and admin
    RECOVERY_AI_AGENT_KEYS="fin-bot:a1-k3y"                   scopes: decide and ai_agent (the ruleset's
                                                              `ai_agent` profile: stricter limits)
    RECOVERY_API_KEYS_FILE=/etc/recovery/api-keys             same format, one entry per line or comma

With no key configured at all, /v1/* is open (a warning is logged at start).
Keys are compared by their SHA-256 digest, so lookup time does not depend on how
many leading characters of a guess are right. Rate limits are per key and per
worker process (moving window, 429 with Retry-After); wrong keys are limited per
client address (`FailureLimiter`), so guessing costs a minute per few dozen tries.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal

from limits import RateLimitItemPerMinute, storage, strategies

Scope = Literal["decide", "simulate", "admin", "ai_agent"]


class KeyConfigError(ValueError):
    """A key entry is malformed; the message names the entry's position, never the key."""


@dataclass(frozen=True)
class Principal:
    name: str
    scopes: frozenset[str]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def parse_entries(text: str, source: str) -> list[tuple[str, str]]:
    entries = []
    for position, raw in enumerate(text.replace("\n", ",").split(","), start=1):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        name, sep, key = entry.partition(":")
        name, key = name.strip(), key.strip()
        if not sep or not name or not key:
            raise KeyConfigError(f"{source}: entry {position} is not `name:key`")
        if len(key) < 16:
            raise KeyConfigError(f"{source}: the key named {name!r} is shorter than 16 characters")
        if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise KeyConfigError(f"{source}: key name {name!r} may hold letters, digits, '-', '_' and '.'")
        entries.append((name, key))
    return entries


class KeyStore:
    def __init__(self, decide: Iterable[tuple[str, str]], admin: Iterable[tuple[str, str]],
                 simulate: Iterable[tuple[str, str]] = (), ai_agent: Iterable[tuple[str, str]] = ()):
        self._by_digest: dict[bytes, Principal] = {}
        for name, key in ai_agent:
            self._add(name, key, frozenset({"decide", "ai_agent"}))
        for name, key in decide:
            self._add(name, key, frozenset({"decide"}))
        for name, key in simulate:
            self._add(name, key, frozenset({"decide", "simulate"}))
        for name, key in admin:
            self._add(name, key, frozenset({"decide", "simulate", "admin"}))

    def _add(self, name: str, key: str, scopes: frozenset[str]) -> None:
        digest = _digest(key)
        if digest in self._by_digest:
            raise KeyConfigError(f"the keys named {self._by_digest[digest].name!r} and {name!r} are the same")
        self._by_digest[digest] = Principal(name, scopes)

    @property
    def enabled(self) -> bool:
        return bool(self._by_digest)

    def __len__(self) -> int:
        return len(self._by_digest)

    def lookup(self, key: str) -> Principal | None:
        return self._by_digest.get(_digest(key))

    @classmethod
    def from_settings(cls, api_keys: str, admin_keys: str, api_keys_file: Path | None,
                      admin_keys_file: Path | None, simulate_keys: str = "", ai_agent_keys: str = "") -> "KeyStore":
        decide = parse_entries(api_keys, "RECOVERY_API_KEYS")
        admin = parse_entries(admin_keys, "RECOVERY_ADMIN_KEYS")
        simulate = parse_entries(simulate_keys, "RECOVERY_SIMULATE_KEYS")
        ai_agent = parse_entries(ai_agent_keys, "RECOVERY_AI_AGENT_KEYS")
        if api_keys_file is not None:
            decide += parse_entries(api_keys_file.read_text(), "RECOVERY_API_KEYS_FILE")
        if admin_keys_file is not None:
            admin += parse_entries(admin_keys_file.read_text(), "RECOVERY_ADMIN_KEYS_FILE")
        return cls(decide, admin, simulate, ai_agent)


class RateLimiter:
    """Per-key requests per minute in this worker; 0 turns it off."""

    def __init__(self, per_minute: int):
        self.item = RateLimitItemPerMinute(per_minute) if per_minute > 0 else None
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def retry_after(self, name: str) -> int | None:
        """None when the request may go ahead, else seconds to wait."""
        if self.item is None or self._limiter.hit(self.item, name):
            return None
        return self._wait(name)

    def _wait(self, name: str) -> int:
        reset = self._limiter.get_window_stats(self.item, name).reset_time  # type: ignore[arg-type]
        return max(1, math.ceil(reset - time.time()))


class FailureLimiter(RateLimiter):
    """Wrong-key attempts per client address in this worker; 0 turns it off.

    Once an address is over its budget, every /v1 request from it gets 429 until the window
    moves on, whatever key it sends: answering a right guess differently from a wrong one
    would let the guessing go on at full speed. Behind a proxy, set
    RECOVERY_FORWARDED_ALLOW_IPS so the address is the client's, not the proxy's.
    """

    def blocked(self, address: str) -> int | None:
        """Seconds to wait when `address` is over its budget, else None (counts nothing)."""
        if self.item is None or self._limiter.test(self.item, address):
            return None
        return self._wait(address)

    def failed(self, address: str) -> None:
        if self.item is not None:
            self._limiter.hit(self.item, address)
