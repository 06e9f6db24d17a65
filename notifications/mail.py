"""The e-mail each delivery becomes, in the recipient organisation's language (ru or en), and the SMTP
connection a worker's batch goes out over. Every message has its own Message-ID; messages about a ticket
reference the ticket's thread and carry its number in the subject, so a reply finds its ticket through
the inbound e-mail endpoint."""

from __future__ import annotations

import contextlib
import hashlib
from datetime import datetime
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import aiosmtplib
import msgspec

from core.outbox import OutboxEvent
from notifications.catalog import CATALOG
from notifications.models import Delivery
from notifications.templates import Speech
from support import TicketReceived

DOMAIN = "deskline"


class _HeaderKinds(HeaderRegistry):
    """The standard library's registry makes a new class for every header it is asked for (``type()``
    per header: a tenth of a message's cost); this one makes each kind once and keeps it."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


# The standard library's modern policy (policy.default), its header classes made once.
POLICY = policy.default.clone(header_factory=_HeaderKinds())


def thread_id(ticket_id: str, recipient: str) -> str:
    """The Message-ID of a ticket's receipt to one recipient, which that recipient's later messages of
    the ticket reference (one per recipient: a Message-ID names one message)."""
    digest = hashlib.sha256(f"{ticket_id}:{recipient.lower()}".encode()).hexdigest()[:32]
    return f"<ticket-{digest}@{DOMAIN}>"


def message_for(
    event: OutboxEvent,
    delivery: Delivery,
    *,
    sender: str,
    now: datetime,
    invite: bytes | None = None,
    vendor_time_zone: str = "Europe/Moscow",
) -> EmailMessage:
    """The message of one delivery. Staff, and recipients of no organisation, read the vendor's time
    (``DESKLINE_TIME_ZONE``); customers their organisation's."""
    entry = CATALOG[event.type]
    document = msgspec.convert(event.payload, entry.event)
    say = Speech(delivery.locale == "ru", ZoneInfo(delivery.time_zone or vendor_time_zone))
    subject, body = entry.template(document, say)
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = delivery.recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{delivery.id}@{DOMAIN}>"
    message["Content-Language"] = delivery.locale
    if ticket_id := event.payload.get("ticket_id"):
        # The ticket's thread: its receipt is the root (sent with the thread's id as its Message-ID),
        # every later message of the ticket references it.
        thread = thread_id(str(ticket_id), delivery.recipient)
        if event.type == TicketReceived.type:
            message.replace_header("Message-ID", thread)
        else:
            message["References"] = thread
            message["In-Reply-To"] = thread
    message.set_content(body)
    if invite is not None:
        message.add_attachment(
            invite,
            maintype="text",
            subtype="calendar",
            filename=f"{event.payload['number']}.ics",
            params={"method": "REQUEST"},
        )
    return message


class Mailer:
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
