"""The ledger's first tables: decisions, outcomes, idempotency keys, ticket statuses, erasures.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_decisions',
    sa.Column('record_id', sa.String(length=32), nullable=False, comment='made when the decision was served; replays of a spool are deduplicated on it'),
    sa.Column('decision_id', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=True),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False, comment='api, batch or webhook:<system>'),
    sa.Column('caller', sa.String(length=64), nullable=True, comment="the API key's name; null when keys are off"),
    sa.Column('ruleset_name', sa.String(length=128), nullable=False),
    sa.Column('ruleset_version', sa.String(length=64), nullable=False),
    sa.Column('ruleset_digest', sa.String(length=80), nullable=False),
    sa.Column('failure_type', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=True),
    sa.Column('severity', sa.SmallInteger(), nullable=False),
    sa.Column('root_cause', sa.String(length=16), nullable=False),
    sa.Column('recurring', sa.Boolean(), nullable=False),
    sa.Column('tier', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('customer_hash', sa.String(length=24), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('refund_minor', sa.BigInteger(), nullable=True),
    sa.Column('credit_minor', sa.BigInteger(), nullable=True),
    sa.Column('owed_minor', sa.BigInteger(), nullable=True),
    sa.Column('cost_minor', sa.BigInteger(), nullable=True),
    sa.Column('discount_percent', sa.SmallInteger(), nullable=True),
    sa.Column('replacement', sa.String(length=32), nullable=True),
    sa.Column('tangible', sa.Boolean(), nullable=False, comment='refund, credit, discount or replacement offered'),
    sa.Column('approval_required', sa.Boolean(), nullable=False),
    sa.Column('approval_level', sa.String(length=16), nullable=False),
    sa.Column('root_cause_review', sa.Boolean(), nullable=False),
    sa.Column('history_filled', sa.Boolean(), nullable=False),
    sa.Column('rules_fired', sa.JSON(), nullable=False),
    sa.Column('event', sa.JSON(), nullable=False, comment='the event as decided, masked (hashed ids, no description unless RECOVERY_LEDGER_RECORD_DESCRIPTIONS)'),
    sa.PrimaryKeyConstraint('record_id')
    )
    with op.batch_alter_table('ledger_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_decisions_at', ['at_ms'], unique=False)
        batch_op.create_index('ix_ledger_decisions_customer', ['customer_hash', 'failure_type', 'at_ms'], unique=False)
        batch_op.create_index('ix_ledger_decisions_decision', ['decision_id'], unique=False)

    op.create_table('ledger_erasures',
    sa.Column('customer_hash', sa.String(length=24), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False, comment='records of this customer made before this are dropped when a spool replays them'),
    sa.PrimaryKeyConstraint('customer_hash')
    )
    op.create_table('ledger_idempotency',
    sa.Column('scope', sa.String(length=64), nullable=False, comment='the caller (API key name, webhook system) or empty'),
    sa.Column('key', sa.String(length=300), nullable=False, comment='key:<Idempotency-Key> or event:<event_id>'),
    sa.Column('record_id', sa.String(length=32), nullable=False),
    sa.Column('decision_id', sa.String(length=40), nullable=False),
    sa.Column('fingerprint', sa.JSON(), nullable=False, comment='per field of the event, a salted hash of its value'),
    sa.Column('body', sa.Text(), nullable=False, comment='the first decision, exactly as it was served'),
    sa.Column('customer_hash', sa.String(length=24), nullable=True),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'key')
    )
    with op.batch_alter_table('ledger_idempotency', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_idempotency_at', ['at_ms'], unique=False)
        batch_op.create_index('ix_ledger_idempotency_customer', ['customer_hash'], unique=False)

    op.create_table('ledger_outcomes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('decision_id', sa.String(length=40), nullable=False),
    sa.Column('customer_hash', sa.String(length=24), nullable=True),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False, comment='accepted, declined or countered'),
    sa.Column('given', sa.JSON(), nullable=True, comment='what was given instead, when countered'),
    sa.Column('given_currency', sa.String(length=3), nullable=True),
    sa.Column('given_minor', sa.BigInteger(), nullable=True, comment='refund + credit given instead'),
    sa.Column('csat', sa.SmallInteger(), nullable=True),
    sa.Column('repeat_contact', sa.Boolean(), nullable=True),
    sa.Column('churned', sa.Boolean(), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False, comment='crm, ticketing, console or api'),
    sa.Column('caller', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ledger_outcomes', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_outcomes_customer', ['customer_hash'], unique=False)
        batch_op.create_index('ix_ledger_outcomes_decision', ['decision_id'], unique=False)

    op.create_table('ledger_ticket_status',
    sa.Column('record_id', sa.String(length=32), nullable=False),
    sa.Column('decision_id', sa.String(length=40), nullable=False),
    sa.Column('system', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=64), nullable=False),
    sa.Column('customer_hash', sa.String(length=24), nullable=True),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('record_id')
    )
    with op.batch_alter_table('ledger_ticket_status', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_ticket_status_customer', ['customer_hash'], unique=False)
        batch_op.create_index('ix_ledger_ticket_status_decision', ['decision_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ledger_ticket_status', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_ticket_status_decision')
        batch_op.drop_index('ix_ledger_ticket_status_customer')

    op.drop_table('ledger_ticket_status')
    with op.batch_alter_table('ledger_outcomes', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_outcomes_decision')
        batch_op.drop_index('ix_ledger_outcomes_customer')

    op.drop_table('ledger_outcomes')
    with op.batch_alter_table('ledger_idempotency', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_idempotency_customer')
        batch_op.drop_index('ix_ledger_idempotency_at')

    op.drop_table('ledger_idempotency')
    op.drop_table('ledger_erasures')
    with op.batch_alter_table('ledger_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_decisions_decision')
        batch_op.drop_index('ix_ledger_decisions_customer')
        batch_op.drop_index('ix_ledger_decisions_at')

    op.drop_table('ledger_decisions')
