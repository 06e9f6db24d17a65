"""support: store the knowledge-base search document on PostgreSQL

Ranking suggestions recomputed both languages' tsvector of every matching article on every search
(about 0.1 ms an article); a stored generated column computes it once per write.

Revision ID: 0008_kb_search_document
Revises: 0007_refunds
Create Date: 2026-11-25 17:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008_kb_search_document"
down_revision: str | None = "0007_refunds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENT = (
    "to_tsvector('russian', title || ' ' || body || ' ' || tags::text)"
    " || to_tsvector('english', title || ' ' || body || ' ' || tags::text)"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite searches its FTS5 table, which already stores the document
    op.execute(f"ALTER TABLE support_kb_article ADD COLUMN fts_document tsvector GENERATED ALWAYS AS ({DOCUMENT}) STORED")
    op.execute("DROP INDEX IF EXISTS fts_support_kb_article")
    op.execute("CREATE INDEX fts_support_kb_article ON support_kb_article USING gin (fts_document)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS fts_support_kb_article")
    op.execute("ALTER TABLE support_kb_article DROP COLUMN fts_document")
    op.execute(f"CREATE INDEX fts_support_kb_article ON support_kb_article USING gin (({DOCUMENT}))")
