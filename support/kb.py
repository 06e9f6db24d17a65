"""Knowledge base: articles by the support lead, full-text search in Russian and English."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.db import table_of
from core.errors import Conflict, FieldProblem, NotFound
from support.models import KbArticle
from support.schemas import ArticleIn, ArticlePatch
from support.stemming import stem

WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 32
# PostgreSQL stores each article's document in both languages (a generated column with a GIN
# index, see migration 0008), so neither matching nor ranking recomputes it.
PG_DOCUMENT = "a.fts_document"


def _stop_words() -> frozenset[str]:
    """Snowball's English and Russian stop words, the lists PostgreSQL's configurations use."""
    folder = resources.files("support") / "stopwords"
    return frozenset(
        word.strip()
        for name in ("english.stop", "russian.stop")
        for word in (folder / name).read_text(encoding="utf-8").splitlines()
        if word.strip()
    )


# Left out of queries on both databases: a word like "the" matches nearly every article, which
# ranks nothing and makes the search scan the whole knowledge base.
STOP_WORDS = _stop_words()


def _words(text: str) -> list[str]:
    words = (w.lower() for w in WORD.findall(text))
    return [w for w in words if len(w) > 2 and w not in STOP_WORDS][:MAX_QUERY_WORDS]


def word_params(text: str, dialect: str) -> dict[str, str]:
    """The bound parameters ``w0``, ``w1``… that the search statements below expect. SQLite's index
    holds Snowball stems (support.stemming), so its query words are stemmed the same way; PostgreSQL
    stems them itself."""
    words = _words(text)
    if dialect != "postgresql":
        words = [stem(word) for word in words]
    # A word said twice is still one word of the text (coverage counts distinct words).
    return {f"w{i}": word for i, word in enumerate(dict.fromkeys(words))}


async def search_articles(
    session: AsyncSession,
    text: str,
    *,
    limit: int = 20,
    include_drafts: bool = False,
    tag: str | None = None,
) -> list[KbArticle]:
    """Articles sharing any word with ``text``, best first (PostgreSQL full-text search, SQLite FTS5),
    as a ticket's description finds its suggestions: an article matching more of the words, and
    matching them more often, ranks higher. ``tag`` filters before the limit."""
    dialect = session.get_bind().dialect.name
    words = word_params(text, dialect)
    if not words:
        return []
    statement = _search_statement(dialect, len(words), include_drafts, tag is not None)
    params: dict[str, Any] = words | {"n": limit} | ({"tag": tag} if tag is not None else {})
    found: list[KbArticle] = list((await session.scalars(statement, params)).all())
    return found


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A published article suggested for a text, as a ticket records and shows it."""

    id: uuid.UUID
    slug: str
    title: str


@functools.lru_cache(maxsize=64)
def suggestions_subquery(dialect: str, word_count: int) -> sa.ScalarSelect[Any]:
    """The published articles sharing any word with a text, best first, as one JSON value, so a
    caller can ask for them inside a statement of its own. Parameters: ``w0``… and ``n``."""
    fields = "'id', s.id, 'slug', s.slug, 'title', s.title, 'rank', s.rank"
    if dialect == "postgresql":
        aggregate = f"coalesce(json_agg(json_build_object({fields})), '[]'::json)"
    else:
        aggregate = f"json_group_array(json_object({fields}))"
    rank, matches = _matching(dialect, word_count, include_drafts=False, tagged=False)
    text = sa.text(f"SELECT {aggregate} FROM (SELECT a.id, a.slug, a.title, {rank} AS rank {matches}) s")  # noqa: S608
    return text.columns(sa.column("suggestions", sa.JSON)).scalar_subquery()


def suggestions_from(value: list[dict[str, Any]] | None) -> list[Suggestion]:  # Any: decoded JSON
    """Decode what ``suggestions_subquery`` returned, best first (a lower rank is better)."""
    rows = sorted(value or [], key=lambda row: (float(row["rank"]), str(row["slug"])))
    return [Suggestion(id=uuid.UUID(str(r["id"])), slug=str(r["slug"]), title=str(r["title"])) for r in rows]


@functools.lru_cache(maxsize=256)
def _search_statement(dialect: str, word_count: int, include_drafts: bool, tagged: bool) -> sa.Executable:
    """The search SQL for a number of words, returning whole articles best first."""
    columns = table_of(KbArticle).columns
    selected = ", ".join(f"a.{c.name}" for c in columns)
    _, matches = _matching(dialect, word_count, include_drafts=include_drafts, tagged=tagged)
    text = sa.text(f"SELECT {selected} {matches}")
    return sa.select(KbArticle).from_statement(text.columns(*columns))


def _has_tag_sql(dialect: str) -> str:
    """A condition on alias ``a``: its tags include the bound parameter ``tag``."""
    if dialect == "postgresql":
        return "jsonb_exists(a.tags::jsonb, :tag)"
    return "EXISTS (SELECT 1 FROM json_each(a.tags) WHERE json_each.value = :tag)"


# The rank is one number, lower is better: first how many of the text's words an article contains
# (computed alike on both databases, so they order alike), then each database's own relevance within
# the same count (PostgreSQL's ts_rank, below 1; SQLite's bm25, negative and small), then the slug.
COVERAGE_WEIGHT = 1_000_000


def _matching(dialect: str, word_count: int, *, include_drafts: bool, tagged: bool) -> tuple[str, str]:
    """The rank expression, and the FROM, WHERE, ORDER BY and LIMIT of a search over alias ``a``:
    words are bound parameters ``w0``…, never spliced into SQL, and a lower rank is a better match.
    Any word may match; an article containing more of the words ranks higher (see COVERAGE_WEIGHT)."""
    published = "" if include_drafts else "a.published AND "
    if tagged:
        published += f"{_has_tag_sql(dialect)} AND "
    if dialect == "postgresql":
        # A word matches in either language. Each word's query is computed once per search, in a one-row
        # subquery the planner may not fold into the scan (OFFSET 0): in a prepared statement's generic
        # plan, plainto_tsquery of a parameter is otherwise evaluated again for every article and every
        # use (each word's query is used three times an article), which made a ticket's suggestion search
        # about four times the database's CPU.
        words = ", ".join(
            f"plainto_tsquery('russian', :w{i}) || plainto_tsquery('english', :w{i}) AS t{i}"
            for i in range(word_count)
        )
        query = " || ".join(f"w.t{i}" for i in range(word_count))
        coverage = " + ".join(f"({PG_DOCUMENT} @@ q.t{i})::int" for i in range(word_count))
        rank = f"(-({coverage}) * {COVERAGE_WEIGHT} - ts_rank({PG_DOCUMENT}, q.query))"
        select_words = f"SELECT {words} OFFSET 0"  # words are bound parameters, never spliced
        queries = f"(SELECT w.*, {query} AS query FROM ({select_words}) w OFFSET 0) q"  # noqa: S608
        source = f"FROM {queries} JOIN support_kb_article a ON {published}{PG_DOCUMENT} @@ q.query"
    else:
        terms = [f"'\"' || replace(:w{i}, '\"', '\"\"') || '\"'" for i in range(word_count)]
        query = " || ' OR ' || ".join(terms)
        # How many of the words each article contains: one pass over each word's postings, counted
        # together (an IN list per word built a temporary index per word: twice the statement's time).
        matching = "SELECT rowid FROM support_kb_article_fts WHERE support_kb_article_fts MATCH"
        postings = " UNION ALL ".join(f"{matching} {term}" for term in terms)  # words are bound
        rank = f"(-cov.words * {COVERAGE_WEIGHT} + bm25(support_kb_article_fts))"
        counted = f"SELECT rowid AS article, count(*) AS words FROM ({postings}) GROUP BY rowid"  # noqa: S608
        source = (
            "FROM support_kb_article_fts f JOIN support_kb_article a ON a.rowid = f.rowid "
            f"JOIN ({counted}) cov ON cov.article = a.rowid "
            f"WHERE {published}support_kb_article_fts MATCH ({query})"
        )
    return rank, f"{source} ORDER BY {rank}, a.slug LIMIT :n"


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
    """The newest articles first; ``tag`` filters in the database, before the limit."""
    statement = sa.select(KbArticle).order_by(col(KbArticle.updated_at).desc()).limit(limit)
    if not include_drafts:
        statement = statement.where(col(KbArticle.published))
    if tag is not None:
        dialect = session.get_bind().dialect.name
        condition = _has_tag_sql(dialect).replace("a.tags", "support_kb_article.tags")
        statement = statement.where(sa.text(condition).bindparams(tag=tag))
    return list((await session.scalars(statement)).all())


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
