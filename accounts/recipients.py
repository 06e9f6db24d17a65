"""Who at a customer organisation is told about its agreements and money: its customer admins (every
active user of it when it has none), in the organisation's language."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.models import Organization, User
from accounts.roles import Role
from core.outbox import Recipient


async def organisation_recipients(session: AsyncSession, organization_id: uuid.UUID) -> list[Recipient]:
    organization = await session.get(Organization, organization_id)
    locale = organization.locale if organization is not None else "ru"
    users = (
        await session.scalars(
            sa.select(User).where(col(User.organization_id) == organization_id, col(User.is_active))
        )
    ).all()
    admins = [u for u in users if u.role == Role.CUSTOMER_ADMIN]
    return [Recipient(u.email, locale) for u in (admins or users)]
