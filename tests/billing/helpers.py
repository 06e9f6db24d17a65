"""Stripe-side helpers: drive localstripe like a customer's browser, and sign events like Stripe."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import stripe

from tests.world import World


def stripe_client(world: World) -> stripe.StripeClient:
    base = world.ctx.settings.stripe_api_base
    assert base is not None
    return stripe.StripeClient(world.ctx.settings.stripe_secret_key, base_addresses={"api": base})


def pay_in_browser(world: World, payment_intent_id: str) -> dict[str, Any]:
    """What Stripe.js does with the client secret: attach a card and confirm; returns the intent."""
    client = stripe_client(world)
    method = client.v1.payment_methods.create(
        {
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    # localstripe 1.15 has no confirm-with-arguments: attach the method, then confirm as Stripe.js would.
    client.v1.payment_intents.update(payment_intent_id, {"payment_method": method.id})
    intent = client.v1.payment_intents.confirm(payment_intent_id)
    return dict(intent.to_dict())


def signed(
    world: World, event_type: str, obj: dict[str, Any], *, at: int | None = None, event_id: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """An event body and its Stripe-Signature header (t=..., v1=HMAC-SHA256 of "t.body")."""
    timestamp = at if at is not None else int(world.clock.now().timestamp())
    body = json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": event_type,
            "data": {"object": obj},
        }
    ).encode()
    secret = world.ctx.settings.stripe_webhook_secret.encode()
    signature = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={timestamp},v1={signature}", "content-type": "application/json"}
