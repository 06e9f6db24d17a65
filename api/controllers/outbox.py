"""The outbox for admins: deliveries by status (dead ones above all) and redelivering one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, QueryParameter

from api.contract import problems
from api.dependencies import DB, Ctx
from api.schemas import PageOut
from core import outbox
from core.errors import InvalidInput, NotFound
from core.outbox import Delivery, DeliveryStatus


class DeliveryOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    channel: str
    recipient: str
    status: DeliveryStatus
    attempts: int
    deliver_after: datetime
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


def delivery_out(delivery: Delivery, event_type: str) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=event_type,
        channel=delivery.channel,
        recipient=delivery.recipient,
        status=delivery.status,
        attempts=delivery.attempts,
        deliver_after=delivery.deliver_after,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
    )


class OutboxController(Controller):
    path = "/v1/outbox/deliveries"
    tags = ["operations"]

    @problems(InvalidInput)
    @get("/", summary="Outbox deliveries (admin): dead ones to redeliver, pending ones with their last error")
    async def list_deliveries(
        self,
        db: DB,
        status: FromQuery[DeliveryStatus | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> PageOut[DeliveryOut]:
        page = await outbox.list_deliveries(db, limit=limit, cursor=cursor, status=status)
        types = await outbox.event_types(db, list(page.items))
        return PageOut(
            items=[delivery_out(d, types[d.event_id]) for d in page.items], next_cursor=page.next_cursor
        )

    @problems(NotFound)
    @post(
        "/{delivery_id:uuid}/redeliver",
        summary="Deliver again (admin): pending from now, three more days",
        status_code=200,
    )
    async def redeliver(self, delivery_id: FromPath[uuid.UUID], db: DB, ctx: Ctx) -> DeliveryOut:
        delivery = await outbox.redeliver(db, delivery_id, now=ctx.clock.now())
        if delivery is None:
            raise NotFound("No delivery with this id.")
        return delivery_out(delivery, (await outbox.event_types(db, [delivery]))[delivery.event_id])
