"""Webhook subscriptions over HTTP (scope ``webhooks:manage``; admins see every subscription)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

import notifications
from accounts import Actor, Role
from api.contract import problems
from api.dependencies import DB, Ctx, CurrentActor
from api.schemas import PageOut
from core.errors import InvalidInput, NotFound
from core.urls import UnsafeUrl, check_url
from notifications import DeliveryOut, RotationIn, SubscriptionIn, SubscriptionOut


def _owner(actor: Actor) -> uuid.UUID | None:
    """Whose subscriptions the caller manages: an integration its own, an admin everyone's."""
    return None if actor.has_role(Role.ADMIN) else actor.id


class WebhookSubscriptionController(Controller):
    path = "/v1/webhook-subscriptions"
    tags = ["webhooks"]

    @problems(InvalidInput, UnsafeUrl)
    @post("/", summary="Subscribe a URL to event types; the signing secret is shown once")
    async def subscribe(
        self, data: JSONBody[SubscriptionIn], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> SubscriptionOut:
        await check_url(data.url, ctx.settings.webhook_url_policy, what="webhook")
        subscription, secret = await notifications.subscribe(
            db, actor.id, data.url, data.event_types, ctx.keyring, now=ctx.clock.now()
        )
        return SubscriptionOut.of(subscription, secret)

    @get("/", summary="Webhook subscriptions")
    async def list_subscriptions(self, actor: CurrentActor, db: DB) -> list[SubscriptionOut]:
        return [SubscriptionOut.of(s) for s in await notifications.listing(db, _owner(actor))]

    @problems(NotFound)
    @get("/{subscription_id:uuid}", summary="One webhook subscription")
    async def get_subscription(
        self, subscription_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB
    ) -> SubscriptionOut:
        return SubscriptionOut.of(await notifications.owned(db, subscription_id, _owner(actor)))

    @problems(NotFound)
    @delete("/{subscription_id:uuid}", summary="End a subscription (its pending deliveries stop)")
    async def unsubscribe(
        self, subscription_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> None:
        subscription = await notifications.owned(db, subscription_id, _owner(actor))
        await notifications.unsubscribe(db, subscription, now=ctx.clock.now())

    @problems(NotFound, InvalidInput)
    @post(
        "/{subscription_id:uuid}/rotate-secret",
        summary="A new signing secret (shown once); the old one keeps signing beside it for the overlap",
        status_code=200,
    )
    async def rotate(
        self,
        subscription_id: FromPath[uuid.UUID],
        data: JSONBody[RotationIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> SubscriptionOut:
        subscription = await notifications.owned(db, subscription_id, _owner(actor))
        secret = await notifications.rotate(
            db,
            subscription,
            ctx.keyring,
            overlap=timedelta(minutes=data.overlap_minutes),
            now=ctx.clock.now(),
        )
        return SubscriptionOut.of(subscription, secret)

    @problems(NotFound, InvalidInput)
    @get(
        "/{subscription_id:uuid}/deliveries",
        summary="The subscription's deliveries, newest first, with their attempts so far",
    )
    async def deliveries(
        self,
        subscription_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        db: DB,
        status: FromQuery[notifications.DeliveryStatus | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="Page size")] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> PageOut[DeliveryOut]:
        subscription = await notifications.owned(db, subscription_id, _owner(actor))
        page = await notifications.list_deliveries(
            db, limit=limit, cursor=cursor, status=status, webhook_subscription_id=subscription.id
        )
        types = await notifications.event_types(db, list(page.items))
        return PageOut(
            items=[DeliveryOut.of(d, types[d.event_id]) for d in page.items], next_cursor=page.next_cursor
        )

    @problems(NotFound)
    @post(
        "/{subscription_id:uuid}/deliveries/{delivery_id:uuid}/redeliver",
        summary="Deliver one again (the same webhook-id)",
        status_code=200,
    )
    async def redeliver(
        self,
        subscription_id: FromPath[uuid.UUID],
        delivery_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> DeliveryOut:
        subscription = await notifications.owned(db, subscription_id, _owner(actor))
        delivery = await notifications.delivery_of(db, subscription, delivery_id)
        again = await notifications.redeliver(db, delivery.id, now=ctx.clock.now())
        assert again is not None
        return DeliveryOut.of(again, (await notifications.event_types(db, [again]))[again.event_id])
