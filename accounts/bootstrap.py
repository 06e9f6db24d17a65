"""Command-line bootstrap: the first admin, and a small demo data set."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.actor import SYSTEM_ACTOR
from accounts.directory import create_organization, create_user
from accounts.eligibility import designate_support_contact
from accounts.models import Organization, PurchaseChannel, User
from accounts.purchases import record_purchase
from accounts.roles import Role
from accounts.schemas import OrganizationIn, PurchaseIn, UserIn
from core.errors import FieldProblem, InvalidInput

DEMO_PASSWORD = "deskline-demo-password"  # noqa: S105 - printed for trying the demo, never for production


async def _organization_named(session: AsyncSession, name: str, *, now: datetime) -> Organization:
    found = (await session.scalars(sa.select(Organization).where(col(Organization.name) == name))).first()
    return found or await create_organization(session, SYSTEM_ACTOR, OrganizationIn(name=name), now=now)


async def create_user_with_organization(
    session: AsyncSession,
    *,
    email: str,
    role: Role,
    full_name: str,
    password: str | None,
    organization_name: str | None,
    now: datetime,
) -> User:
    if password is not None and len(password) < 10:
        raise InvalidInput(
            "The password must have at least 10 characters.",
            errors=[FieldProblem("password", "at least 10 characters")],
        )
    org = await _organization_named(session, organization_name, now=now) if organization_name else None
    return await create_user(
        session,
        SYSTEM_ACTOR,
        org.id if org else None,
        UserIn(email=email, full_name=full_name, role=role, password=password),
        now=now,
    )


async def seed_demo_data(session: AsyncSession, *, now: datetime) -> dict[str, Any]:  # Any: JSON summary
    """Two customers (one eligible through a former partner, one without a purchase) and staff."""
    existing = (
        await session.scalars(sa.select(User).where(col(User.email) == "admin@deskline.demo"))
    ).first()
    if existing is not None:
        return {"status": "already seeded", "password": DEMO_PASSWORD}
    people: list[tuple[str, Role, str, str | None]] = [
        ("admin@deskline.demo", Role.ADMIN, "Ada Admin", None),
        ("lead@deskline.demo", Role.SUPPORT_LEAD, "Lev Lead", None),
        ("engineer@deskline.demo", Role.SUPPORT_ENGINEER, "Elena Engineer", None),
        ("sales@deskline.demo", Role.SALES, "Sasha Sales", None),
        ("admin@romashka.example", Role.CUSTOMER_ADMIN, "Roman Romashkin", "Romashka LLC"),
        ("it@romashka.example", Role.CUSTOMER_USER, "Irina Ivanova", "Romashka LLC"),
        ("owner@newco.example", Role.CUSTOMER_ADMIN, "Nina Novikova", "NewCo"),
    ]
    created = {}
    for email, role, name, org in people:
        created[email] = await create_user_with_organization(
            session,
            email=email,
            role=role,
            full_name=name,
            password=DEMO_PASSWORD,
            organization_name=org,
            now=now,
        )
    romashka = created["it@romashka.example"].organization_id
    assert romashka is not None
    await record_purchase(
        session,
        SYSTEM_ACTOR,
        romashka,
        PurchaseIn(
            product="Deskline Mobile Server",
            purchased_on=date(2019, 3, 14),
            channel=PurchaseChannel.PARTNER,
            partner_name="SoftPartner (closed 2022)",
            reference="SP-2019-0042",
        ),
        now=now,
    )
    await designate_support_contact(
        session, SYSTEM_ACTOR, romashka, created["it@romashka.example"].id, now=now
    )
    return {
        "status": "seeded",
        "password": DEMO_PASSWORD,
        "users": {email: user.role.value for email, user in created.items()},
    }
