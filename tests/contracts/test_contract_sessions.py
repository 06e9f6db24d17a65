"""Remote sessions under an SLA contract: confirmed without payment while the month's included minutes
last; the overage is charged like a paid session, or refused, as the contract says."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from accounts.roles import Role
from scheduling.models import Booking
from tests.contracts.helpers import active_contract, complete_terms
from tests.world import World

IN_FORCE = {"starts_on": date(2026, 1, 1), "ends_on": date(2026, 12, 31), "signed_on": date(2025, 12, 20)}
TUESDAY_10 = "2026-01-13T10:00:00+03:00"
TUESDAY_14 = "2026-01-13T14:00:00+03:00"
FEBRUARY = "2026-02-03T10:00:00+03:00"


async def _setup(world: World, **terms: Any) -> tuple[str, dict[str, str]]:
    await world.engineer()
    service = await world.service()
    organization = await world.organization()
    user = await world.user(Role.CUSTOMER_USER, organization)
    await active_contract(world, organization, terms=complete_terms(**terms), **IN_FORCE)
    return str(service.id), await world.headers(user)


async def _book(world: World, service: str, headers: dict[str, str], starts_at: str) -> Any:
    return await world.client.post(
        "/v1/bookings",
        json={"service_id": service, "starts_at": starts_at, "funding": "contract"},
        headers=headers,
    )


async def _bookings(world: World) -> int:
    async with world.session() as session:
        return len((await session.scalars(sa.select(Booking))).all())


async def test_a_session_within_the_included_minutes_is_confirmed_without_payment(world: World) -> None:
    service, customer = await _setup(world, included_session_minutes=90)
    response = await _book(world, service, customer, TUESDAY_10)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["funding"], body["price_minor"]) == ("confirmed", "contract", 0)
    assert "payment" not in body


async def test_minutes_beyond_the_included_ones_are_charged_at_the_overage_rate(world: World) -> None:
    service, customer = await _setup(
        world, included_session_minutes=90, overage={"mode": "charge", "rate_minor_per_hour": 400_000}
    )
    await _book(world, service, customer, TUESDAY_10)
    response = await _book(world, service, customer, TUESDAY_14)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["price_minor"]) == ("pending_payment", 200_000)  # 30 overage minutes
    assert body["payment"]["amount_minor"] == 200_000


async def test_a_contract_that_refuses_overage_refuses_the_session_and_books_nothing(world: World) -> None:
    service, customer = await _setup(world, included_session_minutes=60, overage={"mode": "refuse"})
    await _book(world, service, customer, TUESDAY_10)
    response = await _book(world, service, customer, TUESDAY_14)
    assert response.status_code == 409
    assert response.json()["code"] == "included_hours_exhausted"
    assert (response.json()["included_minutes"], response.json()["used_minutes"]) == (60, 60)
    assert await _bookings(world) == 1


async def test_a_cancelled_session_gives_its_minutes_back(world: World) -> None:
    service, customer = await _setup(world, included_session_minutes=60, overage={"mode": "refuse"})
    first = (await _book(world, service, customer, TUESDAY_10)).json()
    cancelled = await world.client.post(f"/v1/bookings/{first['id']}/cancel", headers=customer)
    assert cancelled.status_code == 200, cancelled.text
    response = await _book(world, service, customer, TUESDAY_14)
    assert response.status_code == 201
    assert response.json()["status"] == "confirmed"


async def test_each_month_has_its_own_included_minutes(world: World) -> None:
    service, customer = await _setup(world, included_session_minutes=60, overage={"mode": "refuse"})
    await _book(world, service, customer, TUESDAY_10)
    response = await _book(world, service, customer, FEBRUARY)
    assert response.status_code == 201
    assert response.json()["status"] == "confirmed"


async def test_an_organisation_without_a_contract_in_force_cannot_book_under_one(world: World) -> None:
    await world.engineer()
    service = await world.service()
    customer = await world.headers(await world.user(Role.CUSTOMER_USER, await world.organization()))
    response = await _book(world, str(service.id), customer, TUESDAY_10)
    assert response.status_code == 409
    assert response.json()["code"] == "contract_not_in_force"
    assert await _bookings(world) == 0


async def test_a_user_outside_named_coverage_cannot_book_under_the_contract(world: World) -> None:
    await world.engineer()
    service = await world.service()
    organization = await world.organization()
    named = await world.user(Role.CUSTOMER_USER, organization)
    other = await world.headers(await world.user(Role.CUSTOMER_USER, organization))
    terms = complete_terms(coverage={"kind": "named", "user_ids": [str(named.id)]})
    await active_contract(world, organization, terms=terms, **IN_FORCE)
    response = await _book(world, str(service.id), other, TUESDAY_10)
    assert response.status_code == 403
    assert response.json()["code"] == "not_covered"
    assert await _bookings(world) == 0
