"""An engineer's blocked revision: a new random value whenever their bookings or busy time change

Revision ID: 0029_engineer_blocked_revision
Revises: 0028_ticket_assignee
Create Date: 2026-12-03 12:20:00

Availability remembers what it scanned of an engineer's bookings and busy intervals under the
engineer's revision (scheduling/blocked.py). The database keeps the value honest: a trigger gives the
engineer a new random revision for every insert, update and delete of those rows, whichever code (or
hand) wrote them. Random, not counted: a rolled-back transaction's value is never given again, so
what it let a reader see cannot be taken for a committed state. The revisions have a narrow table of
their own: written with every booking, they would otherwise leave a dead copy of the engineer's whole
profile (hours, skills) behind each time until vacuumed. An engineer without a row is at revision 0.
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
NEW_REVISION = {
    "postgresql": "floor(random() * 9007199254740991)::bigint",
    "sqlite": "random()",
}
UPSERT = (
    "INSERT INTO scheduling_blocked_revision (engineer_id, revision) {rows} "
    "ON CONFLICT (engineer_id) DO UPDATE SET revision = excluded.revision"
)

# Only for an engineer still there: deleting an engineer cascades to their busy intervals, whose
# trigger would otherwise give the engineer being deleted a row naming nobody (a foreign key error).
# (The WHERE also keeps SQLite from reading ON CONFLICT as part of the SELECT.)
STILL_THERE = "WHERE EXISTS (SELECT 1 FROM scheduling_engineer WHERE user_id = {engineer})"

# PostgreSQL: one statement per changing statement (an import inserts thousands of intervals at
# once), over the distinct engineers its rows name (transition tables).
PG_CHANGED = {
    "inserted": ("INSERT", "NEW TABLE AS new_rows", "SELECT DISTINCT engineer_id FROM new_rows"),
    "deleted": ("DELETE", "OLD TABLE AS old_rows", "SELECT DISTINCT engineer_id FROM old_rows"),
    "updated": (
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "SELECT engineer_id FROM old_rows UNION SELECT engineer_id FROM new_rows",
    ),
}
# SQLite: row triggers only.
SQLITE_CHANGED = {"inserted": ("INSERT", ["NEW"]), "deleted": ("DELETE", ["OLD"]), "updated": ("UPDATE", ["OLD", "NEW"])}


def upgrade() -> None:
    op.create_table(
        'scheduling_blocked_revision',
        sa.Column('engineer_id', sa.Uuid(), nullable=False),
        sa.Column('revision', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ['engineer_id'],
            ['scheduling_engineer.user_id'],
            name=op.f('fk_scheduling_blocked_revision_engineer_id_scheduling_engineer'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('engineer_id', name=op.f('pk_scheduling_blocked_revision')),
    )
    dialect = op.get_bind().dialect.name
    new = NEW_REVISION[dialect]
    # Rows written before this migration: every engineer starts from a revision no process has seen.
    op.execute(
        f"INSERT INTO scheduling_blocked_revision (engineer_id, revision) SELECT user_id, {new} FROM scheduling_engineer"
    )
    for table in TABLES:
        if dialect == "postgresql":
            for change, (verb, referencing, engineers) in PG_CHANGED.items():
                rows = (
                    f"SELECT engineer_id, {new} FROM ({engineers}) AS changed "
                    f"{STILL_THERE.format(engineer='changed.engineer_id')}"
                )
                op.execute(
                    f"CREATE FUNCTION {table}_{change}_revision() RETURNS trigger AS $$ BEGIN "
                    f"{UPSERT.format(rows=rows)}; RETURN NULL; END; $$ LANGUAGE plpgsql"
                )
                op.execute(
                    f"CREATE TRIGGER {table}_{change}_revision AFTER {verb} ON {table} "
                    f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {table}_{change}_revision()"
                )
        else:
            for change, (verb, which) in SQLITE_CHANGED.items():
                body = " ".join(
                    UPSERT.format(
                        rows=f"SELECT {row}.engineer_id, {new} "
                        f"{STILL_THERE.format(engineer=f'{row}.engineer_id')}"
                    )
                    + ";"
                    for row in which
                )
                op.execute(f"CREATE TRIGGER {table}_{change}_revision AFTER {verb} ON {table} BEGIN {body} END")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        for change in PG_CHANGED:
            if postgres:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{change}_revision ON {table}")
                op.execute(f"DROP FUNCTION IF EXISTS {table}_{change}_revision()")
            else:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{change}_revision")
    op.drop_table('scheduling_blocked_revision')
