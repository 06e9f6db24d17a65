"""Webhook subscriptions: an integration names the event types it wants and a URL; every such event is
delivered there by the outbox worker, signed per the Standard Webhooks specification with the
subscription's secret (shown once; rotation keeps the previous secret signing too for an overlap
window). An endpoint that answers 410 Gone ends its subscription."""

from __future__ import annotations

import base64
import contextlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.crypto import KeyRing
from core.errors import FieldProblem, InvalidInput, NotFound
from notifications.catalog import WEBHOOK_EVENT_TYPES as EVENT_TYPES
from notifications.models import Delivery, WebhookSubscription

MAX_OVERLAP = timedelta(days=7)


def _context(subscription_id: uuid.UUID) -> bytes:
    return f"webhook-secret:{subscription_id}".encode()


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def signing_secrets(subscription: WebhookSubscription, keyring: KeyRing, now: datetime) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one while it overlaps."""
    found = [
        keyring.decrypt(subscription.secret_encrypted, associated_data=_context(subscription.id)).decode()
    ]
    if (
        subscription.previous_secret_encrypted is not None
        and subscription.previous_valid_until is not None
        and now < subscription.previous_valid_until
    ):
        found.append(
            keyring.decrypt(
                subscription.previous_secret_encrypted, associated_data=_context(subscription.id)
            ).decode()
        )
    return found


def _check_types(event_types: list[str]) -> None:
    unknown = [t for t in event_types if t not in EVENT_TYPES]
    if unknown or not event_types:
        raise InvalidInput(
            f"Event types are some of: {', '.join(EVENT_TYPES)}.",
            errors=[
                FieldProblem("event_types", f"unknown: {', '.join(unknown)}" if unknown else "none given")
            ],
        )


async def subscribe(
    session: AsyncSession,
    owner_id: uuid.UUID,
    url: str,
    event_types: list[str],
    keyring: KeyRing,
    *,
    now: datetime,
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (the only time the secret is shown). The URL is checked by
    the caller with the SSRF guard before this is called."""
    _check_types(event_types)
    secret = new_secret()
    subscription = WebhookSubscription(
        owner_id=owner_id,
        url=url,
        event_types=sorted(set(event_types)),
        secret_encrypted="",
        created_at=now,
        updated_at=now,
    )
    subscription.secret_encrypted = keyring.encrypt(
        secret.encode(), associated_data=_context(subscription.id)
    )
    session.add(subscription)
    await session.flush()
    return subscription, secret


async def rotate(
    session: AsyncSession,
    subscription: WebhookSubscription,
    keyring: KeyRing,
    *,
    overlap: timedelta,
    now: datetime,
) -> str:
    """A new secret; the old one keeps signing (beside it) for ``overlap`` so receivers can switch."""
    if not timedelta(0) <= overlap <= MAX_OVERLAP:
        raise InvalidInput(
            "The overlap is between 0 and 7 days.", errors=[FieldProblem("overlap_minutes", "out of range")]
        )
    secret = new_secret()
    subscription.previous_secret_encrypted = subscription.secret_encrypted
    subscription.previous_valid_until = now + overlap
    subscription.secret_encrypted = keyring.encrypt(
        secret.encode(), associated_data=_context(subscription.id)
    )
    subscription.updated_at = now
    await session.flush()
    return secret


async def owned(
    session: AsyncSession, subscription_id: uuid.UUID, owner_id: uuid.UUID | None
) -> WebhookSubscription:
    """A subscription of ``owner_id`` (None: an admin, who sees every subscription)."""
    subscription = await session.get(WebhookSubscription, subscription_id)
    if subscription is None or (owner_id is not None and subscription.owner_id != owner_id):
        raise NotFound("No webhook subscription with this id.")
    return subscription


async def listing(session: AsyncSession, owner_id: uuid.UUID | None) -> list[WebhookSubscription]:
    statement = sa.select(WebhookSubscription).order_by(col(WebhookSubscription.created_at))
    if owner_id is not None:
        statement = statement.where(col(WebhookSubscription.owner_id) == owner_id)
    return list((await session.scalars(statement)).all())


def envelope(
    event_id: uuid.UUID,
    event_type: str,
    version: int,
    created_at: datetime,
    payload: dict[str, Any],
    *,
    time_zone: str | None = None,
) -> dict[str, Any]:  # Any: JSON
    """The body of a delivery: which event, of which schema version, and its document. With the
    organisation's ``time_zone``, every instant of the document (``..._at``) is given as the same RFC 3339
    instant at that zone's offset, as its people read it."""
    body: dict[str, Any] = {
        "id": str(event_id),
        "type": event_type,
        "version": version,
        "timestamp": created_at.isoformat(),
        "data": _local(payload, ZoneInfo(time_zone)) if time_zone else payload,
    }
    if time_zone:
        body["time_zone"] = time_zone
    return body


def _local(payload: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:  # Any: JSON
    local = dict(payload)
    for key, value in payload.items():
        if key.endswith("_at") and isinstance(value, str):
            with contextlib.suppress(ValueError):
                instant = datetime.fromisoformat(value)
                if instant.tzinfo is not None:
                    local[key] = instant.astimezone(zone).isoformat()
    return local


async def unsubscribe(session: AsyncSession, subscription: WebhookSubscription, *, now: datetime) -> None:
    """End a subscription: its pending deliveries stop being sent."""
    subscription.active, subscription.disabled_reason, subscription.updated_at = False, "unsubscribed", now
    await session.flush()


async def disable(session: AsyncSession, subscription_id: uuid.UUID, *, reason: str, now: datetime) -> None:
    """The endpoint said it wants no more (410 Gone): the subscription ends."""
    subscription = await session.get(WebhookSubscription, subscription_id, with_for_update=True)
    if subscription is not None and subscription.active:
        subscription.active, subscription.disabled_reason, subscription.updated_at = False, reason, now
        await session.flush()


async def delivery_of(
    session: AsyncSession, subscription: WebhookSubscription, delivery_id: uuid.UUID
) -> Delivery:
    """One delivery made to the subscription (another's answers NotFound)."""
    found = await session.get(Delivery, delivery_id)
    if found is None or found.channel != "webhook" or found.recipient != str(subscription.id):
        raise NotFound("No delivery with this id for this subscription.")
    return found
