"""What the notifications part shows over the API: deliveries and webhook subscriptions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from notifications.catalog import WEBHOOK_EVENT_TYPES
from notifications.models import Delivery, DeliveryStatus, WebhookSubscription

Url = Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$", max_length=2000)]
EventType = Annotated[
    str, msgspec.Meta(description=f"One of: {', '.join(WEBHOOK_EVENT_TYPES)}", max_length=64)
]


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

    @classmethod
    def of(cls, delivery: Delivery, event_type: str) -> DeliveryOut:
        return cls(
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


class SubscriptionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: Url
    event_types: Annotated[list[EventType], msgspec.Meta(min_length=1, max_length=len(WEBHOOK_EVENT_TYPES))]


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
    # Only when created or rotated: keep it, it is not shown again.
    secret: str | msgspec.UnsetType = msgspec.UNSET

    @classmethod
    def of(cls, subscription: WebhookSubscription, secret: str | None = None) -> SubscriptionOut:
        return cls(
            id=subscription.id,
            url=subscription.url,
            event_types=subscription.event_types,
            active=subscription.active,
            disabled_reason=subscription.disabled_reason,
            previous_secret_valid_until=subscription.previous_valid_until,
            created_at=subscription.created_at,
            secret=secret if secret is not None else msgspec.UNSET,
        )
