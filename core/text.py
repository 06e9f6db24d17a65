"""Text that may be stored: no control characters (but tab and line breaks) and no lone surrogates.

Both databases must behave alike: PostgreSQL refuses a NUL in text, SQLite stores it. So the API
refuses such text at the edge, naming the field; text from outside documents (e-mail, calendars,
CSV files) is normalised by dropping those characters instead, since nobody can be asked to fix it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

import msgspec

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def first_forbidden(text: str) -> str | None:
    """``U+XXXX`` of the first forbidden character, or None when the text may be stored."""
    found = FORBIDDEN.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def cleaned(text: str) -> str:
    """The text without forbidden characters (for documents from outside, e.g. an e-mail's body)."""
    return FORBIDDEN.sub("", text)


def forbidden_in(value: Any, path: str = "") -> Iterator[tuple[str, str]]:  # Any: decoded JSON
    """(dotted path, character) of every string in a decoded JSON value that holds one; keys too."""
    if isinstance(value, str):
        if (found := first_forbidden(value)) is not None:
            yield path, found
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (found := first_forbidden(key)) is not None:
                yield child, found
            yield from forbidden_in(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from forbidden_in(item, f"{path}.{index}" if path else str(index))


# At least one visible character: a name or text made of spaces alone is refused (msgspec searches).
NON_BLANK = r"\S"
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NON_BLANK)]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000, pattern=NON_BLANK)]
