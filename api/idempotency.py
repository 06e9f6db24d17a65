"""The ``Idempotency-Key`` header on creating POSTs, around a handler's work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.actor import Actor
from api.context import AppContext
from core import idempotency
from core.errors import FieldProblem, InvalidInput

MAX_KEY_LENGTH = 255


async def idempotent(
    request: Request[Any, Any, Any],
    db: AsyncSession,
    actor: Actor,
    ctx: AppContext,
    work: Callable[[], Awaitable[Response[Any]]],
) -> Response[Any]:
    """Run ``work`` once per key: a retry replays the first response (marked ``Idempotent-Replayed``)."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return await work()
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            "Idempotency-Key must be 1-255 printable characters.",
            errors=[FieldProblem("Idempotency-Key", "invalid")],
        )
    principal, now = f"{actor.kind}:{actor.id}", ctx.clock.now()
    print_ = idempotency.fingerprint(request.method, request.url.path, await request.body())
    # SQLite serialises writers, and this request already holds the write lock: claim in its transaction.
    separate = not ctx.settings.is_sqlite
    sessions = ctx.alchemy.create_session_maker()
    if separate:
        async with sessions() as session, session.begin():
            stored = await idempotency.claim(session, principal, key, print_, now=now)
    else:
        stored = await idempotency.claim(db, principal, key, print_, now=now)
    if stored is not None:
        return Response(stored.body, status_code=stored.status, headers={"Idempotent-Replayed": "true"})
    try:
        response = await work()
        body = msgspec.to_builtins(response.content)
        status = response.status_code or 200
        await idempotency.complete(db, principal, key, status, body, now=now)
    except BaseException:
        if separate:
            async with sessions() as session, session.begin():
                await idempotency.release(session, principal, key)
        raise
    return response
