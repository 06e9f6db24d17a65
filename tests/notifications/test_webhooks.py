"""Webhooks for integrations: a subscription gets the events it asked for, signed per Standard Webhooks
(the receiver verifies with the `standardwebhooks` package on its side), the same webhook-id on every
retry; rotation keeps the old secret signing for an overlap; 410 Gone ends the subscription; URLs
inside the network are refused."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col
from standardwebhooks.webhooks import Webhook

from accounts.roles import Role, Scope
from api.context import worker_config
from core.urls import UnsafeUrl, UrlPolicy, check_url
from notifications import Delivery, DeliveryAttempt, DeliveryStatus, Worker
from tests.contracts.helpers import IN_FORCE, active_contract, complete_terms
from tests.harness import free_port
from tests.notifications.mailbox import fan_out
from tests.support.helpers import file_ticket
from tests.world import World


@dataclass
class Receiver:
    """An integration's endpoint on loopback: it keeps each request and answers ``status``."""

    url: str = ""
    status: int = 200
    delay: float = 0.0  # seconds before answering
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            box.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            time.sleep(box.delay)
            self.send_response(box.status)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/deskline"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield box
    finally:
        server.shutdown()


async def _subscribe(world: World, url: str, *types: str) -> tuple[dict[str, Any], dict[str, str]]:
    client, _ = await world.integration(Scope.WEBHOOKS_MANAGE)
    headers = await world.headers(client)
    response = await world.client.post(
        "/v1/webhook-subscriptions", json={"url": url, "event_types": list(types)}, headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body, headers


async def _deliver(world: World, *, http_timeout_seconds: float | None = None) -> int:
    config = worker_config(world.ctx.settings)
    if http_timeout_seconds is not None:
        config = dataclasses.replace(config, http_timeout_seconds=http_timeout_seconds)
    async with world.sessions() as session:
        worker = Worker(config, world.clock, world.ctx.keyring)
        try:
            return await worker.run_once(session)
        finally:
            await worker.close()


async def test_a_subscribed_event_arrives_signed_so_the_receiver_can_verify_it(
    world: World, receiver: Receiver
) -> None:
    subscription, _ = await _subscribe(world, receiver.url, "ticket.received")
    _, _, contact = await world.contact()
    ticket = await file_ticket(world, contact)
    await _deliver(world)
    (headers, body) = receiver.requests[-1]
    payload = Webhook(subscription["secret"]).verify(body, headers)
    assert (payload["type"], payload["data"]["number"]) == ("ticket.received", ticket["number"])
    assert headers["webhook-id"]


async def test_a_retry_carries_the_same_webhook_id(world: World, receiver: Receiver) -> None:
    await _subscribe(world, receiver.url, "ticket.received")
    _, _, contact = await world.contact()
    await file_ticket(world, contact)
    receiver.status = 503
    await _deliver(world)
    receiver.status = 200
    world.clock.advance(timedelta(minutes=5))
    await _deliver(world)
    webhook_ids = [h["webhook-id"] for h, _ in receiver.requests]
    assert len(webhook_ids) == 2
    assert len(set(webhook_ids)) == 1


async def _webhook_attempts(world: World) -> list[tuple[Delivery, list[DeliveryAttempt]]]:
    """Each webhook delivery with its attempts."""
    found = []
    async with world.session() as session:
        for delivery in await session.scalars(sa.select(Delivery).where(col(Delivery.channel) == "webhook")):
            attempts = await session.scalars(
                sa.select(DeliveryAttempt).where(col(DeliveryAttempt.delivery_id) == delivery.id)
            )
            found.append((delivery, list(attempts)))
    return found


async def test_an_endpoint_nothing_listens_on_gets_the_delivery_again_later(world: World) -> None:
    await _subscribe(world, f"http://127.0.0.1:{free_port()}/hooks/deskline", "ticket.received")
    _, _, contact = await world.contact()
    await file_ticket(world, contact)
    await _deliver(world)
    ((delivery, (attempt,)),) = await _webhook_attempts(world)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delivery.deliver_after > world.clock.now()
    assert not attempt.ok
    assert attempt.error is not None
    assert attempt.error.startswith("ClientConnectorError")


async def test_an_endpoint_slower_than_the_timeout_gets_the_delivery_again_later(
    world: World, receiver: Receiver
) -> None:
    await _subscribe(world, receiver.url, "ticket.received")
    _, _, contact = await world.contact()
    await file_ticket(world, contact)
    receiver.delay = 2.0
    started = time.monotonic()
    await _deliver(world, http_timeout_seconds=0.5)
    assert time.monotonic() - started < 1.9  # the worker gave up at its timeout, not at the answer
    ((delivery, (attempt,)),) = await _webhook_attempts(world)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert not attempt.ok
    assert attempt.error is not None
    assert "Timeout" in attempt.error


async def test_after_rotation_both_secrets_verify_during_the_overlap(
    world: World, receiver: Receiver
) -> None:
    subscription, headers = await _subscribe(world, receiver.url, "ticket.received")
    rotated = await world.client.post(
        f"/v1/webhook-subscriptions/{subscription['id']}/rotate-secret",
        json={"overlap_minutes": 60},
        headers=headers,
    )
    assert rotated.status_code == 200
    _, _, contact = await world.contact()
    await file_ticket(world, contact)
    await _deliver(world)
    (sent, body) = receiver.requests[-1]
    assert Webhook(subscription["secret"]).verify(body, sent)["type"] == "ticket.received"
    assert Webhook(rotated.json()["secret"]).verify(body, sent)["type"] == "ticket.received"


async def test_an_endpoint_that_answers_410_ends_its_subscription(world: World, receiver: Receiver) -> None:
    subscription, headers = await _subscribe(world, receiver.url, "ticket.received")
    receiver.status = 410
    _, _, contact = await world.contact()
    await file_ticket(world, contact)
    await _deliver(world)
    shown = (
        await world.client.get(f"/v1/webhook-subscriptions/{subscription['id']}", headers=headers)
    ).json()
    assert (shown["active"], shown["disabled_reason"]) == (False, "410 Gone")
    deliveries = (
        await world.client.get(f"/v1/webhook-subscriptions/{subscription['id']}/deliveries", headers=headers)
    ).json()
    assert [d["status"] for d in deliveries["items"]] == ["dead"]


async def test_a_subscriptions_deliveries_are_listed_page_by_page(world: World, receiver: Receiver) -> None:
    subscription, headers = await _subscribe(world, receiver.url, "ticket.received")
    _, _, contact = await world.contact()
    for _ in range(3):
        await file_ticket(world, contact)
    await fan_out(world)
    url = f"/v1/webhook-subscriptions/{subscription['id']}/deliveries"
    first = (await world.client.get(url, params={"limit": 2}, headers=headers)).json()
    rest = (
        await world.client.get(url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers)
    ).json()
    assert (len(first["items"]), len(rest["items"]), rest["next_cursor"]) == (2, 1, None)
    assert len({d["id"] for d in first["items"] + rest["items"]}) == 3
    assert {d["event_type"] for d in first["items"] + rest["items"]} == {"ticket.received"}


async def test_events_not_subscribed_to_are_not_sent(world: World, receiver: Receiver) -> None:
    await _subscribe(world, receiver.url, "booking.confirmed")
    _, _, contact = await world.contact()
    await file_ticket(world, contact)
    await _deliver(world)
    assert receiver.requests == []


async def test_an_unknown_event_type_is_refused(world: World, receiver: Receiver) -> None:
    client, _ = await world.integration(Scope.WEBHOOKS_MANAGE)
    response = await world.client.post(
        "/v1/webhook-subscriptions",
        json={"url": receiver.url, "event_types": ["ticket.exploded"]},
        headers=await world.headers(client),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "event_types"


async def test_a_url_inside_the_network_is_refused_unless_allowed() -> None:
    with pytest.raises(UnsafeUrl, match="private, loopback"):
        await check_url(
            "http://127.0.0.1:9/hook", UrlPolicy(frozenset(), allow_private=False), what="webhook"
        )


async def test_a_literal_address_is_checked_without_asking_the_resolver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_resolver(*args: object, **kwargs: object) -> list[object]:
        raise AssertionError("the resolver was asked")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", no_resolver)
    policy = UrlPolicy(frozenset(), allow_private=False)
    checked = await check_url("http://93.184.216.34:8080/hook", policy, what="webhook")
    assert str(checked.address) == "93.184.216.34"
    with pytest.raises(UnsafeUrl, match="private, loopback"):
        await check_url("http://[::1]/hook", policy, what="webhook")


async def test_an_integration_sees_only_its_own_subscriptions_and_an_admin_all(
    world: World, receiver: Receiver
) -> None:
    mine, headers = await _subscribe(world, receiver.url, "ticket.received")
    await _subscribe(world, receiver.url, "booking.confirmed")
    assert [
        s["id"] for s in (await world.client.get("/v1/webhook-subscriptions", headers=headers)).json()
    ] == [mine["id"]]
    _, admin = await world.staff(Role.ADMIN)
    assert len((await world.client.get("/v1/webhook-subscriptions", headers=admin)).json()) == 2
    assert (
        "secret"
        not in (await world.client.get(f"/v1/webhook-subscriptions/{mine['id']}", headers=headers)).json()
    )


@pytest.mark.parametrize(
    "url",
    ["http://[::1/hook", "http://example.com:99999/hook", "http://" + "a" * 70 + ".example/hook"],
    ids=["broken brackets", "port out of range", "over-long label"],
)
async def test_a_malformed_webhook_url_is_refused_with_a_problem(world: World, url: str) -> None:
    client, _ = await world.integration(Scope.WEBHOOKS_MANAGE)
    response = await world.client.post(
        "/v1/webhook-subscriptions",
        json={"url": url, "event_types": ["ticket.received"]},
        headers=await world.headers(client),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "unsafe_url"


async def test_events_of_every_service_line_reach_the_receiver_verified(
    world: World, receiver: Receiver
) -> None:
    types = ("ticket.received", "booking.confirmed", "contract.activated", "contract.breach")
    subscription, _ = await _subscribe(world, receiver.url, *types)
    _, _, contact = await world.contact()
    await file_ticket(world, contact)  # basic support
    organization = await world.organization()
    customer = await world.user(Role.CUSTOMER_USER, organization)
    contract = await active_contract(world, organization, terms=complete_terms(), **IN_FORCE)  # contracts
    await world.engineer()
    service = await world.service()
    booked = await world.client.post(  # remote sessions (under the contract: confirmed at once)
        "/v1/bookings",
        json={"service_id": str(service.id), "starts_at": "2026-01-15T10:00:00+03:00", "funding": "contract"},
        headers=await world.headers(customer),
    )
    assert booked.status_code == 201, booked.text
    sla = await world.client.post(
        f"/v1/contracts/{contract['id']}/tickets",
        json={"priority": "P1", "subject": "Down", "description": "Nothing works"},
        headers=await world.headers(customer),
    )
    world.clock.advance(timedelta(minutes=60))
    await world.client.post(  # a late first response: a breach
        f"/v1/contracts/{contract['id']}/tickets/{sla.json()['id']}/messages",
        json={"body": "On it"},
        headers=await world.headers(await world.user(Role.SUPPORT_ENGINEER)),
    )
    await _deliver(world)
    verified = [Webhook(subscription["secret"]).verify(body, headers) for headers, body in receiver.requests]
    assert {payload["type"] for payload in verified} == set(types)


async def test_a_documents_instants_are_given_at_the_organisations_offset(
    world: World, receiver: Receiver
) -> None:
    subscription, _ = await _subscribe(world, receiver.url, "ticket.clock_started")
    organization, _, contact = await world.contact()
    _, admin = await world.staff(Role.ADMIN)
    await world.client.patch(
        f"/v1/organizations/{organization.id}", json={"time_zone": "Asia/Yekaterinburg"}, headers=admin
    )
    ticket = await file_ticket(world, contact, exchange_archive_link="https://files.example.com/a.zip")
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    accepted = await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/transitions", json={"to": "new"}, headers=engineer
    )
    await _deliver(world)
    (headers, body) = receiver.requests[-1]
    payload = Webhook(subscription["secret"]).verify(body, headers)
    assert payload["time_zone"] == "Asia/Yekaterinburg"
    due = payload["data"]["first_response_due_at"]
    assert due.endswith("+05:00")
    assert datetime.fromisoformat(due) == datetime.fromisoformat(
        accepted.json()["clock"]["first_response_due_at"]
    )
