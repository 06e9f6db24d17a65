"""Invoicing a month: record every contract's invoice in one short transaction, then issue
each pending one in Stripe with nothing open, recording each answer in its own short transaction
(the same order as taking a payment: what must be true is committed before anyone outside is asked)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from billing import Invoice, InvoiceStatus, PaymentGateway, issue_invoice, pending_plans, record_issue
from contracts import invoice_month
from core.time import Clock
from core.transactions import unit_of_work


async def invoice_period(
    db: AsyncSession, gateway: PaymentGateway, clock: Clock, period: str, *, is_sqlite: bool
) -> list[Invoice]:
    async with unit_of_work(db, is_sqlite=is_sqlite):
        recorded = await invoice_month(db, period, now=clock.now())
        pending = [i.id for i in recorded if i.status == InvoiceStatus.PENDING]
        plans = await pending_plans(db, pending)
    issued = {}
    for plan in plans:
        result = await issue_invoice(gateway, plan)
        async with unit_of_work(db, is_sqlite=is_sqlite):
            invoice = await record_issue(db, result, now=clock.now())
            issued[invoice.id] = invoice
    return [issued.get(i.id, i) for i in recorded]
