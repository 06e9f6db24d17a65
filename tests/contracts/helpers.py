"""Contract bodies for tests: complete terms by default, any field overridable."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count
from typing import Any

from accounts.models import Organization
from accounts.roles import Role
from tests.world import World

_numbers = count(1)


def complete_terms(**overrides: Any) -> dict[str, Any]:  # Any: a JSON document
    terms: dict[str, Any] = {
        "coverage": {"kind": "all"},
        "calendar": {
            "time_zone": "Europe/Moscow",
            "weekly_hours": {str(d): [["09:00", "18:00"]] for d in range(5)},
        },
        "priorities": {
            "P1": target(30, 60, 240, "Production is down for everyone"),
            "P2": target(60, 240, 960, "A key function fails, with no workaround"),
            "P3": target(240, 960, 2400, "A function fails, with a workaround"),
            "P4": target(480, 2400, 9600, "A question or a cosmetic problem"),
        },
        "included_session_minutes": 240,
        "overage": {"mode": "charge", "rate_minor_per_hour": 400_000},
        "monthly_fee_minor": 15_000_000,
        "currency": "RUB",
        "service_credits": {"percent_per_breach": {"P1": 5, "P2": 3, "P3": 1, "P4": 0}, "cap_percent": 20},
        "responsibilities": "The customer names two administrators; the vendor answers within the targets.",
    }
    terms.update(overrides)
    return terms


def target(first: int, update: int, resolution: int, qualifies: str) -> dict[str, Any]:  # Any: JSON
    return {
        "qualifies": qualifies,
        "first_response_minutes": first,
        "update_interval_minutes": update,
        "resolution_minutes": resolution,
    }


def contract_body(
    organization: Organization,
    *,
    starts_on: date = date(2026, 2, 1),
    ends_on: date = date(2027, 1, 31),
    signed_on: date | None = date(2026, 1, 10),
    terms: dict[str, Any] | None = None,  # Any: a JSON document
) -> dict[str, Any]:  # Any: a JSON document
    body: dict[str, Any] = {
        "organization_id": str(organization.id),
        "number": f"SLA-2026-{next(_numbers):04d}",
        "starts_on": starts_on.isoformat(),
        "ends_on": ends_on.isoformat(),
        "terms": complete_terms() if terms is None else terms,
    }
    if signed_on is not None:
        body["signed_on"] = signed_on.isoformat()
    return body


async def sales(world: World) -> dict[str, str]:
    _, headers = await world.staff(Role.SALES)
    return headers


async def active_contract(world: World, organization: Organization, **options: Any) -> dict[str, Any]:
    """A contract sales drafted and activated, as the API answered the activation."""
    headers = await sales(world)
    draft = await world.client.post(
        "/v1/contracts", json=contract_body(organization, **options), headers=headers
    )
    assert draft.status_code == 201, draft.text
    activated = await world.client.post(f"/v1/contracts/{draft.json()['id']}/activate", headers=headers)
    assert activated.status_code == 200, activated.text
    body: dict[str, Any] = activated.json()
    return body


IN_FORCE = {"starts_on": date(2026, 1, 1), "ends_on": date(2026, 12, 31), "signed_on": date(2025, 12, 20)}


async def contract_with_a_first_response(world: World, *, after: timedelta) -> dict[str, Any]:
    """A 2026 contract of a new organisation whose user filed a P1 ticket (first response due within
    30 business minutes) that an engineer answered ``after`` later: 60 minutes is a breach of 30."""
    organization = await world.organization()
    customer = await world.user(Role.CUSTOMER_USER, organization)
    contract = await active_contract(world, organization, terms=complete_terms(), **IN_FORCE)
    ticket = await world.client.post(
        f"/v1/contracts/{contract['id']}/tickets",
        json={"priority": "P1", "subject": "Down", "description": "Nothing works"},
        headers=await world.headers(customer),
    )
    world.clock.advance(after)
    await world.client.post(
        f"/v1/contracts/{contract['id']}/tickets/{ticket.json()['id']}/messages",
        json={"body": "On it"},
        headers=await world.headers(await world.user(Role.SUPPORT_ENGINEER)),
    )
    return contract
