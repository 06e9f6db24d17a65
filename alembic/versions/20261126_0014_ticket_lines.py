"""support: tickets belong to a service line (basic, sla) that numbers its own; SLA tickets have no
regulation

Revision ID: 0014_ticket_lines
Revises: 0013_contracts
Create Date: 2026-11-26 04:25:20.403563
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0014_ticket_lines'
down_revision: str | None = '0013_contracts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# On SQLite the batch copies the table with foreign keys off (alembic/env.py), so the rows that
# reference tickets keep them.


def upgrade() -> None:
    with op.batch_alter_table("support_ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "line", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default="basic"
            )
        )
        batch_op.alter_column("regulation_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.drop_constraint(batch_op.f("uq_support_ticket_number"), type_="unique")
        batch_op.create_index(batch_op.f("ix_support_ticket_line"), ["line"], unique=False)
        batch_op.create_unique_constraint("uq_support_ticket_line_number", ["line", "number"])
    with op.batch_alter_table("support_ticket", schema=None) as batch_op:
        batch_op.alter_column("line", server_default=None, existing_type=sqlmodel.sql.sqltypes.AutoString(16))


def downgrade() -> None:
    # Only free tickets existed before: tickets of other lines go with the line.
    op.execute("DELETE FROM support_ticket WHERE line <> 'basic'")
    with op.batch_alter_table("support_ticket", schema=None) as batch_op:
        batch_op.drop_constraint("uq_support_ticket_line_number", type_="unique")
        batch_op.drop_index(batch_op.f("ix_support_ticket_line"))
        batch_op.create_unique_constraint(batch_op.f("uq_support_ticket_number"), ["number"])
        batch_op.alter_column("regulation_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("line")
