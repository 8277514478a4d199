"""The live ruleset: load, validate, compile, then swap; the old one keeps serving on failure.

A `Snapshot` is immutable: a request takes one reference and decides with it, so
no request ever sees half a ruleset. `Registry.reload()` builds a complete new
snapshot (durable_rules host included) before it swaps the reference; a bad
change leaves the previous snapshot live and is kept as `last_failure`. Retired
engines are freed after a grace period, and never while work that acquired them
(`acquire()` / `release()`) is still running.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Literal, Mapping

from . import compiler, loader, rulesdir
from .findings import Finding, RulesetInvalid
from .runtime import Engine, EngineError

log = logging.getLogger("service.rules")

RETIRE_GRACE_SECONDS = 30.0


@dataclass(frozen=True)
class Snapshot:
    ruleset: loader.RulesetDef
    engine: Engine
    program: compiler.Program
    loaded_at: datetime

    @property
    def digest(self) -> str:
        return self.ruleset.digest


@dataclass(frozen=True)
class ReloadFailure:
    at: datetime
    findings: tuple[Finding, ...]

    def as_dict(self) -> dict[str, object]:
        return {"at": self.at.isoformat(timespec="seconds"), "findings": [f.as_dict() for f in self.findings]}


@dataclass(frozen=True)
class ReloadResult:
    status: Literal["loaded", "unchanged", "failed"]
    digest: str | None
    findings: tuple[Finding, ...] = ()


def build(ruleset: loader.RulesetDef) -> Snapshot:
    """Compile a validated ruleset into a live snapshot (raises RulesetInvalid)."""
    try:
        program = compiler.compile_ruleset(ruleset)
    except compiler.CompileError as exc:
        rule = exc.rule
        raise RulesetInvalid([Finding("error", "engine-limit", str(exc), rule.file, rule.line, rule.id,
                                      "split the rule into narrower rules")]) from exc
    try:
        engine = Engine(program, label=ruleset.meta.name)
    except EngineError as exc:
        raise RulesetInvalid([Finding("error", "engine", str(exc), None, None, None, None)]) from exc
    return Snapshot(ruleset, engine, program, datetime.now(timezone.utc))


def load_snapshot(directory: str | Path) -> Snapshot:
    return build(loader.load_dir(directory))


@dataclass
class Registry:
    """The live snapshot of one worker.

    Alone, a worker swaps a new ruleset in as soon as it is built (`reload`, `load`). In a
    pod of several workers (`service.pod`) it builds the pod's proposal ahead (`prepare`)
    and swaps it in at the moment the pod decided (`switch`): `current` makes the swap when
    that moment has come, so every worker of the pod answers from the new revision from the
    same instant on. Any failure to load, of any kind, is kept as `last_failure` with its
    findings and reported to `on_reload`; it never escapes.
    """

    directory: Path
    on_reload: Callable[[ReloadResult, "Snapshot | None"], None] | None = None
    _current: Snapshot | None = None
    last_failure: ReloadFailure | None = None
    reloads: dict[str, int] = field(default_factory=lambda: {"loaded": 0, "unchanged": 0, "failed": 0})
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _retired: list[tuple[float, Engine]] = field(default_factory=list)
    _prepared: Snapshot | None = None
    _scheduled: tuple[float, Snapshot] | None = None
    _leases: dict[int, int] = field(default_factory=dict)

    @property
    def current(self) -> Snapshot | None:
        scheduled = self._scheduled
        if scheduled is not None and time.monotonic() >= scheduled[0]:
            self._go_live(scheduled[1])
        return self._current

    def acquire(self) -> Snapshot | None:
        """The live snapshot, kept from being freed until `release()`: for work that spans many
        evaluations (a batch), so all of it is decided by one revision."""
        snapshot = self.current
        if snapshot is not None:
            key = id(snapshot.engine)
            self._leases[key] = self._leases.get(key, 0) + 1
        return snapshot

    def release(self, snapshot: Snapshot | None) -> None:
        if snapshot is None:
            return
        key = id(snapshot.engine)
        left = self._leases.get(key, 1) - 1
        if left > 0:
            self._leases[key] = left
        else:
            self._leases.pop(key, None)

    def reload(self) -> ReloadResult:
        """Read the directory now and swap its ruleset in if it is valid and different."""
        try:
            sources = rulesdir.read(self.directory)
        except RulesetInvalid as exc:
            return self.record_failure(tuple(exc.findings))
        return self.load(sources)

    def load(self, sources: Mapping[str, bytes]) -> ReloadResult:
        """Build the ruleset in `sources` and swap it in if it is valid and different."""
        with self._lock:
            snapshot, result = self._build(sources)
            if snapshot is not None:
                self._swap(snapshot)
        return self._report(result)

    def prepare(self, sources: Mapping[str, bytes]) -> ReloadResult:
        """Build the ruleset in `sources` without serving it yet; `switch()` makes it live."""
        with self._lock:
            snapshot, result = self._build(sources)
            if snapshot is not None:
                previous, self._prepared = self._prepared, snapshot
                if previous is not None and previous is not snapshot:
                    previous.engine.close()  # never served, so nobody holds it
        if result.status == "failed":
            self._report(result)
        return result

    def switch(self, digest: str, at: float) -> bool:
        """Serve the prepared ruleset `digest` from monotonic time `at` on; False if it is not prepared."""
        with self._lock:
            if self._current is not None and self._current.digest == digest:
                return True
            prepared = self._prepared
            if prepared is None or prepared.digest != digest:
                return False
            self._prepared = None
            self._scheduled = (at, prepared)
        self.current  # noqa: B018 - swaps now when `at` has passed
        return True

    def record_failure(self, findings: tuple[Finding, ...]) -> ReloadResult:
        """A version that could not even be read (the directory vanished, a file is unreadable)."""
        return self._report(self._failed(findings))

    def _go_live(self, snapshot: Snapshot) -> None:
        if not self._lock.acquire(blocking=False):
            return  # a reload thread holds it; the next call swaps
        try:
            if self._scheduled is None or self._scheduled[1] is not snapshot:
                return
            self._scheduled = None
            self._swap(snapshot)
        finally:
            self._lock.release()
        self._report(ReloadResult("loaded", snapshot.digest, snapshot.ruleset.warnings))

    def _build(self, sources: Mapping[str, bytes]) -> tuple[Snapshot | None, ReloadResult]:
        live = self._current
        try:
            ruleset = loader.load_sources(sources)
            if live is not None and live.digest == ruleset.digest:
                self.reloads["unchanged"] += 1
                self.last_failure = None
                return None, ReloadResult("unchanged", ruleset.digest, ruleset.warnings)
            if self._prepared is not None and self._prepared.digest == ruleset.digest:
                return self._prepared, ReloadResult("loaded", ruleset.digest, ruleset.warnings)
            snapshot = build(ruleset)
        except RulesetInvalid as exc:
            return None, self._failed(tuple(exc.findings))
        except Exception as exc:  # every failure is a finding: a loader bug must not go unreported
            log.exception("the rules loader failed")
            detail = exc.strerror if isinstance(exc, OSError) else str(exc)
            return None, self._failed((Finding("error", "internal", f"the rules could not be loaded: "
                                                f"{type(exc).__name__}: {detail[:200]}", None, None, None,
                                                "the error is logged; check the file the last change touched"),))
        return snapshot, ReloadResult("loaded", ruleset.digest, ruleset.warnings)

    def _failed(self, findings: tuple[Finding, ...]) -> ReloadResult:
        self.reloads["failed"] += 1
        self.last_failure = ReloadFailure(datetime.now(timezone.utc), findings)
        live = self._current
        log.warning("rules reload failed; %s: %s", "keeping the live ruleset" if live else "no ruleset is live",
                    "; ".join(f.render() for f in findings[:20]), extra={"findings": [f.as_dict() for f in findings]})
        return ReloadResult("failed", live.digest if live else None, findings)

    def _swap(self, snapshot: Snapshot) -> None:
        previous, self._current = self._current, snapshot
        if self._prepared is snapshot:
            self._prepared = None
        self.last_failure = None
        self.reloads["loaded"] += 1
        if previous is not None:
            self._retired.append((time.monotonic(), previous.engine))
        self._free_retired()
        log.info("rules loaded: %s %s (%d rules)", snapshot.ruleset.meta.name, snapshot.digest,
                 len(snapshot.ruleset.rules), extra={"digest": snapshot.digest, "rules": len(snapshot.ruleset.rules),
                                                     "shards": snapshot.engine.shard_count})

    def _report(self, result: ReloadResult) -> ReloadResult:
        if self.on_reload is not None:
            self.on_reload(result, self._current)
        return result

    def _free_retired(self, grace: float = RETIRE_GRACE_SECONDS) -> None:
        now = time.monotonic()
        keep = []
        for retired_at, engine in self._retired:
            if now - retired_at >= grace and id(engine) not in self._leases:
                engine.close()
            else:
                keep.append((retired_at, engine))
        self._retired = keep

    def close(self) -> None:
        with self._lock:
            self._leases.clear()
            self._free_retired(grace=0)
            for snapshot in (self._current, self._prepared, self._scheduled[1] if self._scheduled else None):
                if snapshot is not None:
                    snapshot.engine.close()
            self._current = self._prepared = None
            self._scheduled = None
