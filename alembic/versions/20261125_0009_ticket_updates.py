"""support: the instant from which a ticket's next update is due

Revision ID: 0009_ticket_updates
Revises: 0008_kb_search_document
Create Date: 2026-11-25 17:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0009_ticket_updates"
down_revision: str | None = "0008_kb_search_document"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTERs on both databases: a batch (copy and move) of this table on SQLite would delete
    # its children through their ON DELETE CASCADE keys.
    op.add_column(
        "support_ticket",
        sa.Column("updates_counted_from", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
    )
    # Tickets already answered count from their last public staff reply.
    op.execute(
        """
        UPDATE support_ticket SET updates_counted_from = (
            SELECT max(m.created_at) FROM support_ticket_message m
            WHERE m.ticket_id = support_ticket.id AND m.author_kind = 'staff' AND NOT m.internal
        )
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE support_ticket DROP COLUMN updates_counted_from")  # SQLite 3.35+
