"""Organisations and their users: who exists, who may manage whom, tenant-scoped reads."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import audit
from accounts.actor import Actor
from accounts.errors import EmailTaken
from accounts.models import Organization, SupportContact, User
from accounts.passwords import hash_password
from accounts.roles import CUSTOMER_ROLES, STAFF_ROLES, Role
from accounts.schemas import OrganizationIn, OrganizationPatch, UserIn, UserPatch
from accounts.tenancy import belongs_to, scoped
from accounts.tokens import revoke_user_tokens
from core.errors import Conflict, FieldProblem, InvalidInput, NotFound, PermissionDenied
from core.pagination import Page, paginate


def _check_zone(time_zone: str) -> None:
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"{time_zone!r} is not an IANA time zone.",
            errors=[FieldProblem("time_zone", "unknown IANA time zone, e.g. Europe/Moscow")],
        ) from exc


def readable_organizations(actor: Actor) -> sa.Select[Organization]:
    """The organisations the actor may see (accounts.tenancy)."""
    return scoped(sa.select(Organization), col(Organization.id), actor)


def readable_users(actor: Actor) -> sa.Select[User]:
    """The users of the organisations the actor may see (staff of no organisation are not among them)."""
    return scoped(sa.select(User), col(User.organization_id), actor).where(
        col(User.organization_id).is_not(None)
    )


async def get_organization(session: AsyncSession, actor: Actor, organization_id: uuid.UUID) -> Organization:
    """The organisation if the caller may see it; another tenant's answers NotFound, not Forbidden."""
    org = (
        await session.scalars(readable_organizations(actor).where(col(Organization.id) == organization_id))
    ).first()
    if org is None:
        raise NotFound("No organization with this id.")
    return org


async def list_organizations(
    session: AsyncSession, actor: Actor, *, limit: int, cursor: str | None, name: str | None = None
) -> Page[Organization]:
    statement = readable_organizations(actor)
    if name:
        statement = statement.where(sa.func.lower(col(Organization.name)).contains(name.lower()))
    return await paginate(session, statement, col(Organization.id), limit=limit, cursor=cursor)


async def create_organization(
    session: AsyncSession, actor: Actor, data: OrganizationIn, *, now: datetime
) -> Organization:
    _check_zone(data.time_zone)
    await _ensure_tax_id_free(session, data.tax_id)
    org = Organization(
        name=data.name, tax_id=data.tax_id, time_zone=data.time_zone, locale=data.locale, created_at=now
    )
    session.add(org)
    await session.flush()
    await audit.record_audit(
        session,
        actor,
        "organization_created",
        subject_type="organization",
        subject_id=org.id,
        organization_id=org.id,
        now=now,
        data={"name": org.name},
    )
    return org


async def update_organization(
    session: AsyncSession, actor: Actor, organization_id: uuid.UUID, data: OrganizationPatch
) -> Organization:
    org = await get_organization(session, actor, organization_id)
    changes = msgspec.structs.asdict(data)
    for field, value in changes.items():
        if value is msgspec.UNSET:
            continue
        if field == "time_zone":
            _check_zone(value)
        if field == "tax_id" and value != org.tax_id:
            await _ensure_tax_id_free(session, value)
        setattr(org, field, value)
    await session.flush()
    return org


async def _ensure_tax_id_free(session: AsyncSession, tax_id: str | None) -> None:
    if tax_id is None:
        return
    taken = await session.scalar(sa.select(sa.func.count()).where(col(Organization.tax_id) == tax_id))
    if taken:
        raise Conflict(
            "Another organization already has this tax id.", errors=[FieldProblem("tax_id", "taken")]
        )


def _may_manage_users(actor: Actor, organization_id: uuid.UUID) -> bool:
    return (
        actor.is_system
        or actor.has_role(Role.ADMIN)
        or (actor.has_role(Role.CUSTOMER_ADMIN) and belongs_to(actor, organization_id))
    )


async def list_users(
    session: AsyncSession, actor: Actor, organization_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page[User]:
    await get_organization(session, actor, organization_id)
    statement = readable_users(actor).where(col(User.organization_id) == organization_id)
    return await paginate(session, statement, col(User.id), limit=limit, cursor=cursor)


async def get_user(
    session: AsyncSession, actor: Actor, organization_id: uuid.UUID, user_id: uuid.UUID
) -> User:
    await get_organization(session, actor, organization_id)
    statement = readable_users(actor).where(
        col(User.id) == user_id, col(User.organization_id) == organization_id
    )
    user = (await session.scalars(statement)).first()
    if user is None:
        raise NotFound("No user with this id in this organization.")
    return user


async def create_user(
    session: AsyncSession,
    actor: Actor,
    organization_id: uuid.UUID | None,
    data: UserIn,
    *,
    now: datetime,
) -> User:
    """Create a user. Customer admins add customer users to their own organisation; admins anyone."""
    if organization_id is not None:
        await get_organization(session, actor, organization_id)
        if not _may_manage_users(actor, organization_id):
            raise PermissionDenied("Only the organization's customer admin or an admin may add users.")
    if data.role not in CUSTOMER_ROLES and not (actor.is_system or actor.has_role(Role.ADMIN)):
        raise PermissionDenied("Only an admin may create staff users.")
    if organization_id is None and data.role in CUSTOMER_ROLES:
        raise InvalidInput(
            "A customer user must belong to an organization.",
            errors=[FieldProblem("organization", "required for customer roles")],
        )
    email = data.email.strip().lower()
    if await session.scalar(sa.select(sa.func.count()).where(col(User.email) == email)):
        raise EmailTaken("A user with this e-mail already exists.", errors=[FieldProblem("email", "taken")])
    user = User(
        email=email,
        full_name=data.full_name,
        phone=data.phone,
        role=data.role,
        organization_id=organization_id,
        password_hash=hash_password(data.password) if data.password else None,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request registered the same e-mail
        raise EmailTaken(
            "A user with this e-mail already exists.", errors=[FieldProblem("email", "taken")]
        ) from exc
    await audit.record_audit(
        session,
        actor,
        "user_created",
        subject_type="user",
        subject_id=user.id,
        organization_id=organization_id,
        now=now,
        data={"email": email, "role": user.role.value},
    )
    return user


async def update_user(
    session: AsyncSession,
    actor: Actor,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    data: UserPatch,
    *,
    now: datetime,
) -> User:
    """Change a customer user; role changes and deactivation are audited and end the user's sessions."""
    user = await get_user(session, actor, organization_id, user_id)
    if not _may_manage_users(actor, organization_id) and actor.id != user.id:
        raise PermissionDenied("Only the organization's customer admin or an admin may change other users.")
    changes_standing = data.role is not msgspec.UNSET or data.is_active is not msgspec.UNSET
    if actor.id == user.id and changes_standing and not actor.has_role(Role.ADMIN):
        raise PermissionDenied("You cannot change your own role or deactivate yourself.")
    if data.role is not msgspec.UNSET and data.role not in CUSTOMER_ROLES:
        raise InvalidInput(
            "Customer users can only have customer roles.",
            errors=[FieldProblem("role", "must be customer_user or customer_admin")],
        )
    return await _apply_patch(session, actor, user, data, now=now)


async def _apply_patch(
    session: AsyncSession, actor: Actor, user: User, data: UserPatch, *, now: datetime
) -> User:
    """Apply a checked change to a user: a role change or deactivation is audited and ends the user's
    tokens (and a deactivated designated contact stops being one)."""
    if data.full_name is not msgspec.UNSET:
        user.full_name = data.full_name
    if data.phone is not msgspec.UNSET:
        user.phone = data.phone
    if data.role is not msgspec.UNSET and data.role != user.role:
        await audit.record_audit(
            session,
            actor,
            "user_role_changed",
            subject_type="user",
            subject_id=user.id,
            organization_id=user.organization_id,
            now=now,
            data={"from": user.role.value, "to": data.role.value},
        )
        user.role = data.role
        await revoke_user_tokens(session, user.id, now=now)
    if data.is_active is not msgspec.UNSET and data.is_active != user.is_active:
        user.is_active = data.is_active
        await audit.record_audit(
            session,
            actor,
            "user_activated" if data.is_active else "user_deactivated",
            subject_type="user",
            subject_id=user.id,
            organization_id=user.organization_id,
            now=now,
        )
        if not data.is_active:
            await revoke_user_tokens(session, user.id, now=now)
            await _drop_support_contact_of(session, actor, user, now=now)
    user.updated_at = now
    await session.flush()
    return user


async def _drop_support_contact_of(session: AsyncSession, actor: Actor, user: User, *, now: datetime) -> None:
    contact = await session.get(SupportContact, user.organization_id) if user.organization_id else None
    if contact is not None and contact.user_id == user.id:
        await session.delete(contact)
        await audit.record_audit(
            session,
            actor,
            "support_contact_changed",
            subject_type="organization",
            subject_id=str(user.organization_id),
            organization_id=user.organization_id,
            now=now,
            data={"from": str(user.id), "to": None, "reason": "user_deactivated"},
        )
        await session.flush()


# The vendor's own people (who belong to no customer organisation), managed by admins.


def _require_admin(actor: Actor) -> None:
    if not (actor.is_system or actor.has_role(Role.ADMIN)):
        raise PermissionDenied("Only an admin manages staff.")


async def list_staff(
    session: AsyncSession, actor: Actor, *, role: Role | None, limit: int, cursor: str | None
) -> Page[User]:
    """Every user with a staff role, newest first; ``role`` narrows to one role."""
    _require_admin(actor)
    if role is not None and role not in STAFF_ROLES:
        raise InvalidInput("Staff have staff roles.", errors=[FieldProblem("role", "must be a staff role")])
    statement = sa.select(User).where(col(User.role).in_([r.value for r in STAFF_ROLES]))
    if role is not None:
        statement = statement.where(col(User.role) == role)
    return await paginate(session, statement, col(User.id), limit=limit, cursor=cursor)


async def create_staff_user(session: AsyncSession, actor: Actor, data: UserIn, *, now: datetime) -> User:
    """A new member of staff (no organisation); audited like every user created."""
    _require_admin(actor)
    if data.role not in STAFF_ROLES:
        raise InvalidInput("Staff have staff roles.", errors=[FieldProblem("role", "must be a staff role")])
    return await create_user(session, actor, None, data, now=now)


async def update_staff_user(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID, data: UserPatch, *, now: datetime
) -> User:
    """Change a member of staff: name, phone, another staff role, active. A role change or
    deactivation is audited and ends the user's tokens; nobody changes their own standing here (an
    admin could lock the vendor out of its own console)."""
    _require_admin(actor)
    user = (
        await session.scalars(
            sa.select(User)
            .where(col(User.id) == user_id, col(User.role).in_([r.value for r in STAFF_ROLES]))
            .with_for_update()
        )
    ).first()
    if user is None:
        raise NotFound("No member of staff with this id.")
    changes_standing = data.role is not msgspec.UNSET or data.is_active is not msgspec.UNSET
    if user.id == actor.id and changes_standing:
        raise PermissionDenied("You cannot change your own role or deactivate yourself.")
    if data.role is not msgspec.UNSET and data.role not in STAFF_ROLES:
        raise InvalidInput("Staff have staff roles.", errors=[FieldProblem("role", "must be a staff role")])
    return await _apply_patch(session, actor, user, data, now=now)
