"""Turning credentials and tokens into an Actor."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import audit
from accounts.actor import Actor
from accounts.errors import InvalidCredentials, InvalidToken
from accounts.models import ExternalIdentity, IntegrationClient, User
from accounts.passwords import hash_password, needs_rehash, verify_password
from accounts.roles import Role
from core.db import dialect_insert, table_of
from core.ids import new_id
from core.prepared import first_row


async def authenticate_password(session: AsyncSession, email: str, password: str) -> User:
    """The active user with these credentials; one generic error for every failure (no enumeration)."""
    user = (await session.scalars(sa.select(User).where(col(User.email) == email.strip().lower()))).first()
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        raise InvalidCredentials("The e-mail or password is wrong, or the account is not active.")
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


_USERS = table_of(User)
# Core, not ORM: this runs on every authenticated request.
USER_ACCESS = sa.select(
    _USERS.c.id, _USERS.c.role, _USERS.c.organization_id, _USERS.c.email, _USERS.c.is_active
).where(_USERS.c.id == sa.bindparam("id"))


class _UserAccess(NamedTuple):
    """A row of ``USER_ACCESS``."""

    id: uuid.UUID
    role: Role
    organization_id: uuid.UUID | None
    email: str
    is_active: bool


def user_actor(user: User) -> Actor:
    return Actor(
        kind="user", id=user.id, role=user.role, organization_id=user.organization_id, email=user.email
    )


def client_actor(client: IntegrationClient) -> Actor:
    return Actor(kind="client", id=client.id, scopes=frozenset(client.scopes.split()))


async def actor_from_claims(session: AsyncSession, claims: dict[str, Any]) -> Actor:  # Any: JWT claim values
    """Load the subject a verified token names; deactivated or deleted subjects are refused."""
    try:
        subject_id = uuid.UUID(str(claims["sub"]))
    except (KeyError, ValueError) as exc:
        raise InvalidToken("The token's subject is malformed.") from exc
    if claims.get("sub_kind") == "client":
        client = await session.get(IntegrationClient, subject_id)
        if client is None or not client.is_active:
            raise InvalidToken("The integration client is not active.")
        granted = set(str(claims.get("scope", "")).split()) & set(client.scopes.split())
        return Actor(kind="client", id=client.id, scopes=frozenset(granted))
    # Only what access decisions need, without building an ORM object: this runs on every request.
    found = await first_row(session, USER_ACCESS, {"id": subject_id})
    row = None if found is None else _UserAccess(*found)
    if row is None or not row.is_active:
        raise InvalidToken("The user is not active.")
    return Actor(kind="user", id=row.id, role=row.role, organization_id=row.organization_id, email=row.email)


async def actor_from_external_claims(
    session: AsyncSession, claims: dict[str, Any], *, now: datetime
) -> Actor:  # Any: JWT claim values
    """An external OpenID Connect token names one of our users: by the issuer's subject once linked,
    else by an e-mail the issuer says it verified (``email_verified: true``; absent is not true), which
    links that subject to the user for good. A user linked to another subject of the issuer is not
    taken over by a new one that claims the same e-mail."""
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not isinstance(issuer, str) or not isinstance(subject, str) or not subject:
        raise InvalidToken("The external token names no subject.")
    linked = (
        await session.scalars(
            sa.select(User)
            .join(ExternalIdentity, col(ExternalIdentity.user_id) == col(User.id))
            .where(col(ExternalIdentity.issuer) == issuer, col(ExternalIdentity.subject) == subject)
        )
    ).first()
    if linked is not None:
        if not linked.is_active:
            raise InvalidToken("The user is not active.")
        return user_actor(linked)
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") is not True:
        raise InvalidToken("The external token carries no verified e-mail.")
    user = (await session.scalars(sa.select(User).where(col(User.email) == email.strip().lower()))).first()
    if user is None or not user.is_active:
        raise InvalidToken("No active Deskline user has the token's e-mail.")
    other = await session.scalar(
        sa.select(col(ExternalIdentity.subject)).where(
            col(ExternalIdentity.issuer) == issuer, col(ExternalIdentity.user_id) == user.id
        )
    )
    if other is not None:
        raise InvalidToken("The user is linked to another identity at this issuer.")
    await session.execute(
        dialect_insert(session, ExternalIdentity)
        .values(id=new_id(), issuer=issuer, subject=subject, user_id=user.id, created_at=now)
        .on_conflict_do_nothing()
    )
    actor = user_actor(user)
    await audit.record_audit(
        session,
        actor,
        "external_identity_linked",
        subject_type="user",
        subject_id=user.id,
        organization_id=user.organization_id,
        now=now,
        data={"issuer": issuer, "subject": subject},
    )
    return actor
