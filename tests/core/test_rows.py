"""Building rows for hot paths without the ORM's per-attribute cost, and inserting them with Core."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col

from core.db import bound_columns, column_values, new_row, table_of
from support.models import Ticket, TicketEvent
from support.regulation import current_regulation
from tests.world import World


def test_a_new_row_takes_the_model_defaults_and_calls_factories_per_row() -> None:
    first = new_row(TicketEvent, ticket_id=uuid.uuid4(), occurred_at=None, kind="created")
    second = new_row(TicketEvent, ticket_id=uuid.uuid4(), occurred_at=None, kind="created")
    assert first.id != second.id
    assert first.data == {}
    assert first.data is not second.data
    assert first.actor_id is None


def test_a_new_row_refuses_unknown_columns() -> None:
    with pytest.raises(TypeError, match="no columns"):
        new_row(TicketEvent, ticket_id=uuid.uuid4(), occurred_at=None, kind="x", colour="red")


def test_a_new_row_refuses_to_guess_a_required_value() -> None:
    with pytest.raises(TypeError, match="kind has no default"):
        new_row(TicketEvent, ticket_id=uuid.uuid4(), occurred_at=None)


async def test_a_new_row_inserted_with_core_reads_back_equal(world: World) -> None:
    org, contact, _ = await world.contact()
    regulation_id = await _a_regulation(world)
    async with world.session() as session:
        ticket = new_row(
            Ticket,
            number=77,
            organization_id=org.id,
            filed_by=contact.id,
            regulation_id=regulation_id,
            status="new",
            project_name="p",
            author_name="a",
            author_email="a@example.com",
            description="d",
            created_at=world.clock.now(),
            updated_at=world.clock.now() + timedelta(minutes=1),
        )
        statement = sa.insert(table_of(Ticket)).values(bound_columns(Ticket, prefix="t_"))
        await session.execute(statement, column_values(ticket, prefix="t_"))
    async with world.session() as session:
        stored = (await session.scalars(sa.select(Ticket).where(col(Ticket.id) == ticket.id))).one()
        assert column_values(stored) == column_values(ticket)


async def _a_regulation(world: World) -> uuid.UUID:
    async with world.session() as session:
        return (await current_regulation(session, now=world.clock.now())).id  # stored on first use
