"""Billing over HTTP: the Stripe webhook and the payments list."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery, QueryParameter

from api.dependencies import DB, Ctx, CurrentActor
from api.schemas import PageOut
from billing import payments, webhooks
from billing.schemas import PaymentOut, WebhookAck

MAX_WEBHOOK_BYTES = 1024 * 1024


class BillingController(Controller):
    tags = ["billing"]

    @post(
        "/v1/billing/stripe/webhook",
        summary="Stripe events (verified by the Stripe-Signature header; each event applied once)",
        status_code=200,
        request_max_body_size=MAX_WEBHOOK_BYTES,
    )
    async def stripe_webhook(self, request: Request[Any, Any, Any], db: DB, ctx: Ctx) -> WebhookAck:
        now = ctx.clock.now()
        event = webhooks.verify(
            await request.body(),
            request.headers.get("stripe-signature"),
            ctx.settings.stripe_webhook_secret,
            now=now,
        )
        outcome = await webhooks.receive(db, ctx.gateway, event, now=now)
        return WebhookAck(received=True, outcome=outcome)

    @get("/v1/payments", summary="Payments (customers: their organization's)")
    async def list_payments(
        self,
        actor: CurrentActor,
        db: DB,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> PageOut[PaymentOut]:
        page = await payments.list_payments(db, actor, limit=limit, cursor=cursor)
        return PageOut(items=[PaymentOut.build(p) for p in page.items], next_cursor=page.next_cursor)
