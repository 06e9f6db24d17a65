"""Tenancy, decided in one place: which organisations' objects an actor may read. Every aggregate that
belongs to an organisation builds its "what this actor may see" statement from ``scoped`` (as polar's
repositories build theirs from one readable statement), and every list, get and update starts from it,
so another tenant's object is simply not found (404, never 403).

- Vendor staff, integration clients and the system see every organisation.
- A customer user sees their own organisation.
- Anyone else (a user who is neither) sees none.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import sqlalchemy as sa

from accounts.actor import Actor

NOWHERE = uuid.UUID(int=0)  # an organisation id no row has: "sees none"
S = TypeVar("S", bound=sa.Select[Any])


def organization_scope(actor: Actor) -> uuid.UUID | None:
    """The one organisation the actor's reads are limited to; None for every organisation."""
    if actor.is_staff or actor.is_system:
        return None
    if actor.is_customer and actor.organization_id is not None:
        return actor.organization_id
    return NOWHERE


def scoped(statement: S, organization_column: Any, actor: Actor) -> S:  # Any: an ORM attribute
    """``statement`` limited to what the actor may see, by the column naming each row's organisation."""
    scope = organization_scope(actor)
    return statement if scope is None else statement.where(organization_column == scope)


def may_see(actor: Actor, organization_id: uuid.UUID) -> bool:
    """Whether an object of this organisation is within the actor's reach."""
    scope = organization_scope(actor)
    return scope is None or scope == organization_id


def belongs_to(actor: Actor, organization_id: uuid.UUID) -> bool:
    """Whether the actor is a customer user of this very organisation (not staff reading it)."""
    return actor.is_customer and actor.organization_id == organization_id
