"""The outbox for admins: deliveries by status (dead ones above all) and redelivering one."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, QueryParameter

import notifications
from api.contract import problems
from api.dependencies import DB, Ctx
from api.schemas import PageOut
from core.errors import InvalidInput, NotFound
from notifications import DeliveryOut


class OutboxController(Controller):
    path = "/v1/outbox/deliveries"
    tags = ["operations"]

    @problems(InvalidInput)
    @get("/", summary="Outbox deliveries (admin): dead ones to redeliver, pending ones with their last error")
    async def list_deliveries(
        self,
        db: DB,
        status: FromQuery[notifications.DeliveryStatus | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> PageOut[DeliveryOut]:
        page = await notifications.list_deliveries(db, limit=limit, cursor=cursor, status=status)
        types = await notifications.event_types(db, list(page.items))
        return PageOut(
            items=[DeliveryOut.of(d, types[d.event_id]) for d in page.items], next_cursor=page.next_cursor
        )

    @problems(NotFound)
    @post(
        "/{delivery_id:uuid}/redeliver",
        summary="Deliver again (admin): pending from now, three more days",
        status_code=200,
    )
    async def redeliver(self, delivery_id: FromPath[uuid.UUID], db: DB, ctx: Ctx) -> DeliveryOut:
        delivery = await notifications.redeliver(db, delivery_id, now=ctx.clock.now())
        if delivery is None:
            raise NotFound("No delivery with this id.")
        return DeliveryOut.of(delivery, (await notifications.event_types(db, [delivery]))[delivery.event_id])
