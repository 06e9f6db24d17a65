"""Identifiers: UUIDv7 (time-ordered, index friendly) for every row."""

from __future__ import annotations

import uuid

from uuid_utils.compat import uuid7


def new_id() -> uuid.UUID:
    return uuid7()
