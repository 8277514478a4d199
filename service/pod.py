"""One ruleset revision per pod: the workers of one `recovery serve` switch together.

With several workers, the supervisor (the parent process) is the only one that reads
the rules directory, and it decides, for the whole pod, which revision is served:

1. When the directory holds a new complete version (`rulesdir.Settler`), or a worker
   asks for a forced reload, the supervisor copies its files into the pod directory
   (a private temporary directory, `sources/<digest>/`) and writes a **proposal**.
2. Every worker builds its engine from exactly those bytes, off its event loop, and
   writes its **status**: prepared, unchanged, or failed with the findings.
3. When every live worker has answered, the supervisor writes the **revision**: the
   digest the pod serves and a moment `SWITCH_DELAY` seconds ahead. Every worker swaps
   at that moment (the monotonic clock is the same for all processes of a machine), so
   from that instant on every worker answers from the new revision, and none goes back.
   If any worker failed, the revision stays where it was and carries the findings.

A worker that starts (or replaces one that died) loads the pod's revision from the
pod directory, not the rules directory, so it serves what the others serve.

Files (each written whole, then renamed into place): `proposal`, `revision`,
`reload-request`, `workers/<pid>`, `sources/<hex>/<file>`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Mapping

import orjson

from .engine import loader, rulesdir
from .engine.findings import Finding, RulesetInvalid
from .engine.registry import Registry

log = logging.getLogger("service.rules")

SWITCH_DELAY = 0.3
"""Seconds between the decision and the switch: every worker reads the revision well before."""
FOLLOW_INTERVAL = 0.05
"""How often a worker looks at the pod's files (a stat each)."""
ANSWER_TIMEOUT = 120.0
"""A worker that has not answered a proposal by then counts as failed."""

_pod_dir: Path | None = None


def set_pod_dir(path: Path | None) -> None:
    """Called in each worker by `service.server` before the app starts."""
    global _pod_dir
    _pod_dir = path


def pod_dir() -> Path | None:
    """The pod directory when this process is one of several workers; None when it serves alone."""
    return _pod_dir


# --------------------------------------------------------------------------- files

def write_json(path: Path, data: Mapping[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(orjson.dumps(data))
    os.replace(temporary, path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _sources_dir(pod: Path, digest: str) -> Path:
    return pod / "sources" / digest.removeprefix("sha256:")


def store_sources(pod: Path, sources: Mapping[str, bytes]) -> str:
    """Copy a version's files into the pod directory; its digest."""
    digest = loader.digest_of(sources)
    target = _sources_dir(pod, digest)
    if target.is_dir():
        return digest
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name, raw in sources.items():
        (staging / name).write_bytes(raw)
    os.replace(staging, target)
    return digest


def load_sources(pod: Path, digest: str) -> dict[str, bytes]:
    directory = _sources_dir(pod, digest)
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir()) if not path.name.startswith(".")}


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns)


# --------------------------------------------------------------------------- the supervisor's side

class Coordinator:
    """Decides the pod's revision; `tick()` is called by the supervisor every few tens of ms."""

    def __init__(self, pod: Path, rules: Path, interval: float, quiet: float):
        self.pod = pod
        self.rules = rules
        self.interval = interval
        self.settler = rulesdir.Settler(rules, quiet)
        self.serial = 0
        self.revision: dict[str, Any] = {"serial": 0, "digest": None, "at": 0.0, "outcome": "failed"}
        self._pending: dict[str, Any] | None = None
        self._next_poll = 0.0
        self._request_stamp: tuple[int, int] | None = None
        (pod / "workers").mkdir(parents=True, exist_ok=True)
        (pod / "sources").mkdir(exist_ok=True)

    def start(self) -> None:
        """Publish the directory's version as the pod's first revision (workers load it as they start)."""
        try:
            sources = rulesdir.read(self.rules)
        except RulesetInvalid as exc:
            self._decide({"serial": 0, "digest": None, "token": None}, "failed", list(exc.findings))
            return
        digest = store_sources(self.pod, sources)
        self.settler.seen_digest = digest
        self.revision = {"serial": 0, "digest": digest, "at": 0.0, "outcome": "loaded", "token": None,
                         "findings": []}
        write_json(self.pod / "revision", self.revision)

    def tick(self, workers: list[int], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        request = self._reload_request()
        if request is not None:
            try:
                self._propose(rulesdir.read(self.rules), request)
            except RulesetInvalid as exc:
                self._propose_unreadable(exc, request)
        elif self.interval > 0 and now >= self._next_poll:
            self._next_poll = now + self.interval
            change = self.settler.poll(now)
            if isinstance(change, RulesetInvalid):
                self._propose_unreadable(change, None)
            elif change is not None:
                self._propose(change, None)
        if self._pending is not None:
            self._collect(workers, now)

    def forget(self, pid: int) -> None:
        """A worker exited: its status no longer counts."""
        (self.pod / "workers" / str(pid)).unlink(missing_ok=True)

    def _reload_request(self) -> str | None:
        path = self.pod / "reload-request"
        stamp = _stamp(path)
        if stamp is None or stamp == self._request_stamp:
            return None
        self._request_stamp = stamp
        request = read_json(path) or {}
        return str(request.get("token") or "")

    def _propose(self, sources: Mapping[str, bytes], token: str | None) -> None:
        digest = store_sources(self.pod, sources)
        self.settler.seen_digest = digest
        self.serial += 1
        self._pending = {"serial": self.serial, "digest": digest, "token": token, "since": time.monotonic()}
        write_json(self.pod / "proposal", self._pending)
        log.info("pod: proposing revision %s to every worker", digest)

    def _propose_unreadable(self, exc: RulesetInvalid, token: str | None) -> None:
        self.serial += 1
        findings = [finding.as_dict() for finding in exc.findings]
        proposal = {"serial": self.serial, "digest": None, "token": token, "findings": findings}
        write_json(self.pod / "proposal", proposal)
        self._decide(proposal, "failed", list(exc.findings))

    def _collect(self, workers: list[int], now: float) -> None:
        proposal = self._pending
        if proposal is None:
            return
        answers = [read_json(self.pod / "workers" / str(pid)) or {} for pid in workers]
        mine = [answer for answer in answers if answer.get("serial") == proposal["serial"]]
        timed_out = now - proposal["since"] > ANSWER_TIMEOUT
        if len(mine) < len(workers) and not timed_out:
            return
        failed = [answer for answer in mine if answer.get("status") == "failed"]
        if failed or not mine or timed_out and len(mine) < len(workers):
            findings = [Finding(**item) for item in (failed[0].get("findings") if failed else [])] or [
                Finding("error", "no-answer", "a worker did not build the proposed revision in time", None, None,
                        None, "the worker's log says why")]
            self._decide(proposal, "failed", findings)
        elif proposal["digest"] == self.revision.get("digest"):
            self._decide(proposal, "unchanged", [])
        else:
            self._decide(proposal, "loaded", [], at=now + SWITCH_DELAY)

    def _decide(self, proposal: dict[str, Any], outcome: str, findings: list[Finding], at: float = 0.0) -> None:
        revision = dict(self.revision)
        revision.update({"serial": proposal["serial"], "outcome": outcome, "token": proposal.get("token"),
                         "findings": [finding.as_dict() for finding in findings]})
        if outcome == "loaded":
            revision.update({"digest": proposal["digest"], "at": at})
        self.revision = revision
        self._pending = None
        write_json(self.pod / "revision", revision)
        if outcome == "loaded":
            log.info("pod: every worker switches to %s", proposal["digest"])


# --------------------------------------------------------------------------- a worker's side

def start_worker(registry: Registry, pod: Path) -> None:
    """Load the pod's revision as this worker starts (the rules directory when there is none)."""
    revision = read_json(pod / "revision") or {}
    digest = revision.get("digest")
    if digest:
        registry.load(load_sources(pod, digest))
    else:
        registry.reload()


async def follow(registry: Registry, pod: Path) -> None:
    """Build each proposal as it comes, report, and switch when the pod decides."""
    revision = read_json(pod / "revision") or {}
    answered = int(revision.get("serial", 0))
    stamps: dict[str, tuple[int, int] | None] = {}
    me = pod / "workers" / str(os.getpid())
    while True:
        await asyncio.sleep(FOLLOW_INTERVAL)
        try:
            registry.current  # noqa: B018 - makes a scheduled switch even when no request comes
            proposal = _changed(pod / "proposal", stamps)
            if proposal is not None and int(proposal.get("serial", 0)) > answered:
                answered = int(proposal["serial"])
                write_json(me, await _answer(registry, pod, proposal))
            revision = _changed(pod / "revision", stamps)
            if revision is not None and revision.get("digest"):
                live = registry.current
                if live is None or live.digest != revision["digest"]:
                    if not registry.switch(revision["digest"], float(revision.get("at", 0.0))):
                        # Not prepared here (started after the proposal): build it now, then serve it.
                        sources = await asyncio.to_thread(load_sources, pod, revision["digest"])
                        await asyncio.to_thread(registry.load, sources)
        except asyncio.CancelledError:
            raise
        except Exception:  # following the pod must outlive any single failure
            log.exception("pod follower failed; it keeps following")


def _changed(path: Path, stamps: dict[str, tuple[int, int] | None]) -> dict[str, Any] | None:
    stamp = _stamp(path)
    if stamp is None or stamps.get(path.name) == stamp:
        return None
    stamps[path.name] = stamp
    return read_json(path)


async def _answer(registry: Registry, pod: Path, proposal: dict[str, Any]) -> dict[str, Any]:
    serial = proposal["serial"]
    if proposal.get("digest") is None:
        findings = tuple(Finding(**item) for item in proposal.get("findings", []))
        registry.record_failure(findings)
        return {"serial": serial, "status": "failed", "findings": [f.as_dict() for f in findings]}
    sources = await asyncio.to_thread(load_sources, pod, proposal["digest"])
    result = await asyncio.to_thread(registry.prepare, sources)
    return {"serial": serial, "status": result.status, "digest": proposal["digest"],
            "findings": [f.as_dict() for f in result.findings if f.severity == "error"]}


async def request_reload(pod: Path, timeout: float = 60.0) -> dict[str, Any] | None:
    """Ask the supervisor to read the rules directory now; the pod's decision, once every worker
    switched, or None if it did not come within `timeout`."""
    token = uuid.uuid4().hex
    write_json(pod / "reload-request", {"token": token, "pid": os.getpid()})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await asyncio.sleep(FOLLOW_INTERVAL)
        revision = read_json(pod / "revision")
        if revision is not None and revision.get("token") == token:
            wait = float(revision.get("at", 0.0)) - time.monotonic()
            if revision.get("outcome") == "loaded" and wait > 0:
                await asyncio.sleep(wait + FOLLOW_INTERVAL)
            return revision
    return None


def served(pod: Path) -> dict[str, Any] | None:
    """What the pod serves: digest and the decision's outcome (for /readyz)."""
    revision = read_json(pod / "revision")
    if revision is None:
        return None
    return {"digest": revision.get("digest"), "last_outcome": revision.get("outcome")}
