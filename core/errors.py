"""Domain errors: what went wrong, in domain words. No HTTP here; api/errors.py maps them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One problem with one input field (a dotted path) and where the field was: body, query, path,
    header."""

    field: str
    message: str
    source: str = "body"


class DesklineError(Exception):
    """Base of every domain error. ``detail`` is for humans, ``context`` for machines."""

    # Set on errors whose side effects must survive the error (e.g. revoking a reused token family).
    commit_before_raising: bool = False

    def __init__(self, detail: str, *, errors: list[FieldProblem] | None = None, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        # Any: context values are JSON-serialisable scalars chosen by each raising site.
        self.context: dict[str, Any] = context


class NotFound(DesklineError):
    """The object does not exist, or the caller may not know that it exists (tenancy)."""


class Conflict(DesklineError):
    """The request is valid but the current state of the object forbids it."""


class InvalidInput(DesklineError):
    """Input passed structural validation but breaks a domain rule about its values."""


class MalformedInput(DesklineError):
    """The input cannot be read at all: not UTF-8, not JSON, or built to make a reader give up."""


class NestingTooDeep(MalformedInput):
    """A JSON document nests arrays and objects deeper than any Deskline document does."""


class PermissionDenied(DesklineError):
    """The caller is known but may not do this."""


class PreconditionFailed(DesklineError):
    """An ``If-Match`` precondition did not hold: the object changed since it was read."""


def check_revision(what: str, current: int, expected: int | None) -> None:
    """Optimistic concurrency: an If-Match that names another revision than ``current`` is refused."""
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"The {what} changed since you read it (revision {current}, you sent {expected}).",
            current_revision=current,
        )
