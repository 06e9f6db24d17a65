"""The e-mail each delivery becomes, in the recipient organisation's language (ru or en), and the SMTP
connection a worker's batch goes out over. Every message has its own Message-ID; messages about a ticket
reference the ticket's thread and carry its number in the subject, so a reply finds its ticket through
the inbound e-mail endpoint."""

from __future__ import annotations

import contextlib
import hashlib
from datetime import datetime
from email import policy
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
from typing import cast
from zoneinfo import ZoneInfo

import aiosmtplib
import msgspec

from core.outbox import OutboxEvent
from notifications.catalog import CATALOG
from notifications.models import Delivery
from notifications.templates import Speech
from support import TicketReceived

DOMAIN = "deskline"


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
) -> Message:
    """The message of one delivery. Staff, and recipients of no organisation, read the vendor's time
    (``DESKLINE_TIME_ZONE``); customers their organisation's."""
    entry = CATALOG[event.type]
    document = msgspec.convert(event.payload, entry.event)
    say = Speech(delivery.locale == "ru", ZoneInfo(delivery.time_zone or vendor_time_zone))
    subject, body = entry.template(document, say)
    headers = {
        "From": sender,
        "To": delivery.recipient,
        "Subject": subject,
        "Date": format_datetime(now),
        "Message-ID": f"<{delivery.id}@{DOMAIN}>",
    }
    if ticket_id := event.payload.get("ticket_id"):
        # The ticket's thread: its receipt is the root (sent with the thread's id as its Message-ID),
        # every later message of the ticket references it.
        thread = thread_id(str(ticket_id), delivery.recipient)
        if event.type == TicketReceived.type:
            headers["Message-ID"] = thread
        else:
            headers["References"] = headers["In-Reply-To"] = thread
    attachment = (invite, f"{event.payload['number']}.ics") if invite is not None else None
    compose = _plain if sender.isascii() and delivery.recipient.isascii() else _international
    message = compose(headers, body, attachment)
    message["Content-Language"] = delivery.locale  # after the content: setting content clears Content-*
    return message


def _plain(headers: dict[str, str], body: str, attachment: tuple[bytes, str] | None) -> Message:
    """ASCII addresses (nearly every message): the library's classic message classes, whose headers are
    kept as given (a Subject in another script as RFC 2047 encoded words), about a third of the cost of
    the modern policy's, which parses every header into a tree and folds it again from that tree."""
    # Ending in a newline, as the modern content manager ends a text.
    text = MIMEText(body if body.endswith("\n") else body + "\n", "plain", "utf-8")
    message: Message = text
    if attachment is not None:
        content, filename = attachment
        calendar = MIMEApplication(content, "calendar", method="REQUEST")
        calendar.replace_header("Content-Type", 'text/calendar; method="REQUEST"')
        calendar.add_header("Content-Disposition", "attachment", filename=filename)
        message = MIMEMultipart("mixed", _subparts=[text, calendar])
    for name, value in headers.items():
        # A value outside ASCII as a Header, which the classic classes write as encoded words (typeshed
        # types a header value as str only).
        message[name] = value if value.isascii() else cast(str, Header(value, "utf-8", header_name=name))
    return message


def _international(headers: dict[str, str], body: str, attachment: tuple[bytes, str] | None) -> Message:
    """An address outside ASCII (an internationalised mailbox, a display name in another script): the
    modern policy, which writes such addresses as RFC 6532 UTF-8 when the server offers SMTPUTF8."""
    message = EmailMessage(policy=policy.default)
    for name, value in headers.items():
        message[name] = value
    message.set_content(body)
    if attachment is not None:
        content, filename = attachment
        message.add_attachment(
            content, maintype="text", subtype="calendar", filename=filename, params={"method": "REQUEST"}
        )
    return message


class Mailer:
    """One SMTP connection for a batch, opened on the first message and again after a failure.
    (delivered, error, final): a 5xx answer from the mail server is final, anything else retried."""

    def __init__(self, target: tuple[str, int], timeout: float) -> None:
        self.target, self.timeout = target, timeout
        self.client: aiosmtplib.SMTP | None = None

    async def send(self, message: Message) -> tuple[bool, str | None, bool]:
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
