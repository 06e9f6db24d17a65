"""reliability: idempotency leases, payments recorded before Stripe, refunds owed

Revision ID: 0011_reliability
Revises: 0010_kb_sqlite_stemming
Create Date: 2026-11-26 00:14:59
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011_reliability"
down_revision: str | None = "0010_kb_sqlite_stemming"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_PAYMENT_STATES = "status IN ('requires_payment', 'succeeded', 'failed', 'refunded')"
PAYMENT_STATES = (
    "status IN ('creating', 'requires_payment', 'succeeded', 'failed', 'refunded', 'abandoned')"
)
REFUND_STATES = "status IN ('pending', 'succeeded', 'failed')"


def upgrade() -> None:
    with op.batch_alter_table("billing_payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_secret_encrypted", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("received_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("received_currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True)
        )
        batch_op.add_column(
            sa.Column("failure_seen", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("stripe_refunded_minor", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.alter_column("stripe_payment_intent_id", existing_type=sa.VARCHAR(length=255), nullable=True)
        batch_op.drop_constraint(op.f("ck_billing_payment_status_allowed"), type_="check")
        batch_op.create_check_constraint("status_allowed", PAYMENT_STATES)
    # Payments settled before this revision: what they received, and the refunds Stripe reported.
    op.execute(
        "UPDATE billing_payment SET received_minor = amount_minor, received_currency = currency "
        "WHERE status IN ('succeeded', 'refunded')"
    )
    op.execute("UPDATE billing_payment SET failure_seen = (status = 'failed')")
    op.execute("UPDATE billing_payment SET stripe_refunded_minor = refunded_minor")

    with op.batch_alter_table("billing_refund", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=32), nullable=False, server_default="succeeded")
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(
            sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
        batch_op.alter_column("stripe_refund_id", existing_type=sa.VARCHAR(length=255), nullable=True)
        batch_op.create_index(batch_op.f("ix_billing_refund_status"), ["status"], unique=False)
        batch_op.create_check_constraint("status_allowed", REFUND_STATES)

    with op.batch_alter_table("core_idempotency_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("locked_until", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("progress", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("core_idempotency_key", schema=None) as batch_op:
        batch_op.drop_column("progress")
        batch_op.drop_column("locked_until")
        batch_op.drop_column("attempt")

    # Refunds never made cannot be kept by the older schema, which knows only refunds made.
    op.execute("DELETE FROM billing_refund WHERE status <> 'succeeded'")
    with op.batch_alter_table("billing_refund", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_billing_refund_status_allowed"), type_="check")
        batch_op.drop_index(batch_op.f("ix_billing_refund_status"))
        batch_op.alter_column("stripe_refund_id", existing_type=sa.VARCHAR(length=255), nullable=False)
        batch_op.drop_column("last_error")
        batch_op.drop_column("attempts")
        batch_op.drop_column("status")

    # Payments that never reached Stripe have no place in the older schema either.
    op.execute("DELETE FROM billing_payment WHERE stripe_payment_intent_id IS NULL")
    op.execute(
        "UPDATE billing_payment SET status = 'requires_payment' WHERE status IN ('creating', 'abandoned')"
    )
    with op.batch_alter_table("billing_payment", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_billing_payment_status_allowed"), type_="check")
        batch_op.create_check_constraint("status_allowed", OLD_PAYMENT_STATES)
        batch_op.alter_column("stripe_payment_intent_id", existing_type=sa.VARCHAR(length=255), nullable=False)
        batch_op.drop_column("stripe_refunded_minor")
        batch_op.drop_column("failure_seen")
        batch_op.drop_column("received_currency")
        batch_op.drop_column("received_minor")
        batch_op.drop_column("client_secret_encrypted")
