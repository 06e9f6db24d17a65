"""A local stand-in for Stripe in development: localstripe on loopback, started and stopped with the
server, its webhooks pointed at the app and signed with the app's webhook secret, so holding, paying,
cancelling, refunding and invoicing work on a fresh clone with no account anywhere. It also serves a
Stripe.js replacement at ``/js.stripe.com/v3/`` for a browser's card form (devserver/stripe_browser.py)
and issues one-off invoices as Stripe does (devserver/stripe_invoicing.py). Production refuses it
(settings).

Payment without a browser: ``deskline billing pay --booking ID`` does what Stripe.js would do with
the client secret (attach a test card, confirm); the stand-in then delivers the signed webhook.
"""

from __future__ import annotations

import subprocess
import sys

import httpx

from devserver.processes import StandIn, StandInFailed, listening, wait_until_listening

# localstripe pickles its whole store to one fixed file on every write, which serialises every
# instance on the machine and slows as the store grows: the stand-in keeps its store in memory.
# It also ends when the process that started it does, however that one ends (uvicorn re-raises SIGTERM
# after its graceful shutdown, so no `finally` of ours runs then; SIGKILL leaves no chance at all).
LAUNCHER = (
    "import os, sys, threading, time\n"
    "parent = os.getppid()\n"
    "def orphaned():\n"
    "    while os.getppid() == parent:\n"
    "        time.sleep(0.5)\n"
    "    os._exit(0)\n"
    "threading.Thread(target=orphaned, daemon=True).start()\n"
    "from aiohttp import web\n"
    "from localstripe.resources import store\n"
    "type(store).dump_to_disk = lambda self: None\n"
    "from localstripe.server import app\n"
    "from devserver import stripe_browser, stripe_invoicing\n"
    "stripe_browser.install(app)\n"
    "stripe_invoicing.install(app)\n"
    "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None)\n"
)
TEST_CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}


def start(port: int, *, seconds: float = 30) -> StandIn:
    """Run localstripe on 127.0.0.1:``port`` and wait until it answers."""
    if listening(port):
        raise StandInFailed(
            f"port {port} is taken; set DESKLINE_STRIPE_STAND_IN_PORT to a free one, or leave it unset "
            "(then a free port is taken)"
        )
    process = subprocess.Popen(  # noqa: S603 - our own interpreter running a fixed snippet
        [sys.executable, "-c", LAUNCHER, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    return wait_until_listening(process, port, "localstripe", seconds=seconds)


def register_webhook(stand_in_url: str, target_url: str, secret: str) -> None:
    """Have the stand-in deliver its events to ``target_url``, signed with ``secret``."""
    try:
        response = httpx.post(
            f"{stand_in_url}/_config/webhooks/deskline",
            data={"url": target_url, "secret": secret},
            timeout=10,
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise StandInFailed(f"{stand_in_url} refused its webhook configuration: {exc}") from exc


def pay_as_customer(stand_in_url: str, secret_key: str, payment_intent: str) -> str:
    """What Stripe.js does with a client secret: a test card attached to the intent, then confirmed.
    Returns the intent's status (``succeeded``)."""
    headers = {"Authorization": f"Bearer {secret_key}"}
    with httpx.Client(base_url=stand_in_url, headers=headers, timeout=10) as client:
        method = client.post(
            "/v1/payment_methods",
            data={"type": "card", **{f"card[{key}]": str(value) for key, value in TEST_CARD.items()}},
        )
        method.raise_for_status()
        client.post(f"/v1/payment_intents/{payment_intent}", data={"payment_method": method.json()["id"]})
        confirmed = client.post(f"/v1/payment_intents/{payment_intent}/confirm")
        confirmed.raise_for_status()
        return str(confirmed.json()["status"])
