"""The e-mail each outbox event becomes, in the recipient organisation's language (ru or en). Every
message has its own Message-ID; messages about a ticket reference the ticket's thread and carry its
number in the subject, so a reply finds its ticket through the inbound e-mail endpoint."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from core.money import formatted
from core.outbox import Delivery, OutboxEvent

DOMAIN = "deskline"
MISSING_NAMES = {
    "en": {
        "device_database": "the mobile-device database file",
        "exchange_archive_link": "a link to the exchange-directory archive",
    },
    "ru": {
        "device_database": "файл базы мобильных устройств",
        "exchange_archive_link": "ссылка на архив каталога обмена",
    },
}


def _when(value: str | None) -> str:
    if not value:
        return "—"
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC%z").replace("UTC+0000", "UTC")


def _received(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    names = MISSING_NAMES["ru" if ru else "en"]
    missing = [names.get(item, item) for item in p.get("missing", [])]
    if ru:
        lines = [f"Мы получили ваше обращение {p['number']}: «{p['subject']}»."]
        if missing:
            lines += ["", "Чтобы начать работу, нам не хватает:", *(f"  • {m}" for m in missing)]
            lines += ["Срок первого ответа начнёт отсчитываться, когда всё будет получено."]
        else:
            lines += ["", f"Первый ответ — не позднее {_when(p.get('first_response_due_at'))}."]
        lines += ["", f"Отвечайте на это письмо, сохраняя [{p['number']}] в теме: ответ попадёт в обращение."]
        return f"[{p['number']}] Мы получили ваше обращение: {p['subject']}", "\n".join(lines)
    lines = [f'We received your ticket {p["number"]}: "{p["subject"]}".']
    if missing:
        lines += ["", "To start work we still need:", *(f"  • {m}" for m in missing)]
        lines += ["The first-response clock starts once we have everything."]
    else:
        lines += ["", f"The first response is due by {_when(p.get('first_response_due_at'))}."]
    lines += [
        "",
        f"Reply to this e-mail keeping [{p['number']}] in the subject: your reply joins the ticket.",
    ]
    return f"[{p['number']}] We received your ticket: {p['subject']}", "\n".join(lines)


def _answered(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    if ru:
        return f"[{p['number']}] Ответ по обращению", f"{p['message']}\n\n— Поддержка ({p['number']})"
    return f"[{p['number']}] An answer to your ticket", f"{p['message']}\n\n— Support ({p['number']})"


def _waiting(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    if ru:
        body = f"Чтобы продолжить, нам нужна информация:\n\n{p['message']}\n\nОтветьте на это письмо."
        return f"[{p['number']}] Нужна информация от вас", body
    body = f"To go on we need information from you:\n\n{p['message']}\n\nPlease reply to this e-mail."
    return f"[{p['number']}] We need information from you", body


def _confirmed(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    if ru:
        body = (
            f"Удалённая сессия {p['number']} подтверждена: {_when(p['starts_at'])} — {_when(p['ends_at'])}."
        )
        return f"[{p['number']}] Сессия подтверждена", body + "\nПриглашение для календаря — во вложении."
    body = f"Remote session {p['number']} is confirmed: {_when(p['starts_at'])} to {_when(p['ends_at'])}."
    return f"[{p['number']}] Your remote session is confirmed", body + "\nThe calendar invite is attached."


def _cancelled(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    refund = {"full": ("полный возврат", "a full refund"), "none": ("без возврата", "no refund")}
    label = refund.get(str(p.get("refund")), ("—", "—"))
    if ru:
        return f"[{p['number']}] Сессия отменена", f"Удалённая сессия {p['number']} отменена ({label[0]})."
    return (
        f"[{p['number']}] Your remote session is cancelled",
        f"Remote session {p['number']} is cancelled ({label[1]}).",
    )


def _rejected(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    if ru:
        body = (
            f"Ваше письмо «{p['subject']}» не принято: адрес {p['sender']} не принадлежит пользователю "
            "поддержки. Напишите с адреса контактного лица поддержки вашей организации или попросите "
            "администратора добавить вас."
        )
        return f"Письмо не принято: {p['subject']}", body
    body = (
        f'Your e-mail "{p["subject"]}" was not accepted: {p["sender"]} is not the address of a support user. '
        "Write from your organisation's designated support contact's address, or ask your administrator to "
        "add you."
    )
    return f"Not accepted: {p['subject']}", body


def _reminder(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    if ru:
        body = f"Напоминаем: удалённая сессия {p['number']} начнётся {_when(p['starts_at'])}."
        return f"[{p['number']}] Сессия через {p['hours_before']} ч", body + " Проверьте условия доступа."
    body = f"A reminder: remote session {p['number']} starts at {_when(p['starts_at'])}."
    return (
        f"[{p['number']}] Your session starts in {p['hours_before']} h",
        body + " Check the access preconditions.",
    )


def _rescheduled(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    if ru:
        return (
            f"[{p['number']}] Сессия перенесена",
            f"Новое время сессии {p['number']}: {_when(p['starts_at'])}.",
        )
    return (
        f"[{p['number']}] Your session was moved",
        f"Remote session {p['number']} now starts at {_when(p['starts_at'])}.",
    )


def _explanation(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    if ru:
        return f"[{p['number']}] Клиент просит объяснить задержку", f"Причина: {p['reason']}"
    return (
        f"[{p['number']}] The customer asks why the first response was late",
        f"Reason given: {p['reason']}",
    )


def _due_soon(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    when = _when(p["first_response_due_at"])
    if ru:
        return (
            f"[{p['number']}] Срок первого ответа через час",
            f"Первый ответ по {p['number']} нужен до {when}.",
        )
    return (
        f"[{p['number']}] First response due within the hour",
        f"{p['number']} needs its first response by {when}.",
    )


def _breached(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    when = _when(p["first_response_due_at"])
    if ru:
        return (
            f"[{p['number']}] Срок первого ответа нарушен",
            f"Первый ответ по {p['number']} был нужен до {when}.",
        )
    return (
        f"[{p['number']}] First-response deadline breached",
        f"{p['number']} needed its first response by {when}.",
    )


def _activated(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    if ru:
        return (
            f"Договор SLA {p['number']} действует",
            f"Договор {p['number']} действует с {p['starts_on']} по {p['ends_on']}.",
        )
    return (
        f"SLA contract {p['number']} is active",
        f"Contract {p['number']} is in force from {p['starts_on']} to {p['ends_on']}.",
    )


def _invoice(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    total = formatted(p["total_minor"], p["currency"])
    if ru:
        return (
            f"Счёт {p['number']} за {p['period']}",
            f"Выставлен счёт {p['number']} за {p['period']} на {total}.",
        )
    return (
        f"Invoice {p['number']} for {p['period']}",
        f"Invoice {p['number']} for {p['period']} is issued: {total}.",
    )


def _held(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    price, until = formatted(p["amount_minor"], p["currency"]), _when(p["hold_expires_at"])
    if ru:
        return (
            f"[{p['number']}] Время сессии удержано до оплаты",
            f"Удалённая сессия {p['number']} ({_when(p['starts_at'])}) удержана за вами до {until}. "
            f"Оплатите {price}, чтобы подтвердить её; без оплаты время освободится.",
        )
    return (
        f"[{p['number']}] Your session time is held until you pay",
        f"Remote session {p['number']} ({_when(p['starts_at'])}) is held for you until {until}. "
        f"Pay {price} to confirm it; unpaid, the time is released.",
    )


def _refunded(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    amount = formatted(p["amount_minor"], p["currency"])
    if ru:
        return (
            f"[{p['number']}] Возврат {amount}",
            f"По сессии {p['number']} возвращено {amount}. Деньги придут на карту в течение нескольких дней.",
        )
    return (
        f"[{p['number']}] Refund of {amount}",
        f"{amount} was refunded for remote session {p['number']}. It reaches your card within a few days.",
    )


def _contract_breach(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    timers = {
        "first_response": ("первого ответа", "first response"),
        "update": ("обновления", "update"),
        "resolution": ("решения", "resolution"),
    }
    timer = timers.get(p["timer"], (p["timer"], p["timer"]))
    if ru:
        return (
            f"[{p['ticket_number']}] Нарушен срок {timer[0]} по договору {p['contract_number']}",
            f"Срок {timer[0]} по {p['ticket_number']} ({p['priority']}) истёк {_when(p['due_at'])}; "
            f"просрочка — {p['breach_minutes']} мин рабочего времени. Компенсация будет учтена в отчёте "
            "и счёте за месяц.",
        )
    return (
        f"[{p['ticket_number']}] {timer[1].capitalize()} target missed under contract {p['contract_number']}",
        f"The {timer[1]} of {p['ticket_number']} ({p['priority']}) was due by {_when(p['due_at'])} and came "
        f"{p['breach_minutes']} business minutes late. The service credit appears in the month's report "
        "and invoice.",
    )


def _report_ready(p: dict[str, Any], ru: bool) -> tuple[str, str]:  # Any: the event's JSON document
    credit = formatted(p["credit_minor"], p["currency"])
    if ru:
        return (
            f"Отчёт по договору {p['number']} за {p['period']}",
            f"Отчёт об уровне сервиса за {p['period']} готов: нарушений — {p['breaches']}, компенсация — "
            f"{credit}. Отчёт: {p['report_path']}",
        )
    return (
        f"Service report for contract {p['number']}, {p['period']}",
        f"The service-level report for {p['period']} is ready: {p['breaches']} breach(es), {credit} in "
        f"service credits. Report: {p['report_path']}",
    )


TEMPLATES: dict[str, Callable[[dict[str, Any], bool], tuple[str, str]]] = {  # Any: JSON documents
    "booking.reminder": _reminder,
    "booking.rescheduled": _rescheduled,
    "ticket.explanation_requested": _explanation,
    "ticket.first_response_due_soon": _due_soon,
    "ticket.first_response_breached": _breached,
    "contract.activated": _activated,
    "invoice.issued": _invoice,
    "ticket.received": _received,
    "ticket.answered": _answered,
    "ticket.waiting_for_customer": _waiting,
    "booking.confirmed": _confirmed,
    "booking.cancelled": _cancelled,
    "email.rejected": _rejected,
    "booking.held": _held,
    "booking.refunded": _refunded,
    "contract.breach": _contract_breach,
    "contract.report_ready": _report_ready,
}


def message_for(
    event: OutboxEvent, delivery: Delivery, *, sender: str, now: datetime, invite: bytes | None = None
) -> EmailMessage:
    subject, body = TEMPLATES[event.type](event.payload, delivery.locale == "ru")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = delivery.recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{delivery.id}@{DOMAIN}>"
    message["Content-Language"] = delivery.locale
    if ticket_id := event.payload.get("ticket_id"):
        thread = f"<ticket-{ticket_id}@{DOMAIN}>"
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
