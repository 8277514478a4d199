"""The rules watcher's cheap check: a change is seen from stat() alone, without reading files."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from service.engine.registry import signature
from service.watcher import _recent

RULES = Path(__file__).resolve().parent.parent / "rules"


def _copy(tmp_path: Path) -> Path:
    directory = tmp_path / "rules"
    shutil.copytree(RULES, directory)
    return directory


def test_a_same_size_rewrite_with_the_old_modification_time_is_still_seen(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    target = directory / "20-outcome.yaml"
    before = signature(directory)
    assert signature(directory) == before  # nothing changed, nothing seen
    stat = target.stat()
    time.sleep(0.05)  # past the file system clock's tick
    text = target.read_bytes()
    target.write_bytes(text.replace(b"refund", b"REFUND", 1))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as `cp -p` or rsync would leave it
    assert target.stat().st_size == stat.st_size
    assert signature(directory) != before


def test_a_configmap_swap_and_a_new_or_removed_file_are_seen(tmp_path: Path) -> None:
    first, second = _copy(tmp_path / "a"), _copy(tmp_path / "b")
    mount = tmp_path / "mount"
    mount.mkdir()
    (mount / "..data").symlink_to(first)
    for name in os.listdir(first):
        if name.endswith(".yaml"):
            (mount / name).symlink_to(Path("..data") / name)
    before = signature(mount)
    (mount / "..data_tmp").symlink_to(second)
    os.replace(mount / "..data_tmp", mount / "..data")  # what the kubelet does
    swapped = signature(mount)
    assert swapped != before
    (second / "60-extra.yaml").write_text("rules: []\n")
    (mount / "60-extra.yaml").symlink_to(Path("..data") / "60-extra.yaml")
    assert signature(mount) != swapped
    (mount / "60-extra.yaml").unlink()
    assert signature(mount) == swapped


def test_an_unreadable_directory_has_its_own_signature_and_files_just_written_count_as_recent(
        tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    assert signature(tmp_path / "missing")[0][0] == "unreadable"
    assert _recent(signature(directory))  # just copied
    old = time.time() - 60
    for path in directory.glob("*.yaml"):
        os.utime(path, (old, old))
    # utime itself changes the change time, which only the clock can move: still recent
    assert _recent(signature(directory))
    settled_ns = time.time_ns() - 60 * 10**9
    assert not _recent((("20-outcome.yaml", 1, 2, 300, settled_ns, settled_ns),))
    assert _recent(())  # no files (mid-swap): look again next time
