"""The throw-away PostgreSQL server the ledger tests start (shared with the benchmark: bench/postgres.py)."""

from bench.postgres import Postgres, binaries, launch, teardown

__all__ = ["Postgres", "binaries", "launch", "teardown"]
