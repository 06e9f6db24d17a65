"""Invoices: recorded in Deskline first (the source of truth, one per source and period), then issued
in Stripe with the same lines, with no transaction open while Stripe answers. An invoice Stripe could
not take stays ``pending`` with the error; invoicing the period again finishes it (every Stripe step is
keyed by the invoice, so nothing is created twice)."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor, Organization, scoped
from billing import notices
from billing.errors import PaymentProviderUnavailable
from billing.gateway import PaymentGateway
from billing.models import Invoice, InvoiceLine, InvoiceStatus, StripeCustomer
from core.counters import next_value
from core.db import dialect_insert
from core.errors import NotFound
from core.pagination import Page, paginate


@dataclass(frozen=True)
class ChargeLine:
    description: str
    amount_minor: int


async def record_invoice(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    source: str,
    source_id: uuid.UUID,
    period: str,
    currency: str,
    lines: list[ChargeLine],
    now: datetime,
) -> Invoice:
    """A new invoice of ``source`` for ``period`` with ``lines``. The caller has looked for one first
    (``recorded_for``, before working out the lines); one recorded meanwhile by another process is
    found by the unique constraint and returned instead."""
    invoice = Invoice(
        number=f"INV-{await next_value(session, 'billing_invoice', start=1000)}",
        organization_id=organization_id,
        source=source,
        source_id=source_id,
        period=period,
        currency=currency,
        total_minor=sum(line.amount_minor for line in lines),
        status=InvoiceStatus.PENDING,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(invoice)
            await session.flush()
            session.add_all(
                InvoiceLine(
                    invoice_id=invoice.id,
                    position=n,
                    description=line.description,
                    amount_minor=line.amount_minor,
                )
                for n, line in enumerate(lines, start=1)
            )
            await session.flush()
    except IntegrityError:  # invoiced at the same moment by another process: theirs stands
        again = await recorded_for(session, source, source_id, period)
        assert again is not None
        return again
    return invoice


async def recorded_for(
    session: AsyncSession, source: str, source_id: uuid.UUID, period: str
) -> Invoice | None:
    found: Invoice | None = (
        await session.scalars(
            sa.select(Invoice).where(
                col(Invoice.source) == source,
                col(Invoice.source_id) == source_id,
                col(Invoice.period) == period,
            )
        )
    ).first()
    return found


async def lines_of(session: AsyncSession, invoice_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[InvoiceLine]]:
    rows = await session.scalars(
        sa.select(InvoiceLine)
        .where(col(InvoiceLine.invoice_id).in_(invoice_ids))
        .order_by(col(InvoiceLine.invoice_id), col(InvoiceLine.position))
    )
    found: dict[uuid.UUID, list[InvoiceLine]] = {i: [] for i in invoice_ids}
    for line in rows.all():
        found[line.invoice_id].append(line)
    return found


@dataclass(frozen=True)
class IssuePlan:
    """What Stripe needs to issue one invoice, read in a short transaction before calling it."""

    invoice_id: uuid.UUID
    organization_id: uuid.UUID
    organization_name: str
    known_customer: str | None
    currency: str
    lines: list[tuple[str, int]]


async def pending_plans(session: AsyncSession, invoice_ids: list[uuid.UUID]) -> list[IssuePlan]:
    invoices = (
        await session.scalars(
            sa.select(Invoice).where(
                col(Invoice.id).in_(invoice_ids), col(Invoice.status) == InvoiceStatus.PENDING
            )
        )
    ).all()
    lines = await lines_of(session, [i.id for i in invoices])
    plans = []
    for invoice in invoices:
        customer = await session.get(StripeCustomer, invoice.organization_id)
        org = await session.get(Organization, invoice.organization_id)
        plans.append(
            IssuePlan(
                invoice_id=invoice.id,
                organization_id=invoice.organization_id,
                organization_name=org.name if org else str(invoice.organization_id),
                known_customer=customer.stripe_customer_id if customer else None,
                currency=invoice.currency,
                lines=[(line.description, line.amount_minor) for line in lines[invoice.id]],
            )
        )
    return plans


@dataclass(frozen=True)
class IssueResult:
    plan: IssuePlan
    customer: str | None
    stripe_invoice_id: str | None
    error: str | None


async def issue_invoice(gateway: PaymentGateway, plan: IssuePlan) -> IssueResult:
    """The Stripe side; call it with no transaction open. Stripe's failure is kept, not raised."""
    customer = plan.known_customer
    try:
        customer = customer or await gateway.ensure_customer(
            organization_id=str(plan.organization_id),
            name=plan.organization_name,
            idempotency_key=f"deskline-customer-{plan.organization_id}",
        )
        stripe_id = await gateway.create_invoice(
            customer=customer,
            currency=plan.currency,
            lines=plan.lines,
            metadata={"deskline_invoice_id": str(plan.invoice_id)},
            idempotency_key=f"deskline-invoice-{plan.invoice_id}",
        )
    except PaymentProviderUnavailable as exc:
        return IssueResult(plan, customer, None, exc.detail[:500])
    return IssueResult(plan, customer, stripe_id, None)


async def record_issue(session: AsyncSession, result: IssueResult, *, now: datetime) -> Invoice:
    if result.customer is not None:
        await session.execute(
            dialect_insert(session, StripeCustomer)
            .values(
                organization_id=result.plan.organization_id,
                stripe_customer_id=result.customer,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["organization_id"])
        )
    invoice = await session.get(Invoice, result.plan.invoice_id, with_for_update=True)
    assert invoice is not None
    if result.stripe_invoice_id is not None:
        invoice.status, invoice.stripe_invoice_id = InvoiceStatus.ISSUED, result.stripe_invoice_id
        invoice.issued_at, invoice.last_error = now, None
        await notices.invoice_issued(session, invoice, now=now)
    else:
        invoice.last_error = result.error
    await session.flush()
    return invoice


async def list_invoices(
    session: AsyncSession, actor: Actor, *, limit: int, cursor: str | None, period: str | None = None
) -> Page[Invoice]:
    statement = scoped(sa.select(Invoice), col(Invoice.organization_id), actor)
    if period is not None:
        statement = statement.where(col(Invoice.period) == period)
    return await paginate(session, statement, col(Invoice.id), limit=limit, cursor=cursor)


async def get_invoice(session: AsyncSession, actor: Actor, invoice_id: uuid.UUID) -> Invoice:
    """One invoice the actor may see (a customer: their organisation's)."""
    found = (
        await session.scalars(
            scoped(sa.select(Invoice), col(Invoice.organization_id), actor).where(
                col(Invoice.id) == invoice_id
            )
        )
    ).first()
    if found is None:
        raise NotFound("No invoice with this id.")
    return found


def invoice_csv(invoice: Invoice, lines: list[InvoiceLine]) -> str:
    """An invoice for an accountant: one row per line, then the total (amounts in major units)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["invoice", "period", "position", "description", "amount", "currency"])
    for line in lines:
        writer.writerow(
            [
                invoice.number,
                invoice.period,
                line.position,
                line.description,
                _major(line.amount_minor),
                invoice.currency,
            ]
        )
    writer.writerow(
        [invoice.number, invoice.period, "", "total", _major(invoice.total_minor), invoice.currency]
    )
    return out.getvalue()


def _major(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"
