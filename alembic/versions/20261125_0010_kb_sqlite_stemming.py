"""support: stem Russian and English in SQLite's knowledge-base index

FTS5's porter tokenizer stems English only, so on SQLite a Russian query matched only the exact word
form. The index now holds Snowball stems (support.stemming, the SQL function deskline_stem) in a
table of its own, kept by triggers; queries are stemmed the same way. PostgreSQL is unchanged.

Revision ID: 0010_kb_sqlite_stemming
Revises: 0009_ticket_updates
Create Date: 2026-11-25 17:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

import support.stemming  # noqa: F401  (registers deskline_stem on the migration's connection)

revision: str = "0010_kb_sqlite_stemming"
down_revision: str | None = "0009_ticket_updates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = ("insert", "delete", "update")
STEMMED = (
    "CREATE VIRTUAL TABLE support_kb_article_fts USING fts5("
    "title, body, tags, tokenize='unicode61 remove_diacritics 2')",
    """
    CREATE TRIGGER support_kb_article_fts_insert AFTER INSERT ON support_kb_article BEGIN
        INSERT INTO support_kb_article_fts(rowid, title, body, tags)
        VALUES (new.rowid, deskline_stem(new.title), deskline_stem(new.body), deskline_stem(new.tags));
    END
    """,
    """
    CREATE TRIGGER support_kb_article_fts_delete AFTER DELETE ON support_kb_article BEGIN
        DELETE FROM support_kb_article_fts WHERE rowid = old.rowid;
    END
    """,
    """
    CREATE TRIGGER support_kb_article_fts_update AFTER UPDATE ON support_kb_article BEGIN
        UPDATE support_kb_article_fts
        SET title = deskline_stem(new.title), body = deskline_stem(new.body), tags = deskline_stem(new.tags)
        WHERE rowid = new.rowid;
    END
    """,
    "INSERT INTO support_kb_article_fts(rowid, title, body, tags) "
    "SELECT rowid, deskline_stem(title), deskline_stem(body), deskline_stem(tags) FROM support_kb_article",
)
# What migration 0002 created: porter (English) stemming over the article table's own text.
PORTER = (
    """
    CREATE VIRTUAL TABLE support_kb_article_fts USING fts5(
        title, body, tags, content='support_kb_article', content_rowid='rowid',
        tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER support_kb_article_fts_insert AFTER INSERT ON support_kb_article BEGIN
        INSERT INTO support_kb_article_fts(rowid, title, body, tags) VALUES (new.rowid, new.title, new.body, new.tags);
    END
    """,
    """
    CREATE TRIGGER support_kb_article_fts_delete AFTER DELETE ON support_kb_article BEGIN
        INSERT INTO support_kb_article_fts(support_kb_article_fts, rowid, title, body, tags)
        VALUES ('delete', old.rowid, old.title, old.body, old.tags);
    END
    """,
    """
    CREATE TRIGGER support_kb_article_fts_update AFTER UPDATE ON support_kb_article BEGIN
        INSERT INTO support_kb_article_fts(support_kb_article_fts, rowid, title, body, tags)
        VALUES ('delete', old.rowid, old.title, old.body, old.tags);
        INSERT INTO support_kb_article_fts(rowid, title, body, tags) VALUES (new.rowid, new.title, new.body, new.tags);
    END
    """,
    "INSERT INTO support_kb_article_fts(support_kb_article_fts) VALUES ('rebuild')",
)


def _replace_index(statements: Sequence[str]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS support_kb_article_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS support_kb_article_fts")
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    _replace_index(STEMMED)


def downgrade() -> None:
    _replace_index(PORTER)
