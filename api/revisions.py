"""Optimistic concurrency over HTTP: a resource's revision is its ETag, and a change may name the
revision it was made against in ``If-Match`` (refused with 412 when the resource changed since)."""

from __future__ import annotations

import re
from typing import Annotated, Protocol, TypeVar

from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter

from core.errors import PreconditionFailed

REVISION = re.compile(r'^(?:W/)?"(\d+)"$')

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        max_length=64,
        description='The ETag of the version you read (e.g. "3"); the change is refused with 412 if the '
        "resource changed since. `*` or no header: no precondition.",
    ),
]
ETAG = ResponseHeader(
    name="ETag", documentation_only=True, description='The revision, e.g. "3": send it as If-Match'
)


class Revised(Protocol):
    @property
    def revision(self) -> int: ...


R = TypeVar("R", bound=Revised)


def expected_revision(header: str | None) -> int | None:
    """The revision an ``If-Match`` header names; absent or ``*`` means no precondition."""
    if header is None or header.strip() == "*":
        return None
    found = REVISION.match(header.strip())
    if found is None:
        raise PreconditionFailed('If-Match must be an ETag this API returned, e.g. "3".')
    return int(found.group(1))


def with_etag(body: R, status_code: int = 200) -> Response[R]:
    return Response(body, status_code=status_code, headers={"ETag": f'"{body.revision}"'})
