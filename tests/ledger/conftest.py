"""Fixtures for the ledger tests: a real PostgreSQL server (one per session) and SQLite files.

`database` is parametrized over both: each test gets an empty database of its own
(a new PostgreSQL database, or a new SQLite file) and runs once per dialect.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.ledger.postgres import Postgres, launch, teardown
from tests.support import ROOT, RULES, Server, running_server


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    server, root = launch()
    try:
        yield server
    finally:
        teardown(server, root)


@dataclass
class Database:
    dialect: str
    url: str
    directory: Path

    def env(self, name: str, **more: str) -> dict[str, str]:
        """Settings for a server on this database, with a spool directory of its own."""
        spool = self.directory / f"spool-{name}"
        return {"RECOVERY_LEDGER_URL": self.url, "RECOVERY_LEDGER_SPOOL_DIR": str(spool),
                "RECOVERY_RELOAD_INTERVAL_SECONDS": "0.2", **more}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if request.param == "sqlite":
        return Database("sqlite", f"sqlite:///{tmp_path / 'ledger.sqlite3'}", tmp_path)
    server: Postgres = request.getfixturevalue("postgres")
    url = server.create_database(f"ledger_{uuid.uuid4().hex[:12]}")
    migrate(url)
    return Database("postgresql", url, tmp_path)


def migrate(url: str) -> str:
    """`recovery ledger migrate`, as a deployment runs it before the service starts (PostgreSQL)."""
    done = subprocess.run([sys.executable, "-m", "service.cli", "ledger", "migrate", "--url", url], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextlib.contextmanager
def ledger_server(name: str, database: Database, rules_dir: Path = RULES, **env: str) -> Iterator[Server]:
    with running_server(f"ledger-{name}-{database.dialect}", rules_dir, env=database.env(name, **env),
                        ready_path="/readyz") as server:
        yield server
