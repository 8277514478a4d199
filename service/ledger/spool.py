"""The spool: records wait here, on disk, until the database has them.

A spool is a directory of append-only segment files (one JSON record per line),
shared by the worker processes of one host. Each process appends to its own
active segment with one `write` per record (no fsync: a record survives the
process dying, not the machine losing power) and holds an exclusive `flock` on
every segment it is working on. A segment nobody holds a lock on is an orphan:
left by a worker that stopped or died, or given up while the database was down.
Any process may claim an orphan (by taking its lock) and replay it; replays are
idempotent (records carry their own id), so a segment shipped twice stores once.

The spool is bounded: `append` refuses a record once the directory holds
`max_bytes` (the directory's size is re-read each `scan`, so several workers stay
within the bound give or take one flush interval of writes).
"""

from __future__ import annotations

import errno
import fcntl
import itertools
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger("service.ledger")

SUFFIX = ".spool"
_sequence = itertools.count()


@dataclass
class Segment:
    path: Path
    fd: int
    bytes: int = 0
    count: int = 0
    rows: list[tuple[str, dict[str, Any]]] | None = field(default_factory=list)
    """The records as appended (no need to read them back); None once they are on disk only."""


def encode(kind: str, row: dict[str, Any]) -> bytes:
    return orjson.dumps({"k": kind, "r": row}) + b"\n"


class Spool:
    KEEP_IN_MEMORY = 20_000
    """Records of the active segment also kept in memory; beyond this they are read back from disk."""

    def __init__(self, directory: Path, max_bytes: int):
        self.directory = directory
        self.max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self.active: Segment | None = None
        self._others = 0
        self._lock = threading.Lock()  # appends (event loop) against hand-overs (shipping thread)
        self._line_bytes = 0
        self._lines = 0
        self.corrupt = 0
        self.scan()

    # ------------------------------------------------------------- writing

    def _open(self) -> Segment:
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(_sequence):06d}{SUFFIX}"
        path = self.directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return Segment(path, fd)

    def room(self, size: int) -> bool:
        held = self.active.bytes if self.active is not None else 0
        return self._others + held + size <= self.max_bytes

    def append(self, kind: str, row: dict[str, Any]) -> bool:
        """Write one record to the active segment; False (nothing written) when the spool is full."""
        line = encode(kind, row)
        with self._lock:
            if not self.room(len(line)):
                return False
            segment = self.active
            if segment is None:
                segment = self.active = self._open()
            os.write(segment.fd, line)
            segment.bytes += len(line)
            segment.count += 1
            if segment.rows is not None:
                segment.rows.append((kind, row))
                if segment.count > self.KEEP_IN_MEMORY:
                    segment.rows = None
        self._line_bytes += len(line)
        self._lines += 1
        return True

    def records_estimate(self, total_bytes: int) -> int:
        """About how many records `total_bytes` of spool hold (by this process's mean record size)."""
        if total_bytes <= 0:
            return 0
        mean = self._line_bytes / self._lines if self._lines else 1500
        return max(1, round(total_bytes / mean))

    def take_active(self, min_bytes: int = 1) -> Segment | None:
        """Hand over the active segment (still locked) for shipping; the next append opens another."""
        with self._lock:
            segment = self.active
            if segment is None or segment.bytes < min_bytes:
                return None
            self.active = None
            self._others += segment.bytes
        return segment

    # ------------------------------------------------------------ replaying

    def orphans(self) -> list[Path]:
        """Segments on disk, oldest first (whether someone holds them is found by `claim`)."""
        try:
            names = sorted(entry.name for entry in os.scandir(self.directory) if entry.name.endswith(SUFFIX))
        except OSError:
            return []
        active = self.active.path.name if self.active is not None else None
        return [self.directory / name for name in names if name != active]

    def claim(self, path: Path) -> Segment | None:
        """Take an orphan's lock; None when another process holds it or it is gone."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return None
            raise
        try:
            if os.stat(path).st_ino != os.fstat(fd).st_ino:
                raise FileNotFoundError(path)
        except FileNotFoundError:  # shipped and removed by its holder meanwhile
            os.close(fd)
            return None
        size = os.fstat(fd).st_size
        return Segment(path, fd, bytes=size, rows=None)

    def read(self, segment: Segment) -> list[tuple[str, dict[str, Any]]]:
        """The records of a segment; a torn or unreadable line is skipped and counted in `corrupt`."""
        if segment.rows is not None:
            return segment.rows
        with open(segment.path, "rb") as handle:
            data = handle.read()
        out: list[tuple[str, dict[str, Any]]] = []
        for line in data.splitlines():
            if not line.strip():
                continue
            try:
                parsed = orjson.loads(line)
                out.append((parsed["k"], parsed["r"]))
            except (orjson.JSONDecodeError, KeyError, TypeError):
                self.corrupt += 1
                log.warning("ledger spool %s: skipped an unreadable record", segment.path.name)
        segment.count = len(out)
        return out

    def done(self, segment: Segment) -> None:
        """The database has the segment's records: remove it."""
        try:
            segment.path.unlink()
        except FileNotFoundError:
            pass
        os.close(segment.fd)
        with self._lock:
            self._others = max(0, self._others - segment.bytes)

    def release(self, segment: Segment) -> None:
        """Give a segment up (the database is unavailable): it stays on disk as an orphan."""
        segment.rows = None
        os.close(segment.fd)

    def scan(self) -> int:
        """Re-read the directory's size (every process's segments); returns it."""
        total = 0
        with self._lock:
            active = self.active.path.name if self.active is not None else None
        try:
            for entry in os.scandir(self.directory):
                if entry.name.endswith(SUFFIX) and entry.name != active:
                    try:
                        total += entry.stat().st_size
                    except FileNotFoundError:
                        pass
        except OSError:
            pass
        with self._lock:
            self._others = total
            return total + (self.active.bytes if self.active is not None else 0)

    def close(self) -> None:
        """Stop writing; the active segment stays on disk for the next start (or another worker)."""
        with self._lock:
            segment, self.active = self.active, None
        if segment is not None:
            self.release(segment)
