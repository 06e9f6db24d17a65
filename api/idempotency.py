"""The ``Idempotency-Key`` header on creating POSTs, around a handler's work.

The key is claimed in a short committed transaction on the request's own session, so a concurrent
retry sees the claim and the request never needs a second pooled connection while it holds one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.params import HeaderParameter
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import Actor
from api.context import AppContext
from core import idempotency
from core.errors import FieldProblem, InvalidInput
from core.transactions import begin_request_transaction, end_transaction, unit_of_work

MAX_KEY_LENGTH = 255
REPLAYED = "Idempotent-Replayed"


# Declared on each operation that takes one, so the document shows it and Litestar checks its length.
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        description="Makes a retry safe: the same key with the same body answers the first response "
        "(marked Idempotent-Replayed); with another body, 422 idempotency_key_reused; while the first "
        "is still running, 409 request_in_flight. Keys are kept for a day.",
    ),
]


def checked_key(key: str | None) -> str | None:
    """The Idempotency-Key a request sent, if any; one that is not printable is refused."""
    if key is not None and (not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable()):
        raise InvalidInput(
            "Idempotency-Key must be 1-255 printable characters.",
            errors=[FieldProblem("Idempotency-Key", "1-255 printable characters", source="header")],
        )
    return key


async def claim_key(
    request: Request[Any, Any, Any], db: AsyncSession, actor: Actor, ctx: AppContext, key: str
) -> idempotency.Claim | idempotency.StoredResponse:
    """Claim the key in a transaction of its own (committed before the work starts)."""
    print_ = idempotency.fingerprint(request.method, request.url.path, await request.body())
    async with unit_of_work(db, is_sqlite=ctx.settings.is_sqlite):
        return await idempotency.claim(
            db, f"{actor.kind}:{actor.id}", key, print_, now=ctx.clock.now(), lease=lease_of(ctx)
        )


def lease_of(ctx: AppContext) -> timedelta:
    return timedelta(seconds=ctx.settings.idempotency_lease_seconds)


def replay(stored: idempotency.StoredResponse) -> Response[Any]:
    return Response(stored.body, status_code=stored.status, headers={REPLAYED: "true"})


async def release_after_failure(db: AsyncSession, ctx: AppContext, claim: idempotency.Claim) -> None:
    """The attempt failed: undo its work and free the key for a retry, in a transaction of its own."""
    await db.rollback()
    async with unit_of_work(db, is_sqlite=ctx.settings.is_sqlite):
        await idempotency.release(db, claim)


async def idempotent(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    actor: Actor,
    ctx: AppContext,
    work: Callable[[], Awaitable[Response[Any]]],
    *,
    key: str | None,
) -> Response[Any]:
    """Run ``work`` once per key: a retry replays the first response (marked ``Idempotent-Replayed``)."""
    key = checked_key(key)
    if key is None:
        return await work()
    claimed = await claim_key(request, db, actor, ctx, key)
    if isinstance(claimed, idempotency.StoredResponse):
        return replay(claimed)
    await end_transaction(db)
    await begin_request_transaction(db, request.method, is_sqlite=ctx.settings.is_sqlite)
    try:
        response = await work()
        body = msgspec.to_builtins(response.content)
        await idempotency.complete(db, claimed, response.status_code or 200, body, now=ctx.clock.now())
    except BaseException:
        await release_after_failure(db, ctx, claimed)
        raise
    return response
