"""Who may use free basic support: companies that ever bought the product, through their one contact.

The support regulation's two rules: (1) any purchase record qualifies, direct or through a partner,
including partners that no longer exist; (2) only the organisation's designated support contact
files free tickets, because free support has no access to the customer's systems and needs
someone who knows where and how they run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import audit
from accounts.actor import Actor
from accounts.directory import get_organization
from accounts.errors import InvalidSupportContact, NoSupportContact, NotEligible, NotSupportContact
from accounts.models import Purchase, SupportContact, User
from accounts.roles import CUSTOMER_ROLES, Role
from accounts.tenancy import belongs_to
from core.errors import FieldProblem, PermissionDenied

# The two facts that let a caller file a free ticket, as scalar subqueries on the parameter ``org``,
# so filing can ask them in the same round trip as everything else it needs.
ANY_PURCHASE = (
    sa.select(col(Purchase.id))
    .where(col(Purchase.organization_id) == sa.bindparam("org"))
    .limit(1)
    .scalar_subquery()
)
CONTACT_USER = (
    sa.select(col(SupportContact.user_id))
    .where(col(SupportContact.organization_id) == sa.bindparam("org"))
    .scalar_subquery()
)
FILER_CHECK = sa.select(ANY_PURCHASE, CONTACT_USER)


@dataclass(frozen=True, slots=True)
class Eligibility:
    organization_id: uuid.UUID
    eligible: bool
    reason: str
    purchase: Purchase | None


async def eligibility_of(session: AsyncSession, organization_id: uuid.UUID) -> Eligibility:
    """Eligible when any purchase exists; the earliest one is the evidence shown."""
    purchase = (
        await session.scalars(
            sa.select(Purchase)
            .where(col(Purchase.organization_id) == organization_id)
            .order_by(col(Purchase.purchased_on), col(Purchase.id))
            .limit(1)
        )
    ).first()
    if purchase is None:
        return Eligibility(
            organization_id,
            eligible=False,
            reason="No purchase of the product is recorded for this organization. Paid remote sessions "
            "remain available; ask sales to record the purchase if the company bought the product.",
            purchase=None,
        )
    via = "directly" if purchase.partner_name is None else f"through partner {purchase.partner_name}"
    return Eligibility(
        organization_id,
        eligible=True,
        reason=f"Bought {purchase.product} {via} on {purchase.purchased_on.isoformat()} "
        f"(reference {purchase.reference}).",
        purchase=purchase,
    )


async def support_contact(
    session: AsyncSession, organization_id: uuid.UUID
) -> tuple[SupportContact, User] | None:
    row = (
        await session.execute(
            sa.select(SupportContact, User)
            .join(User, col(User.id) == col(SupportContact.user_id))
            .where(col(SupportContact.organization_id) == organization_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def designate_support_contact(
    session: AsyncSession, actor: Actor, organization_id: uuid.UUID, user_id: uuid.UUID, *, now: datetime
) -> tuple[SupportContact, User]:
    """Name the one designated contact; the previous one loses the right in the same transaction."""
    await get_organization(session, actor, organization_id)
    if not (
        actor.is_system
        or actor.has_role(Role.ADMIN, Role.SUPPORT_LEAD, Role.SALES)
        or (actor.has_role(Role.CUSTOMER_ADMIN) and belongs_to(actor, organization_id))
    ):
        raise PermissionDenied(
            "Only the organization's customer admin or staff may name the support contact."
        )
    user = await session.get(User, user_id)
    problem = _contact_problem(user, organization_id)
    if problem is not None:
        raise InvalidSupportContact(problem, errors=[FieldProblem("user_id", problem)])
    assert user is not None  # _contact_problem refused a missing user
    current = await session.get(SupportContact, organization_id, with_for_update=True)
    previous = current.user_id if current else None
    if current is None:
        current = SupportContact(
            organization_id=organization_id, user_id=user.id, assigned_at=now, assigned_by=actor.id
        )
        session.add(current)
    elif current.user_id != user.id:
        current.user_id, current.assigned_at, current.assigned_by = user.id, now, actor.id
    if previous != user.id:
        await session.flush()
        await audit.record_audit(
            session,
            actor,
            "support_contact_changed",
            subject_type="organization",
            subject_id=organization_id,
            organization_id=organization_id,
            now=now,
            data={"from": str(previous) if previous else None, "to": str(user.id)},
        )
    return current, user


def _contact_problem(user: User | None, organization_id: uuid.UUID) -> str | None:
    if user is None or user.organization_id != organization_id:
        return "The user does not belong to this organization."
    if not user.is_active:
        return "The user is deactivated."
    if user.role not in CUSTOMER_ROLES:
        return "Only a customer user of the organization can be its support contact."
    return None


def may_file_free_tickets(actor: Actor, purchase_id: object, contact_user_id: object) -> bool:
    """The happy path, from the facts ANY_PURCHASE and CONTACT_USER returned."""
    return actor.is_customer and purchase_id is not None and contact_user_id == actor.id


async def require_free_support_filer(session: AsyncSession, actor: Actor) -> uuid.UUID:
    """Check that the caller may file a free ticket; return their organisation id.

    Raises a domain error naming the rule that failed and what to do about it.
    """
    if not actor.is_customer or actor.organization_id is None:
        raise NotSupportContact(
            "Free tickets are filed by a customer organization's designated support contact."
        )
    has_purchase, contact_user_id = (await session.execute(FILER_CHECK, {"org": actor.organization_id})).one()
    if not may_file_free_tickets(actor, has_purchase, contact_user_id):
        await refuse_free_support_filer(session, actor)
    return actor.organization_id


async def refuse_free_support_filer(session: AsyncSession, actor: Actor) -> NoReturn:
    """The caller may not file a free ticket: raise the error that names the rule and the way out."""
    org_id = actor.organization_id
    if not actor.is_customer or org_id is None:
        raise NotSupportContact(
            "Free tickets are filed by a customer organization's designated support contact."
        )
    verdict = await eligibility_of(session, org_id)
    if not verdict.eligible:
        raise NotEligible(verdict.reason + " Book a paid remote session instead: POST /v1/bookings.")
    contact = await support_contact(session, org_id)
    if contact is None:
        raise NoSupportContact(
            "Your organization has not named its designated support contact. A customer admin names one with "
            f"PUT /v1/organizations/{org_id}/support-contact.",
            organization_id=str(org_id),
        )
    raise NotSupportContact(
        f"Only the designated support contact ({contact[1].full_name}) files free tickets for your "
        "organization. Ask them, or ask your customer admin to name you instead.",
    )
