"""Idempotency-Key on filing: a retried request files once and gets the first answer back."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

from accounts.actor import SYSTEM_ACTOR
from accounts.models import PurchaseChannel
from accounts.purchases import record_purchase
from accounts.schemas import PurchaseIn
from core.idempotency import IdempotencyRecord, fingerprint
from tests.support.helpers import intake
from tests.world import World


async def test_same_key_and_body_files_once_and_replays_the_response(world: World) -> None:
    _, _, headers = await world.contact()
    keyed = {**headers, "Idempotency-Key": "portal-7f3a"}
    first = await world.client.post("/v1/support/tickets", json=intake(), headers=keyed)
    second = await world.client.post("/v1/support/tickets", json=intake(), headers=keyed)
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    listing = (await world.client.get("/v1/support/tickets", headers=headers)).json()
    assert len(listing["items"]) == 1


async def test_same_key_with_a_different_body_is_refused(world: World) -> None:
    _, _, headers = await world.contact()
    keyed = {**headers, "Idempotency-Key": "portal-7f3b"}
    await world.client.post("/v1/support/tickets", json=intake(), headers=keyed)
    response = await world.client.post(
        "/v1/support/tickets", json=intake(project_name="Other"), headers=keyed
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


async def test_a_failed_request_does_not_burn_the_key(world: World) -> None:
    org, _, headers = await world.contact(purchase=False)  # not eligible: the first attempt fails
    keyed = {**headers, "Idempotency-Key": "portal-7f3c"}
    assert (await world.client.post("/v1/support/tickets", json=intake(), headers=keyed)).status_code == 403
    async with world.session() as session:
        purchase = PurchaseIn(
            product="Mobile Server",
            purchased_on=date(2020, 1, 1),
            channel=PurchaseChannel.DIRECT,
            reference="LATE-1",
        )
        await record_purchase(session, SYSTEM_ACTOR, org.id, purchase, now=world.clock.now())
    assert (await world.client.post("/v1/support/tickets", json=intake(), headers=keyed)).status_code == 201


async def _claimed_elsewhere(
    world: World, contact_id: uuid.UUID, key: str, body: bytes, *, lease_left: timedelta
) -> None:
    """Another attempt holds the key (its lease ends ``lease_left`` from now)."""
    async with world.session() as session:
        session.add(
            IdempotencyRecord(
                principal=f"user:{contact_id}",
                key=key,
                created_at=world.clock.now(),
                fingerprint=fingerprint("POST", "/v1/support/tickets", body),
                attempt=uuid.uuid4(),
                locked_until=world.clock.now() + lease_left,
            )
        )


async def test_request_still_in_flight_is_refused_with_409_and_retry_after(world: World) -> None:
    _, contact, headers = await world.contact()
    body = json.dumps(intake()).encode()
    await _claimed_elsewhere(world, contact.id, "portal-7f3d", body, lease_left=timedelta(seconds=30))
    response = await world.client.post(
        "/v1/support/tickets",
        content=body,
        headers={**headers, "Idempotency-Key": "portal-7f3d", "content-type": "application/json"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "request_in_flight"
    assert int(response.headers["retry-after"]) >= 30
    listing = (await world.client.get("/v1/support/tickets", headers=headers)).json()
    assert listing["items"] == []


async def test_a_retry_takes_over_a_key_whose_attempt_died(world: World) -> None:
    _, contact, headers = await world.contact()
    body = json.dumps(intake()).encode()
    await _claimed_elsewhere(world, contact.id, "portal-7f3e", body, lease_left=-timedelta(seconds=1))
    response = await world.client.post(
        "/v1/support/tickets",
        content=body,
        headers={**headers, "Idempotency-Key": "portal-7f3e", "content-type": "application/json"},
    )
    assert response.status_code == 201
    again = await world.client.post(
        "/v1/support/tickets",
        content=body,
        headers={**headers, "Idempotency-Key": "portal-7f3e", "content-type": "application/json"},
    )
    assert again.json()["id"] == response.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"


async def test_overlong_key_is_refused(world: World) -> None:
    _, _, headers = await world.contact()
    response = await world.client.post(
        "/v1/support/tickets", json=intake(), headers={**headers, "Idempotency-Key": "k" * 300}
    )
    assert response.status_code == 422
