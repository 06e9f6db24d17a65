"""The mail of each event, in English and Russian: a subject and a plain-text body from the event's
typed document. Each catalog entry (notifications/catalog.py) names its template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from billing import InvoiceIssued
from contracts import ContractActivated, ContractBreach, ContractReportReady
from core.money import formatted
from scheduling import (
    BookingCancelled,
    BookingConfirmed,
    BookingHeld,
    BookingRefunded,
    BookingReminder,
    BookingRescheduled,
)
from support import (
    INTAKE_ITEM_NAMES,
    EmailRejected,
    ExplanationRequested,
    FirstResponseDeadline,
    TicketAnswered,
    TicketClockStarted,
    TicketReceived,
    TicketWaitingForCustomer,
)

MONTHS_RU = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Speech:
    """How to speak to one recipient: in their language, with every time in their organisation's zone."""

    ru: bool
    zone: ZoneInfo

    def when(self, value: str | None) -> str:
        """An instant as the recipient reads it: ``3 декабря 2026, 17:00 (Europe/Moscow, UTC+03:00)``."""
        if not value:
            return "—"
        local = datetime.fromisoformat(value).astimezone(self.zone)
        offset = local.strftime("%z")
        utc = "UTC" if offset == "+0000" else f"UTC{offset[:3]}:{offset[3:]}"
        month = MONTHS_RU[local.month - 1] if self.ru else MONTHS_EN[local.month - 1]
        return f"{local.day} {month} {local.year}, {local:%H:%M} ({self.zone.key}, {utc})"


def thread_subject(number: str, subject: str) -> str:
    """Every message about a ticket has the same subject, its number first: mail clients that group by
    subject keep the ticket's mail in one thread (those that follow References do anyway)."""
    return f"[{number}] {subject}"


def received(e: TicketReceived, say: Speech) -> tuple[str, str]:
    """The receipt: the first message of the ticket's thread (the others reference it)."""
    names = INTAKE_ITEM_NAMES["ru" if say.ru else "en"]
    missing = [names.get(item, item) for item in e.missing]
    if say.ru:
        lines = [f"Мы получили ваше обращение {e.number}: «{e.subject}»."]
        if missing:
            lines += ["", "Чтобы начать работу, нам не хватает:", *(f"  • {m}" for m in missing)]
            lines += ["Срок первого ответа начнёт отсчитываться, когда всё будет получено: мы напишем."]
        else:
            lines += ["", f"Первый ответ — не позднее {say.when(e.first_response_due_at)}."]
        lines += ["", f"Отвечайте на это письмо, сохраняя [{e.number}] в теме: ответ попадёт в обращение."]
        return thread_subject(e.number, e.subject), "\n".join(lines)
    lines = [f'We received your ticket {e.number}: "{e.subject}".']
    if missing:
        lines += ["", "To start work we still need:", *(f"  • {m}" for m in missing)]
        lines += ["The first-response clock starts once we have everything: we will write."]
    else:
        lines += ["", f"The first response is due by {say.when(e.first_response_due_at)}."]
    lines += [
        "",
        f"Reply to this e-mail keeping [{e.number}] in the subject: your reply joins the ticket.",
    ]
    return thread_subject(e.number, e.subject), "\n".join(lines)


def clock_started(e: TicketClockStarted, say: Speech) -> tuple[str, str]:
    """The intake became complete later than the filing: the clock runs from now, and when it is due."""
    due = say.when(e.first_response_due_at)
    if say.ru:
        body = (
            f"По обращению {e.number} получено всё необходимое, срок первого ответа отсчитывается.\n\n"
            f"Первый ответ — не позднее {due}."
        )
        return thread_subject(e.number, e.subject), body
    body = (
        f"Ticket {e.number} has everything it needs: the first-response clock is running.\n\n"
        f"The first response is due by {due}."
    )
    return thread_subject(e.number, e.subject), body


def answered(e: TicketAnswered, say: Speech) -> tuple[str, str]:
    if say.ru:
        return thread_subject(
            e.number, e.subject
        ), f"Ответ поддержки:\n\n{e.message}\n\n— Поддержка ({e.number})"
    return thread_subject(e.number, e.subject), f"Support answered:\n\n{e.message}\n\n— Support ({e.number})"


def waiting(e: TicketWaitingForCustomer, say: Speech) -> tuple[str, str]:
    if say.ru:
        body = f"Чтобы продолжить, нам нужна информация:\n\n{e.message}\n\nОтветьте на это письмо."
        return thread_subject(e.number, e.subject), body
    body = f"To go on we need information from you:\n\n{e.message}\n\nPlease reply to this e-mail."
    return thread_subject(e.number, e.subject), body


def confirmed(e: BookingConfirmed, say: Speech) -> tuple[str, str]:
    ru = say.ru
    if ru:
        body = f"Удалённая сессия {e.number} подтверждена: {say.when(e.starts_at)} — {say.when(e.ends_at)}."
        return f"[{e.number}] Сессия подтверждена", body + "\nПриглашение для календаря — во вложении."
    body = f"Remote session {e.number} is confirmed: {say.when(e.starts_at)} to {say.when(e.ends_at)}."
    return f"[{e.number}] Your remote session is confirmed", body + "\nThe calendar invite is attached."


def cancelled(e: BookingCancelled, say: Speech) -> tuple[str, str]:
    ru = say.ru
    refund = {"full": ("полный возврат", "a full refund"), "none": ("без возврата", "no refund")}
    label = refund.get(str(e.refund), ("—", "—"))
    if ru:
        return f"[{e.number}] Сессия отменена", f"Удалённая сессия {e.number} отменена ({label[0]})."
    return (
        f"[{e.number}] Your remote session is cancelled",
        f"Remote session {e.number} is cancelled ({label[1]}).",
    )


def rejected(e: EmailRejected, say: Speech) -> tuple[str, str]:
    ru = say.ru
    if ru:
        body = (
            f"Ваше письмо «{e.subject}» не принято: адрес {e.sender} не принадлежит пользователю "
            "поддержки. Напишите с адреса контактного лица поддержки вашей организации или попросите "
            "администратора добавить вас."
        )
        return f"Письмо не принято: {e.subject}", body
    body = (
        f'Your e-mail "{e.subject}" was not accepted: {e.sender} is not the address of a support user. '
        "Write from your organisation's designated support contact's address, or ask your administrator to "
        "add you."
    )
    return f"Not accepted: {e.subject}", body


def reminder(e: BookingReminder, say: Speech) -> tuple[str, str]:
    ru = say.ru
    if ru:
        body = f"Напоминаем: удалённая сессия {e.number} начнётся {say.when(e.starts_at)}."
        return f"[{e.number}] Сессия через {e.hours_before} ч", body + " Проверьте условия доступа."
    body = f"A reminder: remote session {e.number} starts at {say.when(e.starts_at)}."
    return (
        f"[{e.number}] Your session starts in {e.hours_before} h",
        body + " Check the access preconditions.",
    )


def rescheduled(e: BookingRescheduled, say: Speech) -> tuple[str, str]:
    ru = say.ru
    if ru:
        return (
            f"[{e.number}] Сессия перенесена",
            f"Новое время сессии {e.number}: {say.when(e.starts_at)}.",
        )
    return (
        f"[{e.number}] Your session was moved",
        f"Remote session {e.number} now starts at {say.when(e.starts_at)}.",
    )


def explanation(e: ExplanationRequested, say: Speech) -> tuple[str, str]:
    ru = say.ru
    if ru:
        return f"[{e.number}] Клиент просит объяснить задержку", f"Причина: {e.reason}"
    return (
        f"[{e.number}] The customer asks why the first response was late",
        f"Reason given: {e.reason}",
    )


def due_soon(e: FirstResponseDeadline, say: Speech) -> tuple[str, str]:
    ru = say.ru
    when = say.when(e.first_response_due_at)
    if ru:
        return (
            f"[{e.number}] Срок первого ответа через час",
            f"Первый ответ по {e.number} нужен до {when}.",
        )
    return (
        f"[{e.number}] First response due within the hour",
        f"{e.number} needs its first response by {when}.",
    )


def breached(e: FirstResponseDeadline, say: Speech) -> tuple[str, str]:
    ru = say.ru
    when = say.when(e.first_response_due_at)
    if ru:
        return (
            f"[{e.number}] Срок первого ответа нарушен",
            f"Первый ответ по {e.number} был нужен до {when}.",
        )
    return (
        f"[{e.number}] First-response deadline breached",
        f"{e.number} needed its first response by {when}.",
    )


def activated(e: ContractActivated, say: Speech) -> tuple[str, str]:
    ru = say.ru
    if ru:
        return (
            f"Договор SLA {e.number} действует",
            f"Договор {e.number} действует с {e.starts_on} по {e.ends_on}.",
        )
    return (
        f"SLA contract {e.number} is active",
        f"Contract {e.number} is in force from {e.starts_on} to {e.ends_on}.",
    )


def invoice(e: InvoiceIssued, say: Speech) -> tuple[str, str]:
    ru = say.ru
    total = formatted(e.total_minor, e.currency)
    if ru:
        return (
            f"Счёт {e.number} за {e.period}",
            f"Выставлен счёт {e.number} за {e.period} на {total}.",
        )
    return (
        f"Invoice {e.number} for {e.period}",
        f"Invoice {e.number} for {e.period} is issued: {total}.",
    )


def held(e: BookingHeld, say: Speech) -> tuple[str, str]:
    ru = say.ru
    price, until = formatted(e.amount_minor, e.currency), say.when(e.hold_expires_at)
    if ru:
        return (
            f"[{e.number}] Время сессии удержано до оплаты",
            f"Удалённая сессия {e.number} ({say.when(e.starts_at)}) удержана за вами до {until}. "
            f"Оплатите {price}, чтобы подтвердить её; без оплаты время освободится.",
        )
    return (
        f"[{e.number}] Your session time is held until you pay",
        f"Remote session {e.number} ({say.when(e.starts_at)}) is held for you until {until}. "
        f"Pay {price} to confirm it; unpaid, the time is released.",
    )


def refunded(e: BookingRefunded, say: Speech) -> tuple[str, str]:
    ru = say.ru
    amount = formatted(e.amount_minor, e.currency)
    if ru:
        return (
            f"[{e.number}] Возврат {amount}",
            f"По сессии {e.number} возвращено {amount}. Деньги придут на карту в течение нескольких дней.",
        )
    return (
        f"[{e.number}] Refund of {amount}",
        f"{amount} was refunded for remote session {e.number}. It reaches your card within a few days.",
    )


def contract_breach(e: ContractBreach, say: Speech) -> tuple[str, str]:
    ru = say.ru
    timers = {
        "first_response": ("первого ответа", "first response"),
        "update": ("обновления", "update"),
        "resolution": ("решения", "resolution"),
    }
    timer = timers.get(e.timer, (e.timer, e.timer))
    if ru:
        return (
            f"[{e.ticket_number}] Нарушен срок {timer[0]} по договору {e.contract_number}",
            f"Срок {timer[0]} по {e.ticket_number} ({e.priority}) истёк {say.when(e.due_at)}; "
            f"просрочка — {e.breach_minutes} мин рабочего времени. Компенсация будет учтена в отчёте "
            "и счёте за месяц.",
        )
    return (
        f"[{e.ticket_number}] {timer[1].capitalize()} target missed under contract {e.contract_number}",
        f"The {timer[1]} of {e.ticket_number} ({e.priority}) was due by {say.when(e.due_at)} and came "
        f"{e.breach_minutes} business minutes late. The service credit appears in the month's report "
        "and invoice.",
    )


def report_ready(e: ContractReportReady, say: Speech) -> tuple[str, str]:
    ru = say.ru
    credit = formatted(e.credit_minor, e.currency)
    if ru:
        return (
            f"Отчёт по договору {e.number} за {e.period}",
            f"Отчёт об уровне сервиса за {e.period} готов: нарушений — {e.breaches}, компенсация — "
            f"{credit}. Отчёт: {e.report_path}",
        )
    return (
        f"Service report for contract {e.number}, {e.period}",
        f"The service-level report for {e.period} is ready: {e.breaches} breach(es), {credit} in "
        f"service credits. Report: {e.report_path}",
    )
