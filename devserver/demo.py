"""The demo data set of ``deskline seed-demo``: people of every role and companies, a bookable service,
and tickets in each timer state for the staff console's queue."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import (
    DEMO_PASSWORD,
    SYSTEM_ACTOR,
    OrganizationIn,
    PurchaseChannel,
    PurchaseIn,
    Role,
    User,
    UserIn,
    create_organization,
    create_user,
    designate_support_contact,
    record_purchase,
    seed_demo_data,
    user_actor,
)
from contracts import (
    SLA,
    ContractIn,
    Priority,
    SlaTicketIn,
    Terms,
    activate_contract,
    create_draft,
    file_ticket,
)
from scheduling import ServiceIn, WorkingHoursIn, create_service, set_working_hours
from support import TicketIn, TicketStatus, TransitionIn, create_ticket, transition_ticket


async def seed_demo(session: AsyncSession, *, now: datetime) -> dict[str, Any]:  # Any: JSON summary
    """Accounts first (idempotent); on a first run also the engineer's week and a remote-session service."""
    summary = await seed_demo_data(session, now=now)
    if summary["status"] != "seeded":
        return summary
    engineer = (
        await session.scalars(sa.select(User).where(col(User.email) == "engineer@deskline.demo"))
    ).one()
    await set_working_hours(
        session,
        SYSTEM_ACTOR,
        engineer.id,
        WorkingHoursIn(
            time_zone="Europe/Moscow",
            weekly_hours={str(d): [("09:00", "18:00")] for d in range(5)},
            skills=["sql", "exchange"],
        ),
        now=now,
    )
    service = await create_service(
        session,
        ServiceIn(
            name="Remote session (1 hour)",
            duration_minutes=60,
            price_minor=500_000,
            currency="RUB",
            description="An engineer connects to your server and fixes the problem with you.",
        ),
        now=now,
    )
    tickets = await _tickets_in_every_timer_state(session, now=now)
    return {**summary, "service_id": str(service.id), "engineer_id": str(engineer.id), "tickets": tickets}


DEMO_TERMS: dict[str, Any] = {  # Any: a JSON document
    "coverage": {"kind": "all"},
    "calendar": {
        "time_zone": "Europe/Moscow",
        "weekly_hours": {str(d): [["09:00", "18:00"]] for d in range(5)},
    },
    "priorities": {
        p: {
            "qualifies": what,
            "first_response_minutes": first,
            "update_interval_minutes": first * 2,
            "resolution_minutes": first * 8,
        }
        for p, first, what in (
            ("P1", 30, "Production is down for everyone"),
            ("P2", 60, "A key function fails, with no workaround"),
            ("P3", 240, "A function fails, with a workaround"),
            ("P4", 480, "A question or a cosmetic problem"),
        )
    },
    "included_session_minutes": 240,
    "overage": {"mode": "charge", "rate_minor_per_hour": 400_000},
    "monthly_fee_minor": 15_000_000,
    "currency": "RUB",
    "service_credits": {"percent_per_breach": {"P1": 5, "P2": 3, "P3": 1}, "cap_percent": 20},
    "responsibilities": "The customer names two administrators; the vendor answers within the targets.",
}


async def _tickets_in_every_timer_state(session: AsyncSession, *, now: datetime) -> list[str]:
    """Vasilek LLC (eligible for free support, under an SLA contract since a month ago) with tickets
    the queue shows in each state: a free ticket still missing its intake, an SLA ticket running, one
    paused while it awaits the customer, and one filed two days ago that nobody answered (breached)."""
    org = await create_organization(
        session, SYSTEM_ACTOR, OrganizationIn(name="Vasilek LLC", time_zone="Europe/Moscow"), now=now
    )
    purchase = PurchaseIn(
        product="Mobile Server",
        purchased_on=date(2024, 3, 1),
        channel=PurchaseChannel.DIRECT,
        reference="VAS-1",
    )
    await record_purchase(session, SYSTEM_ACTOR, org.id, purchase, now=now)
    user = await create_user(
        session,
        SYSTEM_ACTOR,
        org.id,
        UserIn(
            email="it@vasilek.example",
            full_name="Vera Vasilkova",
            role=Role.CUSTOMER_USER,
            password=DEMO_PASSWORD,
        ),
        now=now,
    )
    await designate_support_contact(session, SYSTEM_ACTOR, org.id, user.id, now=now)
    started = now - timedelta(days=30)
    draft = ContractIn(
        organization_id=org.id,
        number="SLA-DEMO-VASILEK",
        starts_on=started.date(),
        ends_on=started.date() + timedelta(days=364),
        signed_on=started.date(),
        terms=msgspec.convert(DEMO_TERMS, Terms),
    )
    contract = await create_draft(session, SYSTEM_ACTOR, draft, now=started)
    await activate_contract(session, SYSTEM_ACTOR, contract.id, now=started, expected_revision=None)
    customer = user_actor(user)
    free = await create_ticket(
        session,
        customer,
        TicketIn(
            project_name="Warehouse terminals",
            description="Terminals stop synchronising after the update.",
            affected_applications="Mobile Server",
            steps_to_reproduce="Update, start a terminal, synchronise",
            impact="Picking is done on paper",
            affected_employees=12,
        ),
        now=now,
    )
    running = await file_ticket(
        session,
        customer,
        contract.id,
        SlaTicketIn(
            priority=Priority.P2,
            subject="Orders arrive late",
            description="Since 9:00 orders arrive an hour late.",
        ),
        now=now,
    )
    waiting = await file_ticket(
        session,
        customer,
        contract.id,
        SlaTicketIn(
            priority=Priority.P3,
            subject="Report layout broken",
            description="The picking report prints on two pages.",
        ),
        now=now - timedelta(hours=3),
    )
    engineer = (
        await session.scalars(sa.select(User).where(col(User.email) == "engineer@deskline.demo"))
    ).one()
    await transition_ticket(
        session,
        user_actor(engineer),
        waiting.id,
        TransitionIn(to=TicketStatus.AWAITING_CUSTOMER, message="Which printer model prints it?"),
        now=now - timedelta(hours=2),
        line=SLA,
    )
    late = await file_ticket(
        session,
        customer,
        contract.id,
        SlaTicketIn(priority=Priority.P1, subject="Server down", description="No terminal can connect."),
        now=now - timedelta(days=2),
    )
    return [str(free.ticket.id), str(running.id), str(waiting.id), str(late.id)]
