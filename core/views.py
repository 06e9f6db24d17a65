"""Responses are built by conversion, one way everywhere: a response shape (a ``View``) reads each of
its fields from the object it shows, by name, and takes the ones the object does not have (a computed
label, a related list) as keywords. msgspec does the reading and checks every type on the way."""

from __future__ import annotations

from typing import Any, Self

import msgspec


class _Reading:
    """The object shown, with the given values in front of its attributes."""

    __slots__ = ("_given", "_source")

    def __init__(self, source: object, given: dict[str, Any]) -> None:  # Any: field values
        self._source, self._given = source, given

    def __getattr__(self, name: str) -> Any:  # Any: whatever the attribute holds
        if name in self._given:
            return self._given[name]
        return getattr(self._source, name)


class View(msgspec.Struct, kw_only=True):
    """A response shape; ``of`` builds one from a model (or any object with the fields' names)."""

    @classmethod
    def of(cls, source: object, **given: Any) -> Self:  # Any: field values
        """``given`` values win over the source's attributes; an UNSET one leaves its field's default."""
        given = {name: value for name, value in given.items() if value is not msgspec.UNSET}
        return msgspec.convert(_Reading(source, given) if given else source, cls, from_attributes=True)
