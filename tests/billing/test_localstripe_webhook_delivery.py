"""End to end with localstripe delivering the webhook itself, signed with our secret, over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import stripe
import uvicorn

from accounts.roles import Role
from api.app import create_app
from api.settings import Settings
from tests.world import World

MOSCOW = ZoneInfo("Europe/Moscow")


@asynccontextmanager
async def served(settings: Settings, world: World) -> AsyncIterator[str]:
    app = create_app(settings, clock=world.clock, configure_logs=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


def _next_weekday_ten(now: datetime) -> datetime:
    day = now.astimezone(MOSCOW).date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(10), tzinfo=MOSCOW)


async def test_localstripe_delivers_a_signed_success_that_confirms_the_booking(
    world: World, settings: Settings
) -> None:
    # localstripe signs with the real time, so this test lives in the present.
    world.clock.current = datetime.now(UTC)
    await world.engineer()
    service = await world.service()
    org = await world.organization()
    headers = await world.headers(await world.user(Role.CUSTOMER_USER, org))
    base = settings.stripe_api_base
    assert base is not None
    async with served(settings, world) as app_url, httpx.AsyncClient(timeout=30) as client:
        registered = await client.post(
            f"{base}/_config/webhooks/deskline-test",
            data={"url": f"{app_url}/v1/billing/stripe/webhook", "secret": settings.stripe_webhook_secret},
        )
        assert registered.status_code == 200
        booking = (
            await client.post(
                f"{app_url}/v1/bookings",
                headers=headers,
                json={
                    "service_id": str(service.id),
                    "starts_at": _next_weekday_ten(world.clock.now()).isoformat(),
                },
            )
        ).json()
        stripe_client = stripe.StripeClient(
            settings.stripe_secret_key, base_addresses={"api": base}, http_client=stripe.HTTPXClient()
        )
        method = await stripe_client.v1.payment_methods.create_async(
            {
                "type": "card",
                "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
            }
        )
        intent_id = booking["payment"]["payment_intent_id"]
        await stripe_client.v1.payment_intents.update_async(intent_id, {"payment_method": method.id})
        await stripe_client.v1.payment_intents.confirm_async(intent_id)
        status = "pending_payment"
        for _ in range(100):  # localstripe waits a second before delivering
            status = (await client.get(f"{app_url}/v1/bookings/{booking['id']}", headers=headers)).json()[
                "status"
            ]
            if status != "pending_payment":
                break
            await asyncio.sleep(0.1)
    assert status in {"confirmed", "ready"}
