"""Webhook subscriptions: an integration names the event types it wants and a URL; every such event is
delivered there by the outbox worker, signed per the Standard Webhooks specification with the
subscription's secret (shown once; rotation keeps the previous secret signing too for an overlap
window). An endpoint that answers 410 Gone ends its subscription."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from core.crypto import KeyRing
from core.db import id_field, utc_field
from core.errors import FieldProblem, InvalidInput, NotFound

EVENT_TYPES = (
    "ticket.received",
    "ticket.answered",
    "ticket.waiting_for_customer",
    "ticket.explanation_requested",
    "ticket.first_response_due_soon",
    "ticket.first_response_breached",
    "booking.held",
    "booking.confirmed",
    "booking.rescheduled",
    "booking.reminder",
    "booking.cancelled",
    "booking.refunded",
    "contract.activated",
    "contract.breach",
    "contract.report_ready",
    "invoice.issued",
)
MAX_OVERLAP = timedelta(days=7)


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "core_webhook_subscription"

    id: uuid.UUID = id_field()
    owner_id: uuid.UUID = Field(index=True)  # the integration client (or admin) that made it
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    secret_encrypted: str = Field(max_length=500)
    previous_secret_encrypted: str | None = Field(default=None, max_length=500)
    previous_valid_until: datetime | None = utc_field(nullable=True)
    active: bool = Field(default=True)
    disabled_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


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


async def subscribed_to(session: AsyncSession, event_type: str) -> list[WebhookSubscription]:
    rows = await session.scalars(sa.select(WebhookSubscription).where(col(WebhookSubscription.active)))
    return [s for s in rows.all() if event_type in s.event_types]


def envelope(
    event_id: uuid.UUID, event_type: str, version: int, created_at: datetime, payload: dict[str, Any]
) -> dict[str, Any]:  # Any: JSON
    """The body of a delivery: which event, of which schema version, and its document."""
    return {
        "id": str(event_id),
        "type": event_type,
        "version": version,
        "timestamp": created_at.isoformat(),
        "data": payload,
    }
