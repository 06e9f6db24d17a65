"""Invoicing a month: one invoice per contract in force, the monthly fee less the service credits,
recorded in Deskline (the source of truth) and issued in Stripe with the same lines; invoicing the
month again changes nothing. The Stripe side is proved twice: against the development stand-in (which
keeps the invoice) and from the recorded requests (the idempotency keys, which localstripe ignores)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Organization
from accounts.roles import Role
from billing.errors import PaymentProviderUnavailable
from billing.models import Invoice, InvoiceStatus
from flows import invoice_period
from tests.billing.helpers import stripe_client
from tests.billing.test_gateway_requests import recording_gateway
from tests.contracts.helpers import contract_with_a_first_response
from tests.world import World


async def _contract_with_one_breach(world: World) -> dict[str, Any]:
    """A contract whose January had one P1 first response 30 minutes late (5% credit of 15,000,000)."""
    contract = await contract_with_a_first_response(world, after=timedelta(minutes=60))
    world.clock.current = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    return contract


async def _invoices(session: AsyncSession) -> list[Invoice]:
    return list((await session.scalars(sa.select(Invoice))).all())


async def test_a_month_is_invoiced_per_contract_as_the_fee_less_the_credits(world: World) -> None:
    contract = await _contract_with_one_breach(world)
    _, admin = await world.staff(Role.ADMIN)
    response = await world.client.post("/v1/invoices", json={"period": "2026-01"}, headers=admin)
    assert response.status_code == 200, response.text
    (invoice,) = response.json()
    assert (invoice["source_id"], invoice["period"], invoice["currency"]) == (
        contract["id"],
        "2026-01",
        "RUB",
    )
    assert [line["amount_minor"] for line in invoice["lines"]] == [15_000_000, -750_000]
    assert invoice["total_minor"] == 14_250_000


async def test_invoicing_a_month_again_finds_the_same_invoices(world: World) -> None:
    await _contract_with_one_breach(world)
    _, admin = await world.staff(Role.ADMIN)
    first = (await world.client.post("/v1/invoices", json={"period": "2026-01"}, headers=admin)).json()
    second = (await world.client.post("/v1/invoices", json={"period": "2026-01"}, headers=admin)).json()
    assert [i["number"] for i in first] == [i["number"] for i in second]
    async with world.session() as session:
        assert len(await _invoices(session)) == 1


async def test_a_month_that_has_not_ended_is_not_invoiced(world: World) -> None:
    await _contract_with_one_breach(world)
    _, admin = await world.staff(Role.ADMIN)
    response = await world.client.post("/v1/invoices", json={"period": "2026-02"}, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "period"
    async with world.session() as session:
        assert await _invoices(session) == []


async def test_the_invoice_is_issued_in_stripe_with_the_same_lines_each_step_keyed(world: World) -> None:
    await _contract_with_one_breach(world)
    gateway, sent = recording_gateway()
    async with world.sessions() as session:
        (invoice,) = await invoice_period(
            session, gateway, world.clock, "2026-01", is_sqlite=world.ctx.settings.is_sqlite
        )
    assert (invoice.status, invoice.stripe_invoice_id) == (InvoiceStatus.ISSUED, "in_1")
    keys = [r.headers["idempotency-key"] for r in sent if r.url.path != "/v1/customers"]
    assert keys == [
        f"deskline-invoice-{invoice.id}",
        *(f"deskline-invoice-{invoice.id}-line-{n}" for n in (1, 2)),
        f"deskline-invoice-{invoice.id}-finalize",
        f"deskline-invoice-{invoice.id}-send",
    ]
    amounts = [
        dict(x.split("=") for x in r.content.decode().split("&"))["amount"]
        for r in sent
        if r.url.path == "/v1/invoiceitems"
    ]
    assert amounts == ["15000000", "-750000"]


async def test_the_stand_in_holds_the_issued_invoice_with_its_lines_finalised_and_sent(world: World) -> None:
    await _contract_with_one_breach(world)
    _, admin = await world.staff(Role.ADMIN)
    response = await world.client.post("/v1/invoices", json={"period": "2026-01"}, headers=admin)
    (invoice,) = response.json()
    assert (invoice["status"], invoice["last_error"]) == ("issued", None)
    found = stripe_client(world).v1.invoices.retrieve(invoice["stripe_invoice_id"])
    assert (found.status, found.collection_method, found.currency) == ("open", "send_invoice", "rub")
    assert found.status_transitions.to_dict().get("sent_at") is not None
    lines = stripe_client(world).v1.invoices.line_items.list(invoice["stripe_invoice_id"])
    assert [(line.description, line.amount) for line in lines.data] == [
        (line["description"], line["amount_minor"]) for line in invoice["lines"]
    ]
    assert found.total == invoice["total_minor"]


async def test_an_invoice_stripe_could_not_take_stays_pending_with_the_reason(world: World) -> None:
    await _contract_with_one_breach(world)
    failing: Any = _Unreachable()  # Any: only the first call of the gateway is needed
    async with world.sessions() as session:
        (invoice,) = await invoice_period(
            session, failing, world.clock, "2026-01", is_sqlite=world.ctx.settings.is_sqlite
        )
    assert invoice.status == InvoiceStatus.PENDING
    assert invoice.last_error is not None
    assert "Stripe" in invoice.last_error


class _Unreachable:
    """Stripe cannot be reached: the first call fails before anything is sent."""

    async def ensure_customer(self, **_: Any) -> str:
        raise PaymentProviderUnavailable(
            "Stripe did not create the customer (APIConnectionError).", reached=False
        )


async def test_customers_read_their_own_invoices_only(world: World) -> None:
    contract = await _contract_with_one_breach(world)
    _, admin = await world.staff(Role.ADMIN)
    await world.client.post("/v1/invoices", json={"period": "2026-01"}, headers=admin)
    own = await world.headers(await world.user(Role.CUSTOMER_USER, await _organization_of(world, contract)))
    stranger = await world.headers(await world.user(Role.CUSTOMER_USER, await world.organization()))
    assert len((await world.client.get("/v1/invoices", headers=own)).json()["items"]) == 1
    assert (await world.client.get("/v1/invoices", headers=stranger)).json()["items"] == []


async def _organization_of(world: World, contract: dict[str, Any]) -> Organization | None:
    async with world.session() as session:
        return await session.get(Organization, uuid.UUID(contract["organization_id"]))


async def test_an_amendment_inside_an_invoiced_month_is_refused(world: World) -> None:
    contract = await _contract_with_one_breach(world)
    _, admin = await world.staff(Role.ADMIN)
    await world.client.post("/v1/invoices", json={"period": "2026-01"}, headers=admin)
    world.clock.current = datetime(
        2026, 1, 30, 9, 0, tzinfo=UTC
    )  # before the month's end, for the test's sake
    response = await world.client.post(
        f"/v1/contracts/{contract['id']}/amendments",
        json={"effective_from": "2026-01-31", "reason": "Late change", "terms": {"monthly_fee_minor": 1}},
        headers=await world.headers(await world.user(Role.SALES)),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "effective_from",
        "code": "out_of_range",
        "message": "inside a period already invoiced",
        "source": "body",
    }


async def test_a_customer_downloads_their_invoice_as_csv_with_its_lines_and_total(world: World) -> None:
    contract = await _contract_with_one_breach(world)
    _, admin = await world.staff(Role.ADMIN)
    (invoice,) = (await world.client.post("/v1/invoices", json={"period": "2026-01"}, headers=admin)).json()
    own = await world.headers(await world.user(Role.CUSTOMER_USER, await _organization_of(world, contract)))
    one = await world.client.get(f"/v1/invoices/{invoice['id']}", headers=own)
    assert one.status_code == 200
    assert one.json()["number"] == invoice["number"]
    download = await world.client.get(f"/v1/invoices/{invoice['id']}", headers={**own, "Accept": "text/csv"})
    assert download.status_code == 200
    assert (
        download.headers["content-disposition"] == f'attachment; filename="invoice-{invoice["number"]}.csv"'
    )
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0] == ["invoice", "period", "position", "description", "amount", "currency"]
    assert [row[4] for row in rows[1:]] == ["150000.00", "-7500.00", "142500.00"]
    assert rows[-1][3] == "total"
