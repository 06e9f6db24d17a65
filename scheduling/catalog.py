"""The service catalog: what a remote session costs, how long it takes, and what it needs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.counters import raise_to
from core.errors import FieldProblem, InvalidInput, NotFound
from scheduling.models import WIDEST_BOOKING_MINUTES, PreconditionKind, Service
from scheduling.schemas import ChecklistItem, ServiceIn, ServicePatch

REMOTE_TOOLS = ["AnyDesk", "TeamViewer", "RDP over VPN", "SSH", "other"]

DEFAULT_CHECKLIST: list[dict[str, Any]] = [  # Any: JSON checklist items
    {
        "key": "remote_tool",
        "label_en": "Remote-access tool",
        "label_ru": "Средство удалённого доступа",
        "kind": "choice",
        "required": True,
        "choices": REMOTE_TOOLS,
        "help": "How the engineer connects.",
    },
    {
        "key": "remote_address",
        "label_en": "Tool ID or address",
        "label_ru": "ID или адрес подключения",
        "kind": "text",
        "required": True,
        "help": "AnyDesk/TeamViewer ID, VPN host, or SSH address.",
    },
    {
        "key": "access_secret",
        "label_en": "Access password or key",
        "label_ru": "Пароль или ключ доступа",
        "kind": "secret",
        "required": True,
        "help": "Shown only to the assigned engineer around the session.",
    },
    {
        "key": "admin_present",
        "label_en": "Customer administrator present (name, phone)",
        "label_ru": "Администратор заказчика на связи (имя, телефон)",
        "kind": "text",
        "required": True,
        "help": "",
    },
    {
        "key": "backup_done",
        "label_en": "Database backup made",
        "label_ru": "Резервная копия базы сделана",
        "kind": "boolean",
        "required": True,
        "help": "Make a backup before the session.",
    },
    {
        "key": "server_os",
        "label_en": "Server operating system",
        "label_ru": "ОС сервера",
        "kind": "text",
        "required": False,
        "help": "",
    },
    {
        "key": "exchange_path",
        "label_en": "Exchange directory path",
        "label_ru": "Путь к каталогу обмена",
        "kind": "text",
        "required": False,
        "help": "",
    },
]


def validate_checklist(items: list[ChecklistItem]) -> list[dict[str, Any]]:
    keys = [item.key for item in items]
    problems = [
        FieldProblem(f"checklist.{k}", "duplicate key")
        for k in sorted({k for k in keys if keys.count(k) > 1})
    ]
    for item in items:
        if item.kind == PreconditionKind.CHOICE and not item.choices:
            problems.append(FieldProblem(f"checklist.{item.key}", "a choice item needs choices"))
        if item.kind != PreconditionKind.CHOICE and item.choices:
            problems.append(FieldProblem(f"checklist.{item.key}", "only choice items have choices"))
    if problems:
        raise InvalidInput("The precondition checklist is not valid.", errors=problems)
    return [msgspec.to_builtins(item) for item in items]


async def widen_booking_span(session: AsyncSession, service: Service) -> None:
    """Every booking blocks its engineer for its service's span (buffers, the session); the widest span
    any service ever had bounds how far before a window a booking that overlaps it can begin."""
    span = service.buffer_before_minutes + service.duration_minutes + service.buffer_after_minutes
    await raise_to(session, WIDEST_BOOKING_MINUTES, span)


async def create_service(session: AsyncSession, data: ServiceIn, *, now: datetime) -> Service:
    checklist = DEFAULT_CHECKLIST if data.checklist is None else validate_checklist(data.checklist)
    service = Service(
        name=data.name,
        description=data.description,
        duration_minutes=data.duration_minutes,
        price_minor=data.price_minor,
        currency=data.currency,
        min_notice_minutes=data.min_notice_minutes,
        buffer_before_minutes=data.buffer_before_minutes,
        buffer_after_minutes=data.buffer_after_minutes,
        full_refund_hours_before=data.full_refund_hours_before,
        required_skills=sorted(set(data.required_skills)),
        checklist=checklist,
        created_at=now,
        updated_at=now,
    )
    session.add(service)
    await session.flush()
    await widen_booking_span(session, service)
    return service


async def get_service(
    session: AsyncSession, service_id: uuid.UUID, *, include_inactive: bool = True
) -> Service:
    service = await session.get(Service, service_id)
    if service is None or not (service.active or include_inactive):
        raise NotFound("No service with this id.")
    return service


async def list_services(session: AsyncSession, *, include_inactive: bool) -> list[Service]:
    statement = sa.select(Service).order_by(col(Service.name))
    if not include_inactive:
        statement = statement.where(col(Service.active))
    return list((await session.scalars(statement)).all())


async def update_service(
    session: AsyncSession, service_id: uuid.UUID, data: ServicePatch, *, now: datetime
) -> Service:
    service = await get_service(session, service_id)
    for field, value in msgspec.structs.asdict(data).items():
        if value is msgspec.UNSET:
            continue
        if field == "checklist":
            value = validate_checklist(value)
        if field == "required_skills":
            value = sorted(set(value))
        setattr(service, field, value)
    service.updated_at = now
    await session.flush()
    await widen_booking_span(session, service)
    return service
