"""Schemathesis hooks for the suite's run: how to send the bodies it cannot serialise itself, and, in the
hostile run (DESKLINE_SCHEMATHESIS_HOSTILE=1), input built to break a reader or a column: JSON bodies
nested far deeper than any document, and every integer of a body or a query beyond any bound."""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

import schemathesis

HOSTILE = os.environ.get("DESKLINE_SCHEMATHESIS_HOSTILE") == "1"
SEEN = os.environ.get("DESKLINE_SCHEMATHESIS_SEEN")  # where the hostile run notes the problem codes met
TOO_BIG = 10**30  # beyond every documented maximum, and beyond a 64-bit column
TOO_DEEP = 100  # nesting levels; the API reads at most 32
_cases = itertools.count()


@schemathesis.serializer("message/rfc822")
def rfc822(_ctx: Any, value: Any) -> bytes:  # Any: schemathesis hands over the generated value
    """An e-mail body as the generated text, sent as raw bytes (the endpoint parses what it gets)."""
    return str(value).encode("utf-8", "surrogatepass")


def _deep() -> Any:  # Any: a JSON value
    value: Any = []
    for _ in range(TOO_DEEP):
        value = [value]
    return value


def _oversized(value: Any) -> tuple[Any, bool]:  # Any: a JSON value
    """The value with every integer in it (not booleans) made too big, and whether there was one."""
    if isinstance(value, bool):
        return value, False
    if isinstance(value, int):
        return TOO_BIG, True
    if isinstance(value, dict):
        pairs = [(key, *_oversized(item)) for key, item in value.items()]
        return {key: item for key, item, _ in pairs}, any(found for _, _, found in pairs)
    if isinstance(value, list):
        items = [_oversized(item) for item in value]
        return [item for item, _ in items], any(found for _, found in items)
    return value, False


def _integer(definition: dict[str, Any]) -> bool:  # Any: the parameter's OpenAPI definition
    schema = definition.get("schema", {})
    return bool(
        schema.get("type") == "integer" or any(o.get("type") == "integer" for o in schema.get("oneOf", []))
    )


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:  # Any: schemathesis's hook arguments
    if not HOSTILE:
        return
    if case.media_type == "application/json":
        oversized, found = _oversized(case.body)
        case.body = oversized if found else _deep()  # a body with no integer is nested too deeply
    integers = [p.name for p in case.operation.query if _integer(p.definition)]
    if integers:
        case.query = {**(case.query or {}), **dict.fromkeys(integers, str(TOO_BIG))}


@schemathesis.hook
def after_call(ctx: Any, case: Any, response: Any) -> None:  # Any: schemathesis's hook arguments
    """The hostile run notes each problem code it was answered, so the suite can tell it really sent
    what it claims to."""
    if not (HOSTILE and SEEN) or not response.headers.get("content-type", [""])[0].startswith(
        "application/problem+json"
    ):
        return
    with open(SEEN, "a", encoding="utf-8") as seen:
        seen.write(json.loads(response.content).get("code", "") + "\n")
