"""Every table of every area, collected on one MetaData for Alembic and the schema tests."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlmodel import SQLModel

# Importing a part registers its tables (each part's surface imports its models).
import accounts  # noqa: F401
import billing  # noqa: F401
import contracts  # noqa: F401
import core.counters
import core.holidays
import core.idempotency
import core.outbox  # noqa: F401
import notifications  # noqa: F401
import scheduling  # noqa: F401
import support  # noqa: F401

metadata: MetaData = SQLModel.metadata


# Structures that live only in migrations (dialect-specific, not expressible as models): SQLite FTS5
# tables and their shadow tables, PostgreSQL full-text indexes and exclusion constraints.
SEARCH_OBJECT_PREFIXES = ("support_kb_article_fts", "fts_", "excl_")


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic filter: leave the migration-only search structures out of model comparison."""
    del obj, type_, reflected, compare_to
    return not (name or "").startswith(SEARCH_OBJECT_PREFIXES)
