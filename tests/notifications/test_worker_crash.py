"""At least once, whatever happens to the worker: one killed (SIGKILL) in the middle of a batch and
started again delivers every event; what it had claimed is taken again once its lease ends, and a
message sent twice carries the same Message-ID (the delivery's)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from sqlmodel import col

from api.settings import Settings
from notifications import Delivery, DeliveryStatus
from tests.harness import ROOT, free_port, server_env
from tests.support.helpers import file_ticket
from tests.world import World

TICKETS = 12


@dataclass
class SlowInbox:
    """An SMTP server that takes its time with each message, so a batch is still going when the kill comes."""

    message_ids: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(0.15)
        parsed = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
        self.message_ids.append(str(parsed["Message-ID"]))
        return "250 Message accepted"


@pytest.fixture
def slow_inbox() -> Iterator[tuple[SlowInbox, int]]:
    box, port = SlowInbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def _worker(settings: Settings, smtp_port: int) -> subprocess.Popen[bytes]:
    env = server_env(
        {
            "DESKLINE_DATABASE_URL": settings.database_url,
            "DESKLINE_SMTP_PORT": str(smtp_port),
            "DESKLINE_WORKER_LEASE_SECONDS": "2",
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _statuses(world: World) -> Counter[DeliveryStatus]:
    async with world.session() as session:
        return Counter((await session.scalars(sa.select(col(Delivery.status)))).all())


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # several workers: PostgreSQL's case
async def test_a_worker_killed_mid_batch_loses_nothing_once_started_again(
    world: World, settings: Settings, slow_inbox: tuple[SlowInbox, int]
) -> None:
    inbox, port = slow_inbox
    _, _, contact = await world.contact()
    for _ in range(TICKETS):
        await file_ticket(world, contact)
    first = _worker(settings, port)
    for _ in range(600):  # up to 30 s for the first messages
        if len(inbox.message_ids) >= 3:
            break
        await asyncio.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)  # mid-batch: some claimed, some sent, one perhaps half-sent
    first.wait(timeout=10)
    assert 0 < len(inbox.message_ids) < TICKETS
    second = _worker(settings, port)
    try:
        for _ in range(300):  # up to 60 s for the rest
            if (await _statuses(world))[DeliveryStatus.DELIVERED] >= TICKETS:
                break
            await asyncio.sleep(0.2)
    finally:
        second.terminate()
        second.wait(timeout=10)
    assert (await _statuses(world)) == Counter({DeliveryStatus.DELIVERED: TICKETS})
    assert len(set(inbox.message_ids)) == TICKETS  # every receipt arrived; a repeat has the same Message-ID
