"""What a contract's month is invoiced for: the monthly fee of the version in force on the month's
first covered day, less the month's service credits. Invoicing a month makes its report final: the
customer is told it is ready (once, with the invoice). Overage session minutes appear as a line and, as
they were charged by card when booked, as the same amount paid. Recorded through billing, which issues
the invoice in Stripe."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import SYSTEM_ACTOR
from billing import ChargeLine, Invoice, record_invoice, recorded_for
from contracts import notices
from contracts.models import Contract, ContractState
from contracts.reports import month_span, monthly_report
from core.errors import FieldProblem, InvalidInput


async def invoice_month(session: AsyncSession, period: str, *, now: datetime) -> list[Invoice]:
    """Record the invoice of every contract in force during ``period`` (a month that has ended); the
    ones already recorded are returned as they are."""
    first, following = month_span(period, source="body")
    if following > now.date():
        raise InvalidInput(
            "Only a month that has ended is invoiced.", errors=[FieldProblem("period", "not ended yet")]
        )
    contracts = (
        await session.scalars(
            sa.select(Contract)
            .where(
                col(Contract.state) == ContractState.ACTIVE,
                col(Contract.starts_on) < following,
                col(Contract.ends_before) > first,
            )
            .order_by(col(Contract.number))
        )
    ).all()
    recorded = []
    for contract in contracts:
        found = await recorded_for(session, "contract", contract.id, period)
        if found is not None:
            recorded.append(found)
            continue
        report = await monthly_report(session, SYSTEM_ACTOR, contract.id, period, now=now)
        lines = [ChargeLine(f"SLA contract {report.number}, {period}: monthly fee", report.monthly_fee_minor)]
        if report.sessions.overage_minutes:
            amount = report.sessions.overage_amount_minor
            lines += [
                ChargeLine(
                    f"Remote sessions: {report.sessions.overage_minutes} minutes beyond the included", amount
                ),
                ChargeLine("Remote sessions beyond the included minutes: paid by card when booked", -amount),
            ]
        credits = report.credits
        if credits.amount_minor:
            lines.append(
                ChargeLine(
                    f"Service credits: {credits.breaches} breach(es), {credits.percent}% of the fee",
                    -credits.amount_minor,
                )
            )
        recorded.append(
            await record_invoice(
                session,
                organization_id=contract.organization_id,
                source="contract",
                source_id=contract.id,
                period=period,
                currency=report.currency,
                lines=lines,
                now=now,
            )
        )
        await notices.report_ready(
            session,
            contract,
            period=report.period,
            breaches=report.credits.breaches,
            credit_minor=report.credits.amount_minor,
            currency=report.currency,
            now=now,
        )
    return recorded
