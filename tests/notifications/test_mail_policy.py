"""How notifications.mail writes a message: the standard library's classic classes for ASCII addresses
(a third of the modern policy's cost at the outbox's rates), the modern policy for international ones;
either way a reader gets the same message."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage, Message

from aiosmtplib.email import flatten_message

from notifications.mail import _international, _plain

HEADERS = {
    "From": "support@deskline.example",
    "To": "anna@example.com",
    "Subject": "Заявка BS-1001 принята: не открывается отчёт за месяц, просим посмотреть срочно",
    "Date": "Thu, 03 Dec 2026 09:00:00 +0000",
    "Message-ID": "<ticket-0123456789abcdef@deskline>",
    "References": "<ticket-0123456789abcdef@deskline>",
}
BODY = "Здравствуйте, Анна!\n\nВаша заявка BS-1001 принята. " * 20
INVITE = (
    b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:Session\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def _as_read(message: Message, *, utf8: bool = False) -> EmailMessage:
    """The message as the SMTP client sends it and a mail reader parses it."""
    read = message_from_bytes(flatten_message(message, utf8=utf8), policy=policy.default)
    assert isinstance(read, EmailMessage)
    return read


def _with_language(message: Message) -> Message:
    message["Content-Language"] = "ru"
    return message


def _what_a_reader_sees(message: EmailMessage) -> tuple[object, ...]:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    attachments = [
        (a.get_content_type(), a.get_param("method"), a.get_filename(), a.get_payload(decode=True))
        for a in message.iter_attachments()
    ]
    return (
        {name: str(message[name]) for name in [*HEADERS, "Content-Language"]},
        body.get_content(),
        attachments,
    )


def test_ascii_addresses_and_international_ones_read_the_same() -> None:
    plain = _as_read(_with_language(_plain(HEADERS, BODY, None)))
    international = _as_read(_with_language(_international(HEADERS, BODY, None)))
    assert _what_a_reader_sees(plain) == _what_a_reader_sees(international)
    assert plain["Subject"] == HEADERS["Subject"]


def test_an_invite_is_attached_alike_by_both() -> None:
    plain = _as_read(_plain(HEADERS, BODY, (INVITE, "RS-1001.ics")))
    international = _as_read(_international(HEADERS, BODY, (INVITE, "RS-1001.ics")))
    assert _what_a_reader_sees(plain) == _what_a_reader_sees(international)
    (invite,) = plain.iter_attachments()
    assert (invite.get_content_type(), invite.get_param("method"), invite.get_filename()) == (
        "text/calendar",
        "REQUEST",
        "RS-1001.ics",
    )
    assert invite.get_payload(decode=True) == INVITE


def test_an_international_mailbox_is_written_in_utf8_for_a_server_that_offers_it() -> None:
    headers = HEADERS | {"To": "анна@пример.рф"}
    raw = flatten_message(_international(headers, BODY, None), utf8=True)
    assert "To: анна@пример.рф".encode() in raw
