"""SQLite writers queue on the ledger's writer lock, across processes, and a stuck one times out.

Several workers (and their recorder and claim threads) share one SQLite file; SQLite's
own busy handler made them poll with sleeps of up to 100 ms. `store.WriterLock` makes
them wait their turn on a lock file beside the database instead. These tests hold that
lock from another real process, as a second worker would.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy.exc import SQLAlchemyError

from service.ledger import migrate
from service.ledger.store import Store, open_engine
from tests.support import ROOT

HOLDER = """
import sys
from service.ledger.store import Store, open_engine
store = Store(open_engine(sys.argv[1]))
with store.writers:
    print("held", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


def _store(path: Path) -> Store:
    engine = open_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    return Store(engine)


def _ticket(number: int) -> dict[str, object]:
    return {"record_id": f"r{number}", "decision_id": f"d{number}", "system": "zendesk", "status": "solved",
            "customer_hash": None, "at_ms": number}


@contextlib.contextmanager
def _holder(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process that holds the writer lock until it reads a line (or is killed)."""
    with subprocess.Popen([sys.executable, "-c", HOLDER, f"sqlite:///{path}"], cwd=ROOT, text=True,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "held"
            yield process
        finally:
            process.kill()


def test_a_write_waits_while_another_process_holds_the_writer_lock(tmp_path: Path) -> None:
    store = _store(tmp_path / "ledger.sqlite3")
    assert store.writers.path == tmp_path / "ledger.sqlite3-writer.lock"
    try:
        with _holder(tmp_path / "ledger.sqlite3") as holder:
            _waits_for(store, holder)
    finally:
        store.writers.close()
        store.engine.dispose()


def _waits_for(store: Store, holder: subprocess.Popen[str]) -> None:
    """A write started while `holder` holds the lock finishes only after it lets go."""
    done = threading.Event()
    failed: list[BaseException] = []

    def write() -> None:
        try:
            store.write({"ticket": [_ticket(1)]})
        except BaseException as exc:  # reported below
            failed.append(exc)
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert not done.wait(0.5), "the write went ahead while another process held the writer lock"
    assert store.counts()["ledger_ticket_status"] == 0
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert holder.stdout.readline().strip() == "released"
    assert done.wait(10), "the write did not go ahead once the lock was released"
    writer.join()
    assert failed == []
    assert store.counts()["ledger_ticket_status"] == 1




def test_a_writer_stuck_holding_the_lock_makes_the_database_unavailable_not_a_hang(tmp_path: Path) -> None:
    store = _store(tmp_path / "ledger.sqlite3")
    store.writers.wait_seconds = 0.3
    try:
        with _holder(tmp_path / "ledger.sqlite3"):
            with pytest.raises(SQLAlchemyError, match="writer lock"):
                store.write({"ticket": [_ticket(2)]})
        # The same store writes again once the other process is gone (its lock goes with it).
        store.write({"ticket": [_ticket(3)]})
        assert store.counts()["ledger_ticket_status"] == 1
    finally:
        store.writers.close()
        store.engine.dispose()


def test_postgresql_needs_no_writer_lock(tmp_path: Path) -> None:
    engine = open_engine("postgresql://nobody@127.0.0.1:1/none")
    store = Store(engine)
    assert store.writers.path is None
    with store.writers:  # nothing to wait for
        pass
    engine.dispose()
