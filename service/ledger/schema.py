"""The ledger's tables (SQLAlchemy Core), the same on PostgreSQL and SQLite.

Migrations in `migrations/versions/` create and upgrade them; this module is what
the code reads and writes, and a test checks that a migrated database matches it.

Conventions, chosen so that one code path serves both databases:
- instants are integer milliseconds since the epoch (`*_ms`), so windows and
  retention are plain integer comparisons in SQL on either database;
- amounts are integers in the currency's minor unit (`*_minor`) beside a
  `currency` column: SQLite has no exact decimal type, and sums stay exact;
- customers are the logs' hash of their id (`customer_hash`), never the id.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, MetaData, SmallInteger, String, Table, Text

metadata = MetaData()

decisions = Table(
    "ledger_decisions", metadata,
    Column("record_id", String(32), primary_key=True, comment="made when the decision was served; replays of a "
                                                                 "spool are deduplicated on it"),
    Column("decision_id", String(40), nullable=False),
    Column("event_id", String(128)),
    Column("at_ms", BigInteger, nullable=False),
    Column("source", String(64), nullable=False, comment="api, batch or webhook:<system>"),
    Column("caller", String(64), comment="the API key's name; null when keys are off"),
    Column("ruleset_name", String(128), nullable=False),
    Column("ruleset_version", String(64), nullable=False),
    Column("ruleset_digest", String(80), nullable=False),
    Column("failure_type", String(64), nullable=False),
    Column("category", String(16)),
    Column("severity", SmallInteger, nullable=False),
    Column("root_cause", String(16), nullable=False),
    Column("recurring", Boolean, nullable=False),
    Column("tier", String(64), nullable=False),
    Column("channel", String(64)),
    Column("customer_hash", String(24)),
    Column("currency", String(3)),
    Column("refund_minor", BigInteger),
    Column("credit_minor", BigInteger),
    Column("owed_minor", BigInteger),
    Column("cost_minor", BigInteger),
    Column("discount_percent", SmallInteger),
    Column("replacement", String(32)),
    Column("tangible", Boolean, nullable=False, comment="refund, credit, discount or replacement offered"),
    Column("approval_required", Boolean, nullable=False),
    Column("approval_level", String(16), nullable=False),
    Column("root_cause_review", Boolean, nullable=False),
    Column("history_filled", Boolean, nullable=False),
    Column("rules_fired", JSON, nullable=False),
    Column("event", JSON, nullable=False, comment="the event as decided, masked (hashed ids, no description "
                                                  "unless RECOVERY_LEDGER_RECORD_DESCRIPTIONS)"),
    Index("ix_ledger_decisions_at", "at_ms"),
    Index("ix_ledger_decisions_decision", "decision_id"),
    Index("ix_ledger_decisions_customer", "customer_hash", "failure_type", "at_ms"),
)

outcomes = Table(
    "ledger_outcomes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("decision_id", String(40), nullable=False),
    Column("customer_hash", String(24)),
    Column("at_ms", BigInteger, nullable=False),
    Column("result", String(16), nullable=False, comment="accepted, declined or countered"),
    Column("given", JSON, comment="what was given instead, when countered"),
    Column("given_currency", String(3)),
    Column("given_minor", BigInteger, comment="refund + credit given instead"),
    Column("csat", SmallInteger),
    Column("repeat_contact", Boolean),
    Column("churned", Boolean),
    Column("source", String(64), nullable=False, comment="crm, ticketing, console or api"),
    Column("caller", String(64)),
    Index("ix_ledger_outcomes_decision", "decision_id"),
    Index("ix_ledger_outcomes_customer", "customer_hash"),
)

idempotency = Table(
    "ledger_idempotency", metadata,
    Column("scope", String(64), primary_key=True, comment="the caller (API key name, webhook system) or empty"),
    Column("key", String(300), primary_key=True, comment="key:<Idempotency-Key> or event:<event_id>"),
    Column("record_id", String(32), nullable=False),
    Column("decision_id", String(40), nullable=False),
    Column("fingerprint", JSON, nullable=False, comment="per field of the event, a salted hash of its value"),
    Column("body", Text, nullable=False, comment="the first decision, exactly as it was served"),
    Column("customer_hash", String(24)),
    Column("at_ms", BigInteger, nullable=False),
    Index("ix_ledger_idempotency_at", "at_ms"),
    Index("ix_ledger_idempotency_customer", "customer_hash"),
)

ticket_status = Table(
    "ledger_ticket_status", metadata,
    Column("record_id", String(32), primary_key=True),
    Column("decision_id", String(40), nullable=False),
    Column("system", String(32), nullable=False),
    Column("status", String(64), nullable=False),
    Column("customer_hash", String(24)),
    Column("at_ms", BigInteger, nullable=False),
    Index("ix_ledger_ticket_status_decision", "decision_id"),
    Index("ix_ledger_ticket_status_customer", "customer_hash"),
)

erasures = Table(
    "ledger_erasures", metadata,
    Column("customer_hash", String(24), primary_key=True),
    Column("at_ms", BigInteger, nullable=False, comment="records of this customer made before this are dropped "
                                                        "when a spool replays them"),
)
