"""``deskline worker``: delivers the outbox. It claims due deliveries for a lease (PostgreSQL: FOR UPDATE
SKIP LOCKED, so several workers never take one delivery at once; SQLite: one worker, held by a lock
file), sends each with nothing open on the database, then records the attempt in a short transaction:
delivered, retried later (exponential backoff with jitter, three days), or dead (an admin may
redeliver). Delivery is at least once: a worker killed mid-batch leaves its claims to expire and be
taken again."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook

from api.db import unit_of_work
from api.mail import message_for
from api.settings import Settings
from core import outbox, webhooks
from core.crypto import KeyRing
from core.outbox import Delivery, OutboxEvent
from core.time import Clock, SystemClock
from core.urls import UnsafeUrl, check_url, pinned
from core.webhooks import WebhookSubscription
from scheduling import feeds, ics
from scheduling.models import Booking, BookingStatus
from support.models import Ticket

log = structlog.get_logger(__name__)
GONE = "the endpoint answered 410 Gone: the subscription is disabled"
DEADLINE_WATCH = ("ticket.first_response_due_soon", "ticket.first_response_breached")


async def _disable(db: AsyncSession, subscription_id: uuid.UUID, *, now: datetime) -> None:
    subscription = await db.get(WebhookSubscription, subscription_id, with_for_update=True)
    if subscription is not None and subscription.active:
        subscription.active, subscription.disabled_reason, subscription.updated_at = False, "410 Gone", now


class WorkerLockHeld(RuntimeError):
    """Another worker already delivers this SQLite database's outbox."""


@contextlib.contextmanager
def sqlite_worker_lock(settings: Settings) -> Iterator[None]:
    """SQLite runs one worker: a second one is refused, saying so, instead of racing the first."""
    if not settings.is_sqlite:
        yield
        return
    database = settings.database_url.split(":///", 1)[1]
    path = Path(f"{database}.worker.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise WorkerLockHeld(
                f"another deskline worker is delivering this SQLite database's outbox ({path}); "
                "SQLite runs one worker (use PostgreSQL for several)"
            ) from exc
        handle.write(str(os.getpid()))
        handle.flush()
        yield


class _Mailer:
    """One SMTP connection for a batch, opened on the first message and again after a failure.
    (delivered, error, final): a 5xx answer from the mail server is final, anything else retried."""

    def __init__(self, target: tuple[str, int], timeout: float) -> None:
        self.target, self.timeout = target, timeout
        self.client: aiosmtplib.SMTP | None = None

    async def send(self, message: EmailMessage) -> tuple[bool, str | None, bool]:
        try:
            if self.client is None:
                self.client = aiosmtplib.SMTP(
                    hostname=self.target[0], port=self.target[1], timeout=self.timeout
                )
                await self.client.connect()
            await self.client.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            await self.close()  # a fresh session for the next message, whatever state this one is in
            codes = [refused.code for refused in exc.recipients]
            return False, f"SMTP refused the recipient: {codes}"[:500], all(500 <= c < 600 for c in codes)
        except aiosmtplib.SMTPResponseException as exc:
            await self.close()
            return False, f"SMTP {exc.code}: {exc.message}"[:500], 500 <= exc.code < 600
        except (aiosmtplib.SMTPException, OSError) as exc:
            await self.close()
            return False, f"{type(exc).__name__}: {exc}"[:500], False
        return True, None, False

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is not None and client.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()


@dataclass(frozen=True)
class Outdated:
    reason: str


@dataclass(frozen=True)
class WebhookTarget:
    subscription_id: uuid.UUID
    url: str
    secrets: list[str]


@dataclass
class Worker:
    settings: Settings
    clock: Clock
    keyring: KeyRing
    batch: int = 20
    lease: timedelta = timedelta(minutes=2)
    smtp_timeout_seconds: float = 10
    http_timeout_seconds: float = 10
    # A receiver checks webhook-timestamp against its own wall clock, whatever clock schedules the work.
    wall_clock: Clock = field(default_factory=SystemClock)

    async def run_once(self, db: AsyncSession) -> int:
        """Claim one batch, deliver it over one SMTP connection, and record every outcome in one short
        transaction; the number of deliveries attempted. (A worker that dies before recording sends
        those again: at least once, each time with the same Message-ID / webhook-id.)"""
        async with unit_of_work(db, is_sqlite=self.settings.is_sqlite):
            claimed = await outbox.claim(db, now=self.clock.now(), lease=self.lease, limit=self.batch)
            work = [(d.id, d, e, await self._prepare(db, d, e)) for d, e in claimed]
        if not work:
            return 0
        outcomes: list[tuple[uuid.UUID, bool, str | None, bool, WebhookTarget | Outdated | None]] = []
        mail = _Mailer(self.settings.smtp_target, self.smtp_timeout_seconds)
        try:
            for delivery_id, delivery, event, prepared in work:
                if isinstance(prepared, Outdated):
                    outcomes.append((delivery_id, False, prepared.reason, False, prepared))
                    continue
                if isinstance(prepared, WebhookTarget):
                    ok, error, final = await self._post(delivery, event, prepared)
                else:
                    message = message_for(
                        event, delivery, sender=self.settings.smtp_from, now=self.clock.now(), invite=prepared
                    )
                    ok, error, final = await mail.send(message)
                outcomes.append(
                    (delivery_id, ok, error, final, prepared if isinstance(prepared, WebhookTarget) else None)
                )
                log.info(
                    "outbox_delivery",
                    event_type=event.type,
                    ok=ok,
                    final=final,
                    attempt=delivery.attempts + 1,
                )
        finally:
            await mail.close()
        async with unit_of_work(db, is_sqlite=self.settings.is_sqlite):
            now = self.clock.now()
            for delivery_id, ok, error, final, target in outcomes:
                if isinstance(target, Outdated):
                    await outbox.skip(db, delivery_id, target.reason, now=now)
                    continue
                await outbox.settle(db, delivery_id, ok=ok, error=error, final=final, now=now)
                if isinstance(target, WebhookTarget) and error == GONE:
                    await _disable(db, target.subscription_id, now=now)
        return len(work)

    async def run(self, db: AsyncSession, stop: asyncio.Event, *, idle_seconds: float = 0.25) -> None:
        while not stop.is_set():
            if not await self.run_once(db):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), idle_seconds)

    async def _prepare(
        self, db: AsyncSession, delivery: Delivery, event: OutboxEvent
    ) -> bytes | WebhookTarget | Outdated | None:
        """What sending needs from the database, read while the claim's transaction is open."""
        if event.type == "booking.reminder":
            booking = await db.get(Booking, event.subject_id)
            live = booking is not None and booking.status in (BookingStatus.CONFIRMED, BookingStatus.READY)
            if (
                not live
                or booking is None
                or booking.starts_at != datetime.fromisoformat(event.payload["starts_at"])
            ):
                return Outdated("the session was cancelled or moved since the reminder was made")
        if event.type in DEADLINE_WATCH:
            ticket = await db.get(Ticket, event.subject_id)
            due = datetime.fromisoformat(event.payload["first_response_due_at"])
            if ticket is None or ticket.first_responded_at is not None or ticket.first_response_due_at != due:
                return Outdated("the ticket was answered, or its due time moved, since the warning was made")
        if delivery.channel != "webhook":
            return await self._invite(db, event)
        subscription = await db.get(WebhookSubscription, uuid.UUID(delivery.recipient))
        if subscription is None or not subscription.active:
            return WebhookTarget(uuid.UUID(delivery.recipient), "", [])
        secrets = webhooks.signing_secrets(subscription, self.keyring, self.clock.now())
        return WebhookTarget(subscription.id, subscription.url, secrets)

    async def _post(
        self, delivery: Delivery, event: OutboxEvent, target: WebhookTarget
    ) -> tuple[bool, str | None, bool]:
        """A Standard Webhooks delivery: ``webhook-id`` (the delivery's id, the same on every retry),
        ``webhook-timestamp`` and ``webhook-signature`` from the maintained ``standardwebhooks`` package,
        posted to the address the SSRF guard checked; 2xx delivered, 410 ends the subscription."""
        if not target.url:
            return False, "the subscription was deleted or disabled", True
        policy = self.settings.webhook_url_policy
        body = json.dumps(
            webhooks.envelope(event.id, event.type, event.version, event.created_at, event.payload),
            separators=(",", ":"),
        )
        sent_at = self.wall_clock.now()
        signatures = " ".join(Webhook(s).sign(str(delivery.id), sent_at, body) for s in target.secrets)
        try:
            request_url, host, extensions = pinned(
                target.url, await check_url(target.url, policy, what="webhook")
            )
            async with httpx.AsyncClient(timeout=self.http_timeout_seconds, follow_redirects=False) as client:
                response = await client.post(
                    request_url,
                    content=body.encode(),
                    headers={
                        **host,
                        "content-type": "application/json",
                        "webhook-id": str(delivery.id),
                        "webhook-timestamp": str(int(sent_at.timestamp())),
                        "webhook-signature": signatures,
                    },
                    extensions=extensions,
                )
        except UnsafeUrl as exc:
            return False, exc.detail[:500], True
        except httpx.HTTPError as exc:
            return False, f"{type(exc).__name__}: {exc}"[:500], False
        if response.status_code == 410:
            return False, GONE, True
        if 200 <= response.status_code < 300:
            return True, None, False
        return False, f"the endpoint answered {response.status_code}", False

    async def _invite(self, db: AsyncSession, event: OutboxEvent) -> bytes | None:
        """A booking confirmation carries the session's invite."""
        if event.type != "booking.confirmed" or event.subject_id is None:
            return None
        booking = await db.get(Booking, event.subject_id)
        if booking is None:
            return None
        organizer = ics.InviteParty(email=self.settings.smtp_from, name="Deskline support")
        return ics.invite_ics(await feeds.session_invite(db, booking, organizer), now=self.clock.now())
