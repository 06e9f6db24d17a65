"""An engineer's blocked revision: a new random value whenever their bookings or busy time change

Revision ID: 0029_engineer_blocked_revision
Revises: 0028_ticket_assignee
Create Date: 2026-12-03 12:20:00

Availability remembers what it scanned of an engineer's bookings and busy intervals under the
engineer's ``blocked_revision`` (scheduling/blocked.py). The database keeps the value honest: a
trigger gives the engineer a new random revision for every insert, update and delete of those rows,
whichever code (or hand) wrote them. Random, not counted: a rolled-back transaction's value is never
given again, so what it let a reader see cannot be taken for a committed state.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0029_engineer_blocked_revision'
down_revision: str | None = '0028_ticket_assignee'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("scheduling_booking", "scheduling_busy_interval")

# PostgreSQL: one UPDATE per statement (a calendar import inserts thousands of intervals at once),
# over the engineers the statement's rows name (transition tables).
PG_FUNCTIONS = {
    "inserted": "SELECT engineer_id FROM new_rows",
    "deleted": "SELECT engineer_id FROM old_rows",
    "updated": "SELECT engineer_id FROM old_rows UNION SELECT engineer_id FROM new_rows",
}
PG_REFERENCING = {
    "inserted": ("INSERT", "NEW TABLE AS new_rows"),
    "deleted": ("DELETE", "OLD TABLE AS old_rows"),
    "updated": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
}
PG_NEW_REVISION = "floor(random() * 9007199254740991)::bigint"

# SQLite: row triggers only.
SQLITE_TRIGGERS = {
    "inserted": ("INSERT", ["NEW"]),
    "deleted": ("DELETE", ["OLD"]),
    "updated": ("UPDATE", ["OLD", "NEW"]),
}


def upgrade() -> None:
    with op.batch_alter_table('scheduling_engineer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocked_revision', sa.BigInteger(), nullable=False, server_default="0"))
    postgres = op.get_bind().dialect.name == "postgresql"
    # Rows written before this migration: every engineer starts from a revision no process has seen.
    op.execute(
        f"UPDATE scheduling_engineer SET blocked_revision = {PG_NEW_REVISION if postgres else 'random()'}"
    )
    for table in TABLES:
        for change, rows in PG_FUNCTIONS.items():
            if postgres:
                verb, referencing = PG_REFERENCING[change]
                op.execute(
                    f"CREATE FUNCTION {table}_{change}_revision() RETURNS trigger AS $$ BEGIN "
                    f"UPDATE scheduling_engineer SET blocked_revision = {PG_NEW_REVISION} "
                    f"WHERE user_id IN ({rows}); RETURN NULL; END; $$ LANGUAGE plpgsql"
                )
                op.execute(
                    f"CREATE TRIGGER {table}_{change}_revision AFTER {verb} ON {table} "
                    f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {table}_{change}_revision()"
                )
            else:
                verb, which = SQLITE_TRIGGERS[change]
                body = " ".join(
                    "UPDATE scheduling_engineer SET blocked_revision = random() "
                    f"WHERE user_id = {row}.engineer_id;"
                    for row in which
                )
                op.execute(f"CREATE TRIGGER {table}_{change}_revision AFTER {verb} ON {table} BEGIN {body} END")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        for change in PG_FUNCTIONS:
            if postgres:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{change}_revision ON {table}")
                op.execute(f"DROP FUNCTION IF EXISTS {table}_{change}_revision()")
            else:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{change}_revision")
    with op.batch_alter_table('scheduling_engineer', schema=None) as batch_op:
        batch_op.drop_column('blocked_revision')
