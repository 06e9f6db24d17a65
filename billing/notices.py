"""What billing tells a customer organisation, as events written to the outbox in the transaction that
records it: an invoice issued in Stripe. (Refunds are the booking's story: scheduling.notices.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from billing.models import Invoice
from core.outbox import Event, emit


class InvoiceIssued(Event):
    type = "invoice.issued"
    invoice_id: str
    number: str
    period: str
    total_minor: int
    currency: str


async def invoice_issued(session: AsyncSession, invoice: Invoice, *, now: datetime) -> None:
    issued = InvoiceIssued(
        invoice_id=str(invoice.id),
        number=invoice.number,
        period=invoice.period,
        total_minor=invoice.total_minor,
        currency=invoice.currency,
    )
    await emit(session, issued, now=now, subject_id=invoice.id, organization_id=invoice.organization_id)
