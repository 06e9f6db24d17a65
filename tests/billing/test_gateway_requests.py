"""What the gateway sends to Stripe, recorded on the wire (localstripe cannot create one-off invoices
and ignores Idempotency-Key, so these are proved from the outgoing requests)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import httpx

from billing.gateway import StripeGateway

STRIPE_OBJECTS = {
    "/v1/invoiceitems": {"id": "ii_1", "object": "invoiceitem"},
    "/v1/invoices": {"id": "in_1", "object": "invoice", "status": "draft"},
    "/v1/refunds": {"id": "re_1", "object": "refund", "status": "succeeded"},
}


def recording_gateway() -> tuple[StripeGateway, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=STRIPE_OBJECTS[request.url.path])

    gateway = StripeGateway("sk_test_recording", "http://stripe.invalid")
    # The SDK's async HTTP client, pointed at a recorder instead of the network.
    sdk_http: Any = gateway._client._requestor._client  # Any: SDK internals
    sdk_http._client_async = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return gateway, sent


async def test_invoice_sends_an_item_then_the_invoice_each_with_its_own_idempotency_key() -> None:
    gateway, sent = recording_gateway()
    invoice_id = await gateway.create_invoice(
        customer="cus_1",
        amount=1_200_000,
        currency="RUB",
        description="SLA contract, March",
        idempotency_key="deskline-invoice-42",
    )
    assert invoice_id == "in_1"
    assert [r.url.path for r in sent] == ["/v1/invoiceitems", "/v1/invoices"]
    assert [r.headers["idempotency-key"] for r in sent] == ["deskline-invoice-42-item", "deskline-invoice-42"]
    item = parse_qs(sent[0].content.decode())
    assert item["amount"] == ["1200000"]
    assert item["currency"] == ["rub"]


async def test_a_retried_refund_sends_the_same_idempotency_key() -> None:
    gateway, sent = recording_gateway()
    for _ in range(2):
        await gateway.refund(payment_intent="pi_1", amount=100, idempotency_key="deskline-refund-7")
    assert [r.headers["idempotency-key"] for r in sent] == ["deskline-refund-7", "deskline-refund-7"]
    assert json.dumps(parse_qs(sent[0].content.decode())) == json.dumps(
        {"payment_intent": ["pi_1"], "amount": ["100"]}
    )
