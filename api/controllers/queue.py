"""The staff queue over HTTP: both lines' open tickets by what falls due first, who works each, and a
server-sent event stream that says when the queue changed (the console reloads it then)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from litestar import Controller, get, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.context import AppContext
from api.contract import problems
from api.dependencies import DB, Ctx, CurrentActor
from api.schemas import PageOut
from contracts import AssigneeIn, QueueFilter, QueueItemOut, queue_marker, work_queue
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.transactions import end_transaction
from support import assign_ticket, is_support_staff

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]
Line = Annotated[str | None, QueryParameter(pattern="^(basic|sla)$", description="basic or sla")]
Priority = Annotated[str | None, QueryParameter(pattern="^P[1-9]$", description="An SLA priority, e.g. P1")]
KEEPALIVE_SECONDS = 15.0


async def _changes(ctx: AppContext) -> AsyncIterator[ServerSentEventMessage]:
    """``queue`` events whenever the queue's change marker moves, a comment line every 15 s between
    them; each poll reads on a short connection of its own and gives it back before waiting. The stream
    ends after ``queue_stream_seconds`` and the browser's EventSource reconnects."""
    settings = ctx.settings
    ends = time.monotonic() + settings.queue_stream_seconds
    last: str | None = None
    quiet_since = time.monotonic()
    yield ServerSentEventMessage(data=None, retry=2000, comment="queue changes come as 'queue' events")
    while time.monotonic() < ends:
        async with ctx.read_engine.connect() as connection:
            marker = await queue_marker(connection)
        if marker != last:
            if last is not None:
                yield ServerSentEventMessage(event="queue", data=marker)
            last, quiet_since = marker, time.monotonic()
        elif time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
            yield ServerSentEventMessage(data=None, comment="keep-alive")
            quiet_since = time.monotonic()
        await asyncio.sleep(settings.queue_poll_seconds)


class QueueController(Controller):
    path = "/v1/queue"
    tags = ["staff queue"]

    @problems(InvalidInput, PermissionDenied)
    @get(
        "/",
        summary="Open tickets of both lines, what falls due first first, with live timers (support staff)",
    )
    async def list_queue(
        self,
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        limit: Limit = 50,
        cursor: FromQuery[str | None] = None,
        line: Line = None,
        priority: Priority = None,
        organization_id: FromQuery[uuid.UUID | None] = None,
        assigned_to_me: FromQuery[bool] = False,
        unassigned: FromQuery[bool] = False,
        breached: FromQuery[bool | None] = None,
    ) -> PageOut[QueueItemOut]:
        which = QueueFilter(
            line=line,
            priority=priority,
            organization_id=organization_id,
            assigned_to_me=assigned_to_me,
            unassigned=unassigned,
            breached=breached,
        )
        page = await work_queue(db, actor, which, limit=limit, cursor=cursor, now=ctx.clock.now())
        return PageOut(items=list(page.items), next_cursor=page.next_cursor)

    @problems(NotFound, PermissionDenied, InvalidInput)
    @put(
        "/{ticket_id:uuid}/assignee",
        summary="Take a ticket, give it back (null) or give it to a colleague (leads, admins)",
    )
    async def assign(
        self,
        ticket_id: FromPath[uuid.UUID],
        data: JSONBody[AssigneeIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> AssigneeIn:
        ticket = await assign_ticket(db, actor, ticket_id, data.assignee_id, now=ctx.clock.now())
        return AssigneeIn(assignee_id=ticket.assignee_id)

    @problems(PermissionDenied)
    @get(
        "/events",
        summary="Server-sent events: 'queue' whenever a ticket is filed or changes (reload the queue then)",
        media_type="text/event-stream",
    )
    async def events(self, actor: CurrentActor, db: DB, ctx: Ctx) -> ServerSentEvent:
        if not is_support_staff(actor):
            raise PermissionDenied("The queue is support staff's.")
        await end_transaction(db)  # nothing pooled is held while the stream lasts
        return ServerSentEvent(
            _changes(ctx), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )
