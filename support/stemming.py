"""Stemming for SQLite's full-text search, so Russian finds every form of a word there too.

FTS5 ships an English-only stemmer (porter). Here the Snowball stemmers — the algorithms behind
PostgreSQL's russian and english configurations — reduce every word to its stem: SQLite indexes the
stemmed text (the function ``deskline_stem``, registered on every SQLite connection, is called by
the index triggers) and queries are stemmed the same way before they are matched.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

import snowballstemmer
from sqlalchemy import event
from sqlalchemy.engine import Engine

SQL_FUNCTION = "deskline_stem"
WORD = re.compile(r"\w+", re.UNICODE)
CYRILLIC = re.compile("[а-яё]")
_stemmers = threading.local()  # Snowball stemmers keep state while they work: one set per thread


def _stemmer(language: str) -> Any:  # Any: snowballstemmer's stemmers are untyped
    found = getattr(_stemmers, language, None)
    if found is None:
        found = snowballstemmer.stemmer(language)
        setattr(_stemmers, language, found)
    return found


@functools.lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """The stem of one word: Russian for Cyrillic words, English otherwise."""
    lowered = word.lower()
    return str(_stemmer("russian" if CYRILLIC.search(lowered) else "english").stemWord(lowered))


def stem_text(text: object) -> str:
    """Every word of ``text`` stemmed, separated by spaces (what SQLite indexes)."""
    if text is None:
        return ""
    return " ".join(stem(word) for word in WORD.findall(str(text)))


@event.listens_for(Engine, "connect")
def _register_on_sqlite(dbapi_connection: Any, _record: Any) -> None:  # Any: DB-API connections
    """Every SQLite connection (the app's, migrations', the command line's) can stem."""
    if hasattr(dbapi_connection, "create_function"):  # sqlite3 and aiosqlite; asyncpg has none
        dbapi_connection.create_function(SQL_FUNCTION, 1, stem_text, deterministic=True)
