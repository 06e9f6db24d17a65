"""A real SMTP server on loopback for the notification tests, and the worker that delivers to it."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from api.context import worker_config
from api.settings import Settings
from notifications import Worker
from tests.world import World


@dataclass
class Inbox:
    """A real SMTP server on loopback that keeps what it is sent (and may refuse a recipient)."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted"


def worker_for(world: World, port: int) -> Worker:
    settings: Settings = world.ctx.settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    config = dataclasses.replace(worker_config(settings), smtp_timeout_seconds=5)
    return Worker(config, world.clock, world.ctx.keyring)


async def deliver(world: World, port: int) -> int:
    worker = worker_for(world, port)
    try:
        async with world.sessions() as session:
            return await worker.run_once(session)
    finally:
        await worker.close()


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    content: str = part.get_content()
    return content


async def fan_out(world: World) -> int:
    """The worker's first step alone: every committed event becomes its deliveries."""
    async with world.sessions() as session:
        return await worker_for(world, 0).fan_out(session)
