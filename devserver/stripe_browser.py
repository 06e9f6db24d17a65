"""The stand-in's Stripe.js: what a browser's card form needs from Stripe, served by the local stand-in
(localstripe) in development at ``/js.stripe.com/v3/``. localstripe's own replacement can only
authenticate an intent that was already confirmed with a card; this one takes the card typed into its
element, attaches it and confirms the intent, as Stripe.js's ``confirmCardPayment`` does (the client
secret is the credential, as with Stripe). Loaded into the localstripe process by its launcher; it
imports nothing of Deskline's."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aiohttp import web

SCRIPT = Path(__file__).resolve().parent / "static" / "stripe-stand-in.js"
CONFIRM = re.compile(r"^/_deskline/payment_intents/(pi_\w+)/confirm_card$")


def _error(status: int, message: str, code: str) -> web.Response:
    return web.json_response({"error": {"message": message, "code": code}}, status=status)


async def _confirm_card(request: web.Request, intent_id: str) -> web.Response:
    from localstripe.errors import UserError
    from localstripe.resources import PaymentIntent, PaymentMethod

    try:
        # Sent as text/plain, like Stripe.js: a simple request, so no CORS preflight.
        data: dict[str, Any] = json.loads(await request.text())  # Any: the browser's JSON
        intent = PaymentIntent._api_retrieve(intent_id)
        if data.get("client_secret") != intent.client_secret:
            return _error(401, "The client secret does not match the payment.", "invalid_client_secret")
        card = {key: str(data.get("card", {}).get(key, "")).replace(" ", "") for key in ("number", "cvc")}
        month, _, year = str(data.get("card", {}).get("expiry", "")).partition("/")
        method = PaymentMethod._api_create(
            type="card", card={**card, "exp_month": month.strip(), "exp_year": year.strip()}
        )
        if method._attaching_is_declined():  # Stripe's generic decline cards (4000 0000 0000 0002, ...)
            return _error(402, "Your card was declined.", "card_declined")
        PaymentIntent._api_update(intent_id, payment_method=method.id)
        intent = PaymentIntent._api_confirm(intent_id)
        if intent.status == "requires_action":  # the test cards that ask for 3-D Secure: passed
            intent = PaymentIntent._api_authenticate(
                intent_id, client_secret=intent.client_secret, success=True
            )
    except UserError as exc:
        return _error(
            402, "Your card number, expiry or CVC is incomplete or invalid.", f"card_invalid_{exc.code}"
        )
    except (ValueError, AssertionError, TypeError, KeyError, AttributeError):
        return _error(402, "Your card number, expiry or CVC is incomplete or invalid.", "card_invalid")
    exported = intent._export()
    if exported.get("status") != "succeeded" and exported.get("status") != "processing":
        return _error(402, "Your card was declined.", "card_declined")
    return web.json_response({"paymentIntent": {"id": exported["id"], "status": exported["status"]}})


@web.middleware
async def browser_routes(request: web.Request, handler: Any) -> web.StreamResponse:  # Any: aiohttp's handler
    if request.path == "/js.stripe.com/v3/":
        return web.Response(
            text=SCRIPT.read_text(),
            content_type="application/javascript",
            headers={"Cache-Control": "no-cache"},
        )
    if request.method == "POST" and (match := CONFIRM.match(request.path)):
        return await _confirm_card(request, match.group(1))
    result: web.StreamResponse = await handler(request)
    return result


def install(app: web.Application) -> None:
    """Put the browser routes in front of localstripe's (before the app starts)."""
    app.middlewares.insert(0, browser_routes)
