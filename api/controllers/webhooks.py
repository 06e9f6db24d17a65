"""Webhook subscriptions over HTTP (scope ``webhooks:manage``; admins see every subscription)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from accounts.actor import Actor
from accounts.roles import Role
from api.contract import problems
from api.controllers.outbox import DeliveryOut, delivery_out
from api.dependencies import DB, Ctx, CurrentActor
from api.schemas import PageOut
from core import outbox, webhooks
from core.errors import InvalidInput, NotFound
from core.outbox import Delivery, DeliveryStatus, OutboxEvent
from core.urls import UnsafeUrl, check_url
from core.webhooks import EVENT_TYPES, WebhookSubscription

Url = Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$", max_length=2000)]
EventType = Annotated[str, msgspec.Meta(description=f"One of: {', '.join(EVENT_TYPES)}", max_length=64)]


class SubscriptionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: Url
    event_types: Annotated[list[EventType], msgspec.Meta(min_length=1, max_length=len(EVENT_TYPES))]


class RotationIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    overlap_minutes: Annotated[int, msgspec.Meta(ge=0, le=7 * 24 * 60)] = 24 * 60


class SubscriptionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    url: str
    event_types: list[str]
    active: bool
    disabled_reason: str | None
    previous_secret_valid_until: datetime | None
    created_at: datetime
    secret: str | msgspec.UnsetType = (
        msgspec.UNSET
    )  # only when created or rotated: keep it, it is not shown again


def _out(s: WebhookSubscription, secret: str | None = None) -> SubscriptionOut:
    return SubscriptionOut(
        id=s.id,
        url=s.url,
        event_types=s.event_types,
        active=s.active,
        disabled_reason=s.disabled_reason,
        previous_secret_valid_until=s.previous_valid_until,
        created_at=s.created_at,
        secret=secret if secret is not None else msgspec.UNSET,
    )


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
        subscription, secret = await webhooks.subscribe(
            db, actor.id, data.url, data.event_types, ctx.keyring, now=ctx.clock.now()
        )
        return _out(subscription, secret)

    @get("/", summary="Webhook subscriptions")
    async def list_subscriptions(self, actor: CurrentActor, db: DB) -> list[SubscriptionOut]:
        return [_out(s) for s in await webhooks.listing(db, _owner(actor))]

    @problems(NotFound)
    @get("/{subscription_id:uuid}", summary="One webhook subscription")
    async def get_subscription(
        self, subscription_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB
    ) -> SubscriptionOut:
        return _out(await webhooks.owned(db, subscription_id, _owner(actor)))

    @problems(NotFound)
    @delete("/{subscription_id:uuid}", summary="End a subscription (its pending deliveries stop)")
    async def unsubscribe(
        self, subscription_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> None:
        subscription = await webhooks.owned(db, subscription_id, _owner(actor))
        subscription.active, subscription.disabled_reason = False, "unsubscribed"
        subscription.updated_at = ctx.clock.now()

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
        subscription = await webhooks.owned(db, subscription_id, _owner(actor))
        secret = await webhooks.rotate(
            db,
            subscription,
            ctx.keyring,
            overlap=timedelta(minutes=data.overlap_minutes),
            now=ctx.clock.now(),
        )
        return _out(subscription, secret)

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
        status: FromQuery[DeliveryStatus | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="Page size")] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> PageOut[DeliveryOut]:
        subscription = await webhooks.owned(db, subscription_id, _owner(actor))
        page = await outbox.list_deliveries(
            db, limit=limit, cursor=cursor, status=status, webhook_subscription_id=subscription.id
        )
        types = await outbox.event_types(db, list(page.items))
        return PageOut(
            items=[delivery_out(d, types[d.event_id]) for d in page.items], next_cursor=page.next_cursor
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
        subscription = await webhooks.owned(db, subscription_id, _owner(actor))
        delivery = await db.get(Delivery, delivery_id)
        if delivery is None or delivery.channel != "webhook" or delivery.recipient != str(subscription.id):
            raise NotFound("No delivery with this id for this subscription.")
        again = await outbox.redeliver(db, delivery_id, now=ctx.clock.now())
        assert again is not None
        event = await db.get(OutboxEvent, again.event_id)
        return delivery_out(again, event.type if event else "")
