"""Knowledge base: articles by the support lead, full-text search in Russian and English."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Sequence
from datetime import datetime

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import Conflict, FieldProblem, NotFound
from support.models import KbArticle
from support.schemas import ArticleIn, ArticlePatch

WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 32
# The same expression as the migration's GIN index, so PostgreSQL can use it.
PG_DOCUMENT = (
    "(to_tsvector('russian', a.title || ' ' || a.body || ' ' || a.tags::text)"
    " || to_tsvector('english', a.title || ' ' || a.body || ' ' || a.tags::text))"
)


def _words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text) if len(w) > 2][:MAX_QUERY_WORDS]


async def search(
    session: AsyncSession,
    text: str,
    *,
    limit: int = 20,
    match_any: bool = False,
    include_drafts: bool = False,
) -> list[KbArticle]:
    """Articles matching the words of ``text``, best first (PostgreSQL full-text search, SQLite FTS5).

    By default every word must match (a search box); ``match_any`` ranks articles sharing any word,
    which is how a ticket's description finds suggestions.
    """
    words = _words(text)
    if not words:
        return []
    params: dict[str, object] = {f"w{i}": word for i, word in enumerate(words)} | {"n": limit}
    statement = _search_statement(session.get_bind().dialect.name, len(words), match_any, include_drafts)
    ids = [_uuid(row[0]) for row in await session.execute(statement, params)]
    if not ids:
        return []
    found = {
        a.id: a for a in (await session.scalars(sa.select(KbArticle).where(col(KbArticle.id).in_(ids)))).all()
    }
    return [found[i] for i in ids if i in found]


@functools.lru_cache(maxsize=256)
def _search_statement(dialect: str, word_count: int, match_any: bool, include_drafts: bool) -> sa.TextClause:
    """The search SQL for a number of words; words are bound parameters, never spliced into SQL."""
    published = "" if include_drafts else "a.published AND "
    if dialect == "postgresql":
        # A word matches in either language.
        terms = [
            f"(plainto_tsquery('russian', :w{i}) || plainto_tsquery('english', :w{i}))"
            for i in range(word_count)
        ]
        query = "(" + (" || " if match_any else " && ").join(terms) + ")"
        return sa.text(
            f"SELECT a.id FROM support_kb_article a WHERE {published}{PG_DOCUMENT} @@ {query} "  # noqa: S608
            f"ORDER BY ts_rank({PG_DOCUMENT}, {query}) DESC, a.slug LIMIT :n"
        )
    terms = [f"'\"' || replace(:w{i}, '\"', '\"\"') || '\"'" for i in range(word_count)]
    query = (" || ' OR ' || " if match_any else " || ' AND ' || ").join(terms)
    return sa.text(
        "SELECT a.id FROM support_kb_article_fts f JOIN support_kb_article a ON a.rowid = f.rowid "  # noqa: S608
        f"WHERE {published}support_kb_article_fts MATCH ({query}) "
        "ORDER BY bm25(support_kb_article_fts), a.slug LIMIT :n"
    )


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


async def published_by_slugs(session: AsyncSession, slugs: Sequence[str]) -> list[KbArticle]:
    """The published articles with these slugs; an unknown or draft slug is a field problem."""
    if not slugs:
        return []
    found = (
        await session.scalars(
            sa.select(KbArticle).where(col(KbArticle.slug).in_(slugs), col(KbArticle.published))
        )
    ).all()
    unknown = sorted(set(slugs) - {a.slug for a in found})
    if unknown:
        raise NotFound(
            "Cited articles must exist and be published: " + ", ".join(unknown),
            errors=[FieldProblem("cited_articles", f"unknown article {slug}") for slug in unknown],
        )
    return list(found)


async def get_article(session: AsyncSession, slug: str, *, include_drafts: bool) -> KbArticle:
    article = (await session.scalars(sa.select(KbArticle).where(col(KbArticle.slug) == slug))).first()
    if article is None or not (article.published or include_drafts):
        raise NotFound("No article with this slug.")
    return article


async def list_articles(
    session: AsyncSession, *, include_drafts: bool, tag: str | None = None, limit: int = 50
) -> list[KbArticle]:
    statement = sa.select(KbArticle).order_by(col(KbArticle.updated_at).desc()).limit(limit)
    if not include_drafts:
        statement = statement.where(col(KbArticle.published))
    articles = list((await session.scalars(statement)).all())
    return [a for a in articles if tag is None or tag in a.tags]


async def create_article(session: AsyncSession, data: ArticleIn, *, now: datetime) -> KbArticle:
    article = KbArticle(
        slug=data.slug,
        title=data.title,
        body=data.body,
        tags=data.tags,
        published=data.published,
        created_at=now,
        updated_at=now,
    )
    session.add(article)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("An article with this slug exists.", errors=[FieldProblem("slug", "taken")]) from exc
    return article


async def update_article(session: AsyncSession, slug: str, data: ArticlePatch, *, now: datetime) -> KbArticle:
    article = await get_article(session, slug, include_drafts=True)
    for field, value in msgspec.structs.asdict(data).items():
        if value is not msgspec.UNSET:
            setattr(article, field, value)
    article.updated_at = now
    await session.flush()
    return article


async def delete_article(session: AsyncSession, slug: str) -> None:
    article = await get_article(session, slug, include_drafts=True)
    await session.delete(article)
    await session.flush()
