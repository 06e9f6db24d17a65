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
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiosmtplib
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import unit_of_work
from api.mail import message_for
from api.settings import Settings
from core import outbox
from core.outbox import Delivery, OutboxEvent
from core.time import Clock
from scheduling import feeds, ics
from scheduling.models import Booking

log = structlog.get_logger(__name__)


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


@dataclass
class Worker:
    settings: Settings
    clock: Clock
    batch: int = 20
    lease: timedelta = timedelta(minutes=2)
    smtp_timeout_seconds: float = 10

    async def run_once(self, db: AsyncSession) -> int:
        """Claim one batch and deliver it; the number of deliveries attempted."""
        async with unit_of_work(db, is_sqlite=self.settings.is_sqlite):
            claimed = await outbox.claim(db, now=self.clock.now(), lease=self.lease, limit=self.batch)
            work = [(d.id, d, e, await self._invite(db, e)) for d, e in claimed]
        for delivery_id, delivery, event, invite in work:
            ok, error, final = await self._send(delivery, event, invite)
            async with unit_of_work(db, is_sqlite=self.settings.is_sqlite):
                await outbox.settle(db, delivery_id, ok=ok, error=error, final=final, now=self.clock.now())
            log.info(
                "outbox_delivery", event_type=event.type, ok=ok, final=final, attempt=delivery.attempts + 1
            )
        return len(work)

    async def run(self, db: AsyncSession, stop: asyncio.Event, *, idle_seconds: float = 1.0) -> None:
        while not stop.is_set():
            if not await self.run_once(db):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), idle_seconds)

    async def _invite(self, db: AsyncSession, event: OutboxEvent) -> bytes | None:
        """A booking confirmation carries the session's invite."""
        if event.type != "booking.confirmed" or event.subject_id is None:
            return None
        booking = await db.get(Booking, event.subject_id)
        if booking is None:
            return None
        organizer = ics.InviteParty(email=self.settings.smtp_from, name="Deskline support")
        return ics.invite_ics(await feeds.session_invite(db, booking, organizer), now=self.clock.now())

    async def _send(
        self, delivery: Delivery, event: OutboxEvent, invite: bytes | None
    ) -> tuple[bool, str | None, bool]:
        """(delivered, error, final): a 5xx answer from the mail server is final, anything else retried."""
        message = message_for(
            event, delivery, sender=self.settings.smtp_from, now=self.clock.now(), invite=invite
        )
        try:
            await aiosmtplib.send(
                message,
                hostname=self.settings.smtp_target[0],
                port=self.settings.smtp_target[1],
                timeout=self.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            return False, f"SMTP refused the recipient: {codes}"[:500], all(500 <= c < 600 for c in codes)
        except aiosmtplib.SMTPResponseException as exc:
            return False, f"SMTP {exc.code}: {exc.message}"[:500], 500 <= exc.code < 600
        except (aiosmtplib.SMTPException, OSError) as exc:
            return False, f"{type(exc).__name__}: {exc}"[:500], False
        return True, None, False
