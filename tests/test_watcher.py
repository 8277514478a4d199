"""The rules watcher's cheap check (a change is seen from stat() alone, without reading files) and
when a change counts as complete (`rulesdir.Settler`)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from service.engine.loader import digest_of
from service.engine.rulesdir import Settler, read, signature

RULES = Path(__file__).resolve().parent.parent / "rules"


def _copy(tmp_path: Path) -> Path:
    directory = tmp_path / "rules"
    shutil.copytree(RULES, directory)
    return directory


def _mount(mount: Path, version: Path) -> Path:
    """A ConfigMap-style mount of `version`: the files are links through `..data`."""
    mount.mkdir()
    (mount / "..data").symlink_to(version)
    for name in os.listdir(version):
        if name.endswith(".yaml"):
            (mount / name).symlink_to(Path("..data") / name)
    return mount


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
    mount = _mount(tmp_path / "mount", first)
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


def test_an_unreadable_directory_has_its_own_signature(tmp_path: Path) -> None:
    assert signature(tmp_path / "missing")[0][0] == "unreadable"


def test_a_plain_directory_counts_as_changed_only_once_it_has_been_quiet(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    settler = Settler(directory, quiet=5.0, seen_digest=digest_of(read(directory)))
    assert settler.poll(now=0.0) is None  # nothing new
    target = directory / "20-outcome.yaml"
    target.write_text(target.read_text().replace("percent_of_order: 50", "percent_of_order: 60"))
    assert settler.poll(now=10.0) is None  # just seen changing
    assert settler.poll(now=14.0) is None  # still within the quiet period
    change = settler.poll(now=15.5)
    assert isinstance(change, dict) and b"percent_of_order: 60" in change["20-outcome.yaml"]
    assert settler.poll(now=30.0) is None  # returned once


def test_a_configmap_swap_counts_at_once_and_reads_through_data(tmp_path: Path) -> None:
    first, second = _copy(tmp_path / "a"), _copy(tmp_path / "b")
    (second / "60-extra.yaml").write_text("rules: []\n")
    mount = _mount(tmp_path / "mount", first)
    settler = Settler(mount, quiet=60.0, seen_digest=digest_of(read(mount)))
    assert settler.poll(now=0.0) is None
    (mount / "..data_tmp").symlink_to(second)
    os.replace(mount / "..data_tmp", mount / "..data")  # no top-level link for 60-extra.yaml yet
    change = settler.poll(now=0.1)
    assert isinstance(change, dict) and "60-extra.yaml" in change  # the whole new version, at once
