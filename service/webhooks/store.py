"""The live mapping of each system, re-read when its file changes.

Mapping files are edited by ops while the service runs (a ConfigMap update, say),
so each delivery checks the file's identity (inode, size, mtime) and re-reads it
when that changed: a few microseconds of `stat`, no watcher thread. Like the
rules: a valid change is swapped in; a broken one is logged and the previous
mapping keeps serving. A system whose file never loaded answers 503 with the
findings (file, line, what was expected).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..engine.findings import Finding, RulesetInvalid
from ..problems import ProblemError
from . import mapfile
from .mapping import Mapping

log = logging.getLogger("service.webhooks")


@dataclass
class _Entry:
    identity: tuple[int, int, int] | None = None
    mapping: Mapping | None = None
    findings: tuple[Finding, ...] = ()


@dataclass
class MappingStore:
    directory: Path
    _entries: dict[str, _Entry] = field(default_factory=dict)

    def path(self, system: str) -> Path:
        return self.directory / f"{system}.yaml"

    def get(self, system: str) -> Mapping:
        """The live mapping for `system`; a 503 ProblemError when none has ever loaded."""
        entry = self._entries.setdefault(system, _Entry())
        path = self.path(system)
        try:
            stat = os.stat(path)
            identity: tuple[int, int, int] | None = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        except OSError:
            identity = None
        if identity != entry.identity or (identity is None and entry.mapping is None and not entry.findings):
            entry.identity = identity
            self._load(system, path, entry)
        if entry.mapping is None:
            listed = [finding.as_dict() for finding in entry.findings]
            first = entry.findings[0].render() if entry.findings else f"{path} cannot be read"
            raise ProblemError(503, "webhook-mapping-invalid", f"the {system} mapping does not load: {first}",
                               title="Mapping not loaded", headers={"Retry-After": "30"},
                               extra={"system": system, "findings": listed})
        return entry.mapping

    def _load(self, system: str, path: Path, entry: _Entry) -> None:
        try:
            raw = path.read_bytes()
            mapping = mapfile.load(path.name, raw, system)
        except OSError as exc:
            findings: tuple[Finding, ...] = (Finding("error", "unreadable", f"cannot read the mapping file: "
                                                     f"{exc.strerror}", path.name, None, None,
                                                     f"add {system}.yaml to {self.directory}"),)
        except RulesetInvalid as exc:
            findings = tuple(exc.findings)
        except Exception as exc:  # a mapping file must never take a delivery down: report it as a finding
            log.exception("webhook mapping %s: the loader failed", path)
            findings = (Finding("error", "internal", f"the mapping loader failed ({type(exc).__name__}); the "
                                "error is logged", path.name, None, None, None),)
        else:
            entry.mapping, entry.findings = mapping, ()
            log.info("webhook mapping loaded: %s", path)
            return
        entry.findings = findings
        log.warning("webhook mapping %s does not load%s: %s", path,
                    "; the previous version keeps serving" if entry.mapping is not None else "",
                    "; ".join(finding.render() for finding in findings[:20]))
