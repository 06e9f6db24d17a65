"""Test factories: build organisations, users, purchases and tokens in a few readable calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date
from itertools import count
from typing import Any

import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.actor import SYSTEM_ACTOR
from accounts.clients import create_client
from accounts.directory import create_organization, create_user
from accounts.eligibility import designate_support_contact
from accounts.models import IntegrationClient, Organization, PurchaseChannel, User
from accounts.purchases import record_purchase
from accounts.roles import Role, Scope
from accounts.schemas import OrganizationIn, PurchaseIn, UserIn
from accounts.tokens import issue_access_token
from api.context import AppContext
from core.time import FrozenClock
from scheduling.catalog import create_service
from scheduling.engineers import set_working_hours
from scheduling.models import Service
from scheduling.schemas import ServiceIn, WorkingHoursIn

_sequence = count(1)


@dataclass
class World:
    """The state a test builds, through the same domain functions the API uses."""

    app: Litestar
    client: AsyncTestClient[Litestar]
    clock: FrozenClock
    # The app runs in the test client's own event loop; factories need their own engine in the test's loop.
    sessions: async_sessionmaker[AsyncSession]

    @property
    def ctx(self) -> AppContext:
        ctx: AppContext = self.app.state.ctx
        return ctx

    @contextmanager
    def counted_statements(self) -> Iterator[list[str]]:
        """The SQL the app sends while the block runs (to prove a cost does not grow with a list)."""
        seen: list[str] = []
        engines = [self.ctx.alchemy.get_engine().sync_engine, self.ctx.read_engine.sync_engine]

        def count(*args: Any) -> None:  # Any: SQLAlchemy's event arguments
            seen.append(str(args[2]))

        for engine in engines:
            sa.event.listen(engine, "before_cursor_execute", count)
        try:
            yield seen
        finally:
            for engine in engines:
                sa.event.remove(engine, "before_cursor_execute", count)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session

    async def organization(self, name: str | None = None, *, purchase: bool = False) -> Organization:
        async with self.session() as session:
            org = await create_organization(
                session,
                SYSTEM_ACTOR,
                OrganizationIn(name=name or f"Company {next(_sequence)}"),
                now=self.clock.now(),
            )
            if purchase:
                await record_purchase(
                    session,
                    SYSTEM_ACTOR,
                    org.id,
                    PurchaseIn(
                        product="Deskline Mobile Server",
                        purchased_on=date(2020, 5, 17),
                        channel=PurchaseChannel.DIRECT,
                        reference=f"INV-{next(_sequence)}",
                    ),
                    now=self.clock.now(),
                )
        return org

    async def user(
        self,
        role: Role = Role.CUSTOMER_USER,
        organization: Organization | None = None,
        *,
        password: str | None = None,
        email: str | None = None,
    ) -> User:
        async with self.session() as session:
            return await create_user(
                session,
                SYSTEM_ACTOR,
                organization.id if organization else None,
                UserIn(
                    email=email or f"user{next(_sequence)}@example.com",
                    full_name=f"{role.value.replace('_', ' ').title()} {next(_sequence)}",
                    role=role,
                    password=password,
                ),
                now=self.clock.now(),
            )

    async def support_contact(self, organization: Organization, user: User) -> None:
        async with self.session() as session:
            await designate_support_contact(
                session, SYSTEM_ACTOR, organization.id, user.id, now=self.clock.now()
            )

    async def integration(self, *scopes: Scope) -> tuple[IntegrationClient, str]:
        async with self.session() as session:
            return await create_client(
                session,
                SYSTEM_ACTOR,
                name=f"CRM {next(_sequence)}",
                scopes=[s.value for s in scopes],
                now=self.clock.now(),
            )

    async def token_for(self, user: User) -> str:
        async with self.session() as session:
            issued = await issue_access_token(
                session,
                self.ctx.keyring,
                self.ctx.token_policy,
                subject=str(user.id),
                subject_kind="user",
                now=self.clock.now(),
            )
        return issued.token

    async def client_token(self, client: IntegrationClient) -> str:
        async with self.session() as session:
            issued = await issue_access_token(
                session,
                self.ctx.keyring,
                self.ctx.token_policy,
                subject=str(client.id),
                subject_kind="client",
                now=self.clock.now(),
                scope=client.scopes,
            )
        return issued.token

    async def headers(self, who: User | IntegrationClient, **extra: str) -> dict[str, str]:
        token = await (self.client_token(who) if isinstance(who, IntegrationClient) else self.token_for(who))
        return {"Authorization": f"Bearer {token}", **extra}

    async def contact(self, *, purchase: bool = True) -> tuple[Organization, User, dict[str, str]]:
        """An organisation with its designated support contact, and that contact's headers."""
        org = await self.organization(purchase=purchase)
        user = await self.user(Role.CUSTOMER_USER, org)
        await self.support_contact(org, user)
        return org, user, await self.headers(user)

    async def engineer(
        self,
        *,
        skills: tuple[str, ...] = (),
        zone: str = "Europe/Moscow",
        hours: tuple[str, str] = ("09:00", "18:00"),
        days: range = range(5),
    ) -> User:
        """A support engineer working ``days`` (Monday to Friday unless told) in ``zone``."""
        user = await self.user(Role.SUPPORT_ENGINEER)
        async with self.session() as session:
            await set_working_hours(
                session,
                SYSTEM_ACTOR,
                user.id,
                WorkingHoursIn(
                    time_zone=zone, weekly_hours={str(d): [hours] for d in days}, skills=list(skills)
                ),
                now=self.clock.now(),
            )
        return user

    async def service(self, **overrides: Any) -> Service:
        fields: dict[str, Any] = {
            "name": "Remote session",
            "duration_minutes": 60,
            "price_minor": 500_000,
            "currency": "RUB",
            "min_notice_minutes": 120,
            "buffer_after_minutes": 15,
        }
        fields.update(overrides)
        async with self.session() as session:
            return await create_service(session, ServiceIn(**fields), now=self.clock.now())

    async def staff(self, role: Role) -> tuple[User, dict[str, str]]:
        user = await self.user(role)
        return user, await self.headers(user)
