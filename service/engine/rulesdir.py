"""Reading the rules directory as a whole version, and knowing when a new version is complete.

A directory is read in one of two layouts:

- a **Kubernetes ConfigMap mount**: the files are links through `..data`, a symlink the
  kubelet swaps atomically once the new version is fully written. The files are read from
  the directory `..data` names at that moment, never through the top-level links, so a
  swap in the middle of a read (or a link the kubelet has not made yet) cannot mix two
  versions. A changed `..data` is complete the moment it is seen.
- a **plain directory** (files copied, edited or rsynced in place): nothing says when a
  writer is done, so a change counts only once the directory has looked the same, by
  `stat()`, for a quiet period; a file rewritten in two steps a few seconds apart is never
  loaded half-written. After reading, the directory is looked at again: if it moved while
  being read, the read is thrown away.

`Settler.poll()` answers "is there a new, complete version?"; `read()` reads one now.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import loader
from .findings import RulesetInvalid

DATA_LINK = "..data"

Looks = tuple[tuple[object, ...], ...]


def data_dir(directory: Path) -> Path:
    """Where the files of the version live now: `..data`'s target in a ConfigMap mount, else `directory`."""
    try:
        target = os.readlink(directory / DATA_LINK)
    except OSError:
        return directory
    return directory / target


def is_configmap(directory: Path) -> bool:
    return os.path.islink(directory / DATA_LINK)


def read(directory: Path) -> dict[str, bytes]:
    """The files of the version in `directory` now, by name (raises RulesetInvalid)."""
    return loader.read_dir(data_dir(directory))


def signature(directory: Path) -> Looks:
    """How the directory's rules files look to stat(), without reading them: the `..data`
    target, and per file its name, device, inode, size, modification and change time. Any
    write changes the change time (which no tool can set back), and a ConfigMap update puts a
    new target behind `..data`."""
    try:
        looks: list[tuple[object, ...]] = []
        if is_configmap(directory):
            looks.append((DATA_LINK, os.readlink(directory / DATA_LINK)))
        for path in loader.rules_files(directory):
            stat = path.stat()
            looks.append((path.name, stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))
        return tuple(looks)
    except OSError as exc:
        return (("unreadable", exc.strerror),)


@dataclass
class Settler:
    """Polled every few seconds; returns a new complete version of the directory once."""

    directory: Path
    quiet: float
    """Seconds a plain directory must stay unchanged before its files count as complete."""
    seen_digest: str | None = None
    """The digest of the version last returned (or loaded at start): it is not returned again."""
    _looks: Looks | None = None
    _since: float = field(default_factory=time.monotonic)
    _handled: Looks | None = None
    _unreadable: bool = False

    def poll(self, now: float | None = None) -> dict[str, bytes] | RulesetInvalid | None:
        """The files of a new complete version, the reason the directory cannot be read, or None."""
        now = time.monotonic() if now is None else now
        looks = signature(self.directory)
        if looks != self._looks:
            self._looks, self._since = looks, now
        if looks == self._handled:
            return None
        if not is_configmap(self.directory) and now - self._since < self.quiet:
            return None  # still being written, perhaps
        try:
            sources = read(self.directory)
        except RulesetInvalid as exc:
            self._handled, self._unreadable = looks, True
            return exc
        if signature(self.directory) != looks:
            return None  # it moved while being read: look again next time
        self._handled = looks
        digest = loader.digest_of(sources)
        if digest == self.seen_digest and not self._unreadable:
            return None
        self.seen_digest, self._unreadable = digest, False
        return sources
