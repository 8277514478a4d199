"""The live ruleset: load, validate, compile, then swap; the old one keeps serving on failure.

A `Snapshot` is immutable: a request takes one reference and decides with it, so
no request ever sees half a ruleset. `Registry.reload()` builds a complete new
snapshot (durable_rules host included) before it swaps the reference; a bad
change leaves the previous snapshot live and is kept as `last_failure`. Retired
engines are freed after a grace period, once no request can still hold them.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Literal

from . import compiler, loader
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


def signature(directory: Path) -> tuple[tuple[object, ...], ...]:
    """How the directory's rules files look to stat(), without reading them: name, device, inode,
    size, modification and change time of each. Any write changes the change time (which no tool
    can set back), and a ConfigMap update puts new inodes behind the `..data` symlink."""
    try:
        looks = []
        for path in loader.rules_files(directory):
            stat = path.stat()
            looks.append((path.name, stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))
        return tuple(looks)
    except OSError as exc:
        return (("unreadable", exc.strerror),)


def fingerprint(directory: Path) -> str:
    """The digest of the directory's rules files as they are now (cheap: no parsing),
    or a marker when they cannot be read (for instance mid-swap of a ConfigMap)."""
    try:
        return loader.digest_of({path.name: path.read_bytes() for path in loader.rules_files(directory)})
    except OSError as exc:
        return f"unreadable: {exc.strerror}"


@dataclass
class Registry:
    directory: Path
    on_reload: Callable[[ReloadResult, "Snapshot | None"], None] | None = None
    _current: Snapshot | None = None
    last_failure: ReloadFailure | None = None
    reloads: dict[str, int] = field(default_factory=lambda: {"loaded": 0, "unchanged": 0, "failed": 0})
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _retired: list[tuple[float, Engine]] = field(default_factory=list)

    @property
    def current(self) -> Snapshot | None:
        return self._current

    def reload(self) -> ReloadResult:
        """Load the directory; swap it in if it is valid and different."""
        result = self._reload()
        if self.on_reload is not None:
            self.on_reload(result, self._current)
        return result

    def _reload(self) -> ReloadResult:
        with self._lock:
            try:
                ruleset = loader.load_dir(self.directory)
                live = self._current
                if live is not None and live.digest == ruleset.digest:
                    self.reloads["unchanged"] += 1
                    self.last_failure = None
                    return ReloadResult("unchanged", ruleset.digest, ruleset.warnings)
                snapshot = build(ruleset)
            except RulesetInvalid as exc:
                self.reloads["failed"] += 1
                self.last_failure = ReloadFailure(datetime.now(timezone.utc), tuple(exc.findings))
                log.warning("rules reload failed; %s: %s", "keeping the live ruleset" if self._current
                            else "no ruleset is live", "; ".join(f.render() for f in exc.findings[:20]),
                            extra={"findings": [f.as_dict() for f in exc.findings]})
                return ReloadResult("failed", self._current.digest if self._current else None,
                                    tuple(exc.findings))
            previous, self._current = self._current, snapshot
            self.last_failure = None
            self.reloads["loaded"] += 1
            if previous is not None:
                self._retired.append((time.monotonic(), previous.engine))
            self._free_retired()
            log.info("rules loaded: %s %s (%d rules)", snapshot.ruleset.meta.name, snapshot.digest,
                     len(snapshot.ruleset.rules), extra={"digest": snapshot.digest,
                                                         "rules": len(snapshot.ruleset.rules),
                                                         "shards": snapshot.engine.shard_count})
            return ReloadResult("loaded", snapshot.digest, ruleset.warnings)

    def _free_retired(self, grace: float = RETIRE_GRACE_SECONDS) -> None:
        now = time.monotonic()
        keep = []
        for retired_at, engine in self._retired:
            if now - retired_at >= grace:
                engine.close()
            else:
                keep.append((retired_at, engine))
        self._retired = keep

    def close(self) -> None:
        with self._lock:
            self._free_retired(grace=0)
            if self._current is not None:
                self._current.engine.close()
                self._current = None
