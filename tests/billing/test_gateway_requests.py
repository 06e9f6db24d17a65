"""What the gateway sends to Stripe, recorded on the wire (localstripe ignores Idempotency-Key, so the
keys are proved from the outgoing requests)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import httpx

from billing.gateway import StripeGateway

STRIPE_OBJECTS = {
    "/v1/customers": {"id": "cus_1", "object": "customer"},
    "/v1/invoiceitems": {"id": "ii_1", "object": "invoiceitem"},
    "/v1/invoices": {"id": "in_1", "object": "invoice", "status": "draft"},
    "/v1/invoices/in_1/finalize": {"id": "in_1", "object": "invoice", "status": "open"},
    "/v1/invoices/in_1/send": {"id": "in_1", "object": "invoice", "status": "open"},
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


async def test_an_invoice_is_created_given_each_line_finalised_and_sent_each_step_keyed() -> None:
    gateway, sent = recording_gateway()
    invoice_id = await gateway.create_invoice(
        customer="cus_1",
        currency="RUB",
        lines=[("SLA contract SLA-7, 2026-03: monthly fee", 15_000_000), ("Service credits", -750_000)],
        metadata={"deskline_invoice_id": "42"},
        idempotency_key="deskline-invoice-42",
    )
    assert invoice_id == "in_1"
    assert [r.url.path for r in sent] == [
        "/v1/invoices",
        "/v1/invoiceitems",
        "/v1/invoiceitems",
        "/v1/invoices/in_1/finalize",
        "/v1/invoices/in_1/send",
    ]
    assert [r.headers["idempotency-key"] for r in sent] == [
        "deskline-invoice-42",
        "deskline-invoice-42-line-1",
        "deskline-invoice-42-line-2",
        "deskline-invoice-42-finalize",
        "deskline-invoice-42-send",
    ]
    invoice = parse_qs(sent[0].content.decode())
    assert (invoice["pending_invoice_items_behavior"], invoice["currency"]) == (["exclude"], ["rub"])
    lines = [parse_qs(r.content.decode()) for r in sent[1:3]]
    assert [(line["invoice"], line["amount"]) for line in lines] == [
        (["in_1"], ["15000000"]),
        (["in_1"], ["-750000"]),
    ]


async def test_a_retried_refund_sends_the_same_idempotency_key() -> None:
    gateway, sent = recording_gateway()
    for _ in range(2):
        await gateway.refund(payment_intent="pi_1", amount=100, idempotency_key="deskline-refund-7")
    assert [r.headers["idempotency-key"] for r in sent] == ["deskline-refund-7", "deskline-refund-7"]
    assert json.dumps(parse_qs(sent[0].content.decode())) == json.dumps(
        {"payment_intent": ["pi_1"], "amount": ["100"]}
    )
