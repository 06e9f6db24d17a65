"""PostgreSQL tells listening workers when outbox events are committed (LISTEN/NOTIFY).

A statement-level trigger on core_outbox_event notifies channel ``deskline_outbox``; the notification is
delivered at commit (and not at all on rollback), once per transaction however many events it wrote, so
a worker wakes for committed work instead of waiting for its next poll. SQLite has no NOTIFY: its
single worker polls.

Revision ID: 0025_outbox_notify
Revises: 0024_outbox_fan_out
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision: str = "0025_outbox_notify"
down_revision: str | None = "0024_outbox_fan_out"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION deskline_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('deskline_outbox', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER core_outbox_event_notify AFTER INSERT ON core_outbox_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION deskline_outbox_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER core_outbox_event_notify ON core_outbox_event")
    op.execute("DROP FUNCTION deskline_outbox_notify()")
