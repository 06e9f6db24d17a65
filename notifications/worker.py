"""``deskline worker``: delivers the outbox. First it fans out events committed since its last pass (one
delivery per recipient of the event's audience, and per webhook subscription to its type); then it
claims due deliveries for a lease (PostgreSQL: FOR UPDATE SKIP LOCKED, so several workers never take one
at once; SQLite: one worker, held by a lock file), sends each with nothing open on the database, and
records the attempts in a short transaction: delivered, retried later (exponential backoff with
jitter, three days), skipped (the owning line says it no longer holds), or dead (an admin may
redeliver). Delivery is at least once: a worker killed mid-batch leaves its claims to expire and be
taken again."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp
import asyncpg
import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook

from accounts import Organization
from core.crypto import KeyRing
from core.outbox import OutboxEvent
from core.time import Clock, SystemClock
from core.transactions import unit_of_work
from core.urls import UnsafeUrl, UrlPolicy, check_url, pinned
from notifications import delivery as deliveries
from notifications import webhooks
from notifications.catalog import CATALOG
from notifications.delivery import WEBHOOK, Attempt, Recipient
from notifications.mail import Mailer, message_for
from notifications.models import Delivery, WebhookSubscription
from scheduling import Booking, InviteParty, invite_ics, session_invite

log = structlog.get_logger(__name__)
GONE = "the endpoint answered 410 Gone: the subscription is disabled"
MAX_ANSWER_READ = 64 * 1024  # bytes of a receiver's answer read (and ignored) so its connection is kept


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker needs to know of the configuration (built from the settings by the CLI)."""

    is_sqlite: bool
    smtp_target: tuple[str, int]
    smtp_from: str
    webhook_url_policy: UrlPolicy
    lease: timedelta = timedelta(minutes=2)
    batch: int = 100
    vendor_time_zone: str = "Europe/Moscow"  # DESKLINE_TIME_ZONE: the time staff read in their mail
    smtp_connections: int = 8  # messages of a batch are sent over this many SMTP sessions at once
    webhook_concurrency: int = 16  # webhooks of a batch in flight at once
    smtp_timeout_seconds: float = 10
    http_timeout_seconds: float = 10


class WorkerLockHeld(RuntimeError):
    """Another worker already delivers this SQLite database's outbox."""


@contextlib.contextmanager
def sqlite_worker_lock(database: Path | None) -> Iterator[None]:
    """SQLite runs one worker: a second one is refused, saying so, instead of racing the first. None:
    PostgreSQL (any number of workers)."""
    if database is None:
        yield
        return
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


OUTBOX_CHANNEL = "deskline_outbox"  # notified by a trigger on core_outbox_event (PostgreSQL)


@contextlib.asynccontextmanager
async def outbox_commits(dsn: str) -> AsyncIterator[asyncio.Event | None]:
    """An event set whenever outbox events are committed (PostgreSQL LISTEN on its own connection,
    outside the pool, for the worker's lifetime); None when listening is not possible, and the worker
    polls. A lost connection sets the event once and the polling goes on."""
    wake = asyncio.Event()
    try:
        connection = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        log.warning("outbox_listen_unavailable", error=f"{type(exc).__name__}: {exc}")
        yield None
        return
    try:
        await connection.add_listener(OUTBOX_CHANNEL, lambda *_: wake.set())
        connection.add_termination_listener(lambda _: wake.set())
        yield wake
    finally:
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await connection.close(timeout=5)


async def _first_of(stop: asyncio.Event, wake: asyncio.Event | None, *, seconds: float) -> None:
    waits = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waits.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


@dataclass(frozen=True)
class Outdated:
    reason: str


@dataclass(frozen=True)
class WebhookTarget:
    subscription_id: uuid.UUID
    url: str
    secrets: list[str]
    time_zone: str | None = None  # the event's organisation's, for the instants of its document


Prepared = bytes | WebhookTarget | Outdated | None


@dataclass
class Worker:
    config: WorkerConfig
    clock: Clock
    keyring: KeyRing
    # A receiver checks webhook-timestamp against its own wall clock, whatever clock schedules the work.
    wall_clock: Clock = field(default_factory=SystemClock)
    _http: aiohttp.ClientSession | None = field(default=None, init=False, repr=False)

    async def run_once(self, db: AsyncSession) -> int:
        """Fan out what was committed, then claim one batch of due deliveries, send it (e-mail over one
        SMTP connection, webhooks over the worker's one HTTP client) and record every outcome in one
        short transaction; the number of deliveries attempted. (A worker that dies before recording
        sends those again: at least once, each time with the same Message-ID / webhook-id.)"""
        await self.fan_out(db)
        async with unit_of_work(db, is_sqlite=self.config.is_sqlite):
            claimed = await deliveries.claim(
                db, now=self.clock.now(), lease=self.config.lease, limit=self.config.batch
            )
            work = [(d, e, await self._prepare(db, d, e)) for d, e in claimed]
        if not work:
            return 0
        sent = await self._send(work)
        async with unit_of_work(db, is_sqlite=self.config.is_sqlite):
            now = self.clock.now()
            skipped = {d.id: p.reason for d, _, p in work if isinstance(p, Outdated)}
            await deliveries.skip_all(db, skipped, now=now)
            await deliveries.settle_all(db, sent, now=now)
            gone = {
                p.subscription_id
                for d, _, p in work
                if isinstance(p, WebhookTarget)
                and any(a.delivery_id == d.id and a.error == GONE for a in sent)
            }
            for subscription_id in sorted(gone):
                await webhooks.disable(db, subscription_id, reason="410 Gone", now=now)
        return len(work)

    async def _send(self, work: list[tuple[Delivery, OutboxEvent, Prepared]]) -> list[Attempt]:
        """Send a claimed batch with nothing open on the database: e-mail over a few SMTP connections
        at once (each sends its share in turn), webhooks concurrently up to a limit."""
        results: dict[uuid.UUID, Attempt] = {}
        mail = [(d, e, p) for d, e, p in work if p is None or isinstance(p, bytes)]
        hooks = [(d, e, p) for d, e, p in work if isinstance(p, WebhookTarget)]
        lanes = [mail[k :: self.config.smtp_connections] for k in range(self.config.smtp_connections)]
        limit = asyncio.Semaphore(self.config.webhook_concurrency)

        async def mail_lane(lane: list[tuple[Delivery, OutboxEvent, bytes | None]]) -> None:
            mailer = Mailer(self.config.smtp_target, self.config.smtp_timeout_seconds)
            try:
                for delivery, event, invite in lane:
                    message = message_for(
                        event,
                        delivery,
                        sender=self.config.smtp_from,
                        now=self.clock.now(),
                        invite=invite,
                        vendor_time_zone=self.config.vendor_time_zone,
                    )
                    results[delivery.id] = self._noted(delivery, event, *await mailer.send(message))
            finally:
                await mailer.close()

        async def post(delivery: Delivery, event: OutboxEvent, target: WebhookTarget) -> None:
            async with limit:
                results[delivery.id] = self._noted(
                    delivery, event, *await self._post(delivery, event, target)
                )

        await asyncio.gather(*(mail_lane(lane) for lane in lanes if lane), *(post(*h) for h in hooks))
        return [results[d.id] for d, _, _ in work if d.id in results]

    @staticmethod
    def _noted(delivery: Delivery, event: OutboxEvent, ok: bool, error: str | None, final: bool) -> Attempt:
        log.info("outbox_delivery", event_type=event.type, ok=ok, final=final, attempt=delivery.attempts + 1)
        return Attempt(delivery.id, ok, error, final)

    async def fan_out(self, db: AsyncSession) -> int:
        """Turn events committed since the last pass into their deliveries, in one short transaction per
        batch; the number of events fanned out."""
        async with unit_of_work(db, is_sqlite=self.config.is_sqlite):
            events = await deliveries.events_to_fan_out(db, limit=self.config.batch * 10)
            if not events:
                return 0
            subscribed = await deliveries.subscriptions_to(
                db, {e.type for e in events if e.type in CATALOG and CATALOG[e.type].webhook}
            )
            now = self.clock.now()
            rows: list[dict[str, object]] = []
            for event in events:
                entry = CATALOG.get(event.type)
                if entry is None:  # an event this version no longer knows: nobody to tell
                    log.warning("outbox_event_unknown", event_type=event.type)
                    continue
                recipients = await entry.audience(db, event)
                recipients += [
                    Recipient(str(s), "en", channel=WEBHOOK) for s in subscribed.get(event.type, [])
                ]
                rows += deliveries.deliveries_of(event, recipients, now=now)
            await deliveries.record_fan_out(db, events, rows, now=now)
        return len(events)

    async def run(
        self,
        db: AsyncSession,
        stop: asyncio.Event,
        *,
        idle_seconds: float = 0.25,
        wake: asyncio.Event | None = None,
    ) -> None:
        """Deliver until ``stop``: at once while there is work, then wait ``idle_seconds`` for more, or
        less when ``wake`` is set (PostgreSQL tells a listening worker of each commit of events)."""
        try:
            while not stop.is_set():
                if wake is not None:
                    wake.clear()
                if not await self.run_once(db):
                    await _first_of(stop, wake, seconds=idle_seconds)
        finally:
            await self.close()

    async def close(self) -> None:
        client, self._http = self._http, None
        if client is not None:
            await client.close()

    async def _prepare(self, db: AsyncSession, delivery: Delivery, event: OutboxEvent) -> Prepared:
        """What sending needs from the database, read while the claim's transaction is open: whether the
        event still holds (the owning line's check), a webhook's target, a confirmation's invite."""
        entry = CATALOG.get(event.type)
        if entry is not None and entry.still_due is not None:
            reason = await entry.still_due(db, event)
            if reason is not None:
                return Outdated(reason)
        if delivery.channel != WEBHOOK:
            return await self._invite(db, event) if entry is not None and entry.invite else None
        subscription = await db.get(WebhookSubscription, uuid.UUID(delivery.recipient))
        if subscription is None or not subscription.active:
            return WebhookTarget(uuid.UUID(delivery.recipient), "", [])
        secrets = webhooks.signing_secrets(subscription, self.keyring, self.clock.now())
        organization = await db.get(Organization, event.organization_id) if event.organization_id else None
        zone = organization.time_zone if organization is not None else None
        return WebhookTarget(subscription.id, subscription.url, secrets, zone)

    def _client(self) -> aiohttp.ClientSession:
        """One HTTP session for every webhook this worker posts (its connections are pooled). aiohttp,
        not httpx: with a batch's webhooks in flight, httpx's connection pool polls every idle connection
        through anyio on each request, and a post cost 1.9 ms of CPU against aiohttp's 0.2 ms. No
        cookies are kept: one receiver's cookie is no business of the next."""
        if self._http is None:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.http_timeout_seconds),
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
            )
        return self._http

    async def _post(
        self, delivery: Delivery, event: OutboxEvent, target: WebhookTarget
    ) -> tuple[bool, str | None, bool]:
        """A Standard Webhooks delivery: ``webhook-id`` (the delivery's id, the same on every retry),
        ``webhook-timestamp`` and ``webhook-signature`` from the maintained ``standardwebhooks`` package,
        posted to the address the SSRF guard checked; 2xx delivered, 410 ends the subscription."""
        if not target.url:
            return False, "the subscription was deleted or disabled", True
        body = json.dumps(
            webhooks.envelope(
                event.id,
                event.type,
                event.version,
                event.created_at,
                event.payload,
                time_zone=target.time_zone,
            ),
            separators=(",", ":"),
        )
        sent_at = self.wall_clock.now()
        signatures = " ".join(Webhook(s).sign(str(delivery.id), sent_at, body) for s in target.secrets)
        try:
            checked = await check_url(target.url, self.config.webhook_url_policy, what="webhook")
            request_url, host, extensions = pinned(target.url, checked)
            async with self._client().post(
                request_url,
                data=body.encode(),
                headers={
                    **host,
                    "content-type": "application/json",
                    "webhook-id": str(delivery.id),
                    "webhook-timestamp": str(int(sent_at.timestamp())),
                    "webhook-signature": signatures,
                },
                allow_redirects=False,
                server_hostname=extensions.get("sni_hostname"),
            ) as response:
                status = response.status
                if response.content_length is not None and response.content_length <= MAX_ANSWER_READ:
                    await response.read()  # a short answer read to its end keeps the connection reusable
        except UnsafeUrl as exc:
            return False, exc.detail[:500], True
        except (aiohttp.ClientError, TimeoutError) as exc:
            return False, f"{type(exc).__name__}: {exc}"[:500], False
        if status == 410:
            return False, GONE, True
        if 200 <= status < 300:
            return True, None, False
        return False, f"the endpoint answered {status}", False

    async def _invite(self, db: AsyncSession, event: OutboxEvent) -> bytes | None:
        """A booking confirmation carries the session's invite."""
        booking = await db.get(Booking, event.subject_id) if event.subject_id is not None else None
        if booking is None:
            return None
        organizer = InviteParty(email=self.config.smtp_from, name="Deskline support")
        return invite_ics(await session_invite(db, booking, organizer), now=self.clock.now())
