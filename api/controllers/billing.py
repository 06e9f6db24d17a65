"""Billing over HTTP: the Stripe webhook and the payments list."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.contract import STRIPE_EVENT, problems
from api.dependencies import DB, Ctx, CurrentActor
from api.schemas import PageOut
from billing import (
    Invoice,
    InvoiceLineOut,
    InvoiceOut,
    InvoiceRunIn,
    PaymentOut,
    PaymentProviderUnavailable,
    PaymentRefused,
    RefundIn,
    RefundOut,
    RefundStatus,
    WebhookAck,
    WebhookRejected,
    get_invoice,
    invoice_csv,
    lines_of,
    list_invoices,
    list_payments,
    locked_payment,
    receive_stripe_event,
    refund_payment,
    refund_with_payment,
    refunds_of,
    verify_stripe_signature,
)
from core.errors import Conflict, InvalidInput, NotFound
from core.transactions import unit_of_work
from flows import invoice_period, settle_refunds

MAX_WEBHOOK_BYTES = 1024 * 1024


class BillingController(Controller):
    tags = ["billing"]

    @problems(WebhookRejected, PaymentProviderUnavailable, body=STRIPE_EVENT)
    @post(
        "/v1/billing/stripe/webhook",
        summary="Stripe events (verified by the Stripe-Signature header; each event applied once)",
        status_code=200,
        request_max_body_size=MAX_WEBHOOK_BYTES,
    )
    async def stripe_webhook(self, request: Request[Any, Any, Any], db: DB, ctx: Ctx) -> WebhookAck:
        now = ctx.clock.now()
        event = verify_stripe_signature(
            await request.body(),
            request.headers.get("stripe-signature"),
            ctx.settings.stripe_webhook_secret,
            now=now,
        )
        received = await receive_stripe_event(db, event, now=now)
        # A refund the event made owed (money for a slot that is gone) is asked of Stripe after the commit.
        await settle_refunds(db, ctx.outside(), received.refunds_owed)
        return WebhookAck(received=True, outcome=received.outcome)

    @problems(NotFound, Conflict, InvalidInput, PaymentRefused)
    @post("/v1/payments/{payment_id:uuid}/refunds", summary="Refund (part of) a payment (staff; audited)")
    async def create_refund(
        self, payment_id: FromPath[uuid.UUID], data: JSONBody[RefundIn], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> RefundOut:
        payment = await locked_payment(db, payment_id)
        row = await refund_payment(db, actor, payment, data.amount_minor, data.reason, now=ctx.clock.now())
        await settle_refunds(db, ctx.outside(), [row.id])
        async with unit_of_work(db, is_sqlite=ctx.settings.is_sqlite, write=False):
            made, paid = await refund_with_payment(db, row.id)
        if made.status == RefundStatus.FAILED:
            raise PaymentRefused(f"Stripe refused the refund: {made.last_error}", refund_id=str(made.id))
        return RefundOut.from_model(made, paid)

    @problems(InvalidInput)
    @get("/v1/payments", summary="Payments (customers: their organization's)")
    async def list_payments(
        self,
        actor: CurrentActor,
        db: DB,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: FromQuery[str | None] = None,
        booking_id: Annotated[
            uuid.UUID | None, QueryParameter(description="Only this booking's payments")
        ] = None,
        organization_id: Annotated[
            uuid.UUID | None,
            QueryParameter(description="Only this organisation's (staff; customers see theirs)"),
        ] = None,
    ) -> PageOut[PaymentOut]:
        page = await list_payments(
            db, actor, limit=limit, cursor=cursor, booking_id=booking_id, organization_id=organization_id
        )
        refunds_by_payment = await refunds_of(db, [p.id for p in page.items])
        return PageOut(
            items=[PaymentOut.from_model(p, refunds_by_payment[p.id]) for p in page.items],
            next_cursor=page.next_cursor,
        )


async def _invoices_out(db: DB, found: list[Invoice]) -> list[InvoiceOut]:
    lines = await lines_of(db, [i.id for i in found])
    return [InvoiceOut.of(i, lines=[InvoiceLineOut.of(line) for line in lines[i.id]]) for i in found]


INVOICE_FORMATS = {"text/csv": "The invoice as CSV: one row per line, then the total"}


class InvoiceController(Controller):
    path = "/v1/invoices"
    tags = ["billing"]

    @problems(InvalidInput)
    @get("/", summary="Invoices with their lines (customers: their organization's)")
    async def list_invoices(
        self,
        actor: CurrentActor,
        db: DB,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: FromQuery[str | None] = None,
        period: Annotated[str | None, QueryParameter(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    ) -> PageOut[InvoiceOut]:
        page = await list_invoices(db, actor, limit=limit, cursor=cursor, period=period)
        return PageOut(items=await _invoices_out(db, list(page.items)), next_cursor=page.next_cursor)

    @problems(NotFound)
    @get(
        "/{invoice_id:uuid}",
        summary="One invoice with its lines (JSON; Accept: text/csv to download it)",
        opt={"alternate_media": INVOICE_FORMATS},
    )
    async def get_invoice(
        self, request: Request[Any, Any, Any], invoice_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB
    ) -> Response[InvoiceOut]:
        invoice = await get_invoice(db, actor, invoice_id)
        (found,) = await _invoices_out(db, [invoice])
        if (
            request.accept.best_match(["application/json", *INVOICE_FORMATS], default="application/json")
            == "text/csv"
        ):
            lines = (await lines_of(db, [invoice.id]))[invoice.id]
            return Response(
                invoice_csv(invoice, lines),  # type: ignore[arg-type]  # a text body under the same operation
                media_type="text/csv",
                headers={"Content-Disposition": f'attachment; filename="invoice-{invoice.number}.csv"'},
            )
        return Response(found)

    @problems(InvalidInput)
    @post(
        "/",
        summary="Invoice a month that has ended: one invoice per contract in force (again: the same ones, "
        "and those Stripe could not take yet are issued now)",
        status_code=200,
    )
    async def invoice_month(self, data: JSONBody[InvoiceRunIn], db: DB, ctx: Ctx) -> list[InvoiceOut]:
        out = ctx.outside()
        found = await invoice_period(db, out.gateway, out.clock, data.period, is_sqlite=out.is_sqlite)
        async with unit_of_work(db, is_sqlite=out.is_sqlite, write=False):
            return await _invoices_out(db, found)
