"""A contract's monthly report, from breaches constructed on purpose: late first responses and updates,
a resolution across a holiday and a pause, a mid-month amendment, a priority change, a DST change;
session minutes against the included ones; service credits with their cap; CSV and HTML for people."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from accounts.models import User
from accounts.roles import Role
from contracts.report_formats import CSV_CHUNK_ROWS, report_csv
from contracts.reports import Breach, Credits, Report, Sessions
from core.outbox import OutboxEvent
from tests.contracts.helpers import active_contract, complete_terms, target
from tests.world import World

IN_FORCE = {"starts_on": date(2026, 1, 1), "ends_on": date(2026, 12, 31), "signed_on": date(2025, 12, 20)}
MSK = timedelta(hours=3)


@dataclass
class Scene:
    """A contract in force, a covered user and an engineer; the clock is moved to each act."""

    world: World
    contract: dict[str, Any]
    customer: User
    engineer: User

    def at(self, moment: datetime) -> None:
        self.world.clock.current = moment

    async def file(self, priority: str = "P1") -> dict[str, Any]:
        response = await self.world.client.post(
            f"/v1/contracts/{self.contract['id']}/tickets",
            json={"priority": priority, "subject": "Down", "description": "Nothing works"},
            headers=await self.world.headers(self.customer),
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def reply(self, ticket: dict[str, Any], *, by: User | None = None) -> None:
        response = await self.world.client.post(
            f"/v1/contracts/{self.contract['id']}/tickets/{ticket['id']}/messages",
            json={"body": "An answer"},
            headers=await self.world.headers(by or self.engineer),
        )
        assert response.status_code == 201, response.text

    async def move(self, ticket: dict[str, Any], to: str, message: str | None = None) -> None:
        response = await self.world.client.post(
            f"/v1/contracts/{self.contract['id']}/tickets/{ticket['id']}/transitions",
            json={"to": to, **({"message": message} if message else {})},
            headers=await self.world.headers(self.engineer),
        )
        assert response.status_code == 200, response.text

    async def report(self, period: str, accept: str = "application/json") -> Any:
        return await self.world.client.get(
            f"/v1/contracts/{self.contract['id']}/report",
            params={"period": period},
            headers={**await self.world.headers(self.customer), "Accept": accept},
        )


async def _scene(world: World, **terms: Any) -> Scene:
    organization = await world.organization()
    customer = await world.user(Role.CUSTOMER_USER, organization)
    engineer = await world.user(Role.SUPPORT_ENGINEER)
    contract = await active_contract(world, organization, terms=complete_terms(**terms), **IN_FORCE)
    return Scene(world, contract, customer, engineer)


def _p1(report: dict[str, Any], priority: str = "P1") -> dict[str, Any]:
    line: dict[str, Any] = next(p for p in report["priorities"] if p["priority"] == priority)
    return line


def _msk(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A moment given in Moscow time."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - MSK


async def test_first_responses_are_counted_met_and_breached_with_their_overrun(world: World) -> None:
    scene = await _scene(world)
    scene.at(_msk(2026, 1, 12, 12, 0))
    timely, late = await scene.file(), await scene.file()
    scene.at(_msk(2026, 1, 12, 12, 20))
    await scene.reply(timely)
    scene.at(_msk(2026, 1, 12, 13, 0))
    await scene.reply(late)
    report = (await scene.report("2026-01")).json()
    line = _p1(report)
    assert line["opened"] == 2
    assert line["timers"]["first_response"] == {"met": 1, "breached": 1, "breach_minutes": 30}
    assert [(b["ticket"], b["timer"], b["breach_minutes"]) for b in report["breaches"]] == [
        (late["number"], "first_response", 30)
    ]


async def test_a_late_update_is_a_breach(world: World) -> None:
    scene = await _scene(world)
    scene.at(_msk(2026, 1, 12, 12, 0))
    ticket = await scene.file()
    await scene.reply(ticket)
    scene.at(_msk(2026, 1, 12, 12, 30))
    await scene.reply(ticket, by=scene.customer)
    scene.at(_msk(2026, 1, 12, 14, 0))  # 90 minutes after the question; P1 updates are due in 60
    await scene.reply(ticket)
    timers = _p1((await scene.report("2026-01")).json())["timers"]
    assert timers["update"] == {"met": 0, "breached": 1, "breach_minutes": 30}


async def test_a_resolution_is_measured_across_a_holiday_and_a_pause(world: World) -> None:
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    closed = await world.client.put(
        "/v1/calendars/holidays/2026-01-14", json={"name": "Closed"}, headers=lead
    )
    assert closed.status_code in {200, 201}, closed.text
    scene = await _scene(world)
    scene.at(_msk(2026, 1, 13, 16, 0))  # Tuesday; Wednesday is a holiday
    ticket = await scene.file()
    await scene.reply(ticket)
    scene.at(_msk(2026, 1, 13, 17, 0))
    await scene.move(ticket, "awaiting_customer", "Send the log, please.")
    scene.at(_msk(2026, 1, 13, 17, 30))  # the customer answers half an hour later
    await scene.reply(ticket, by=scene.customer)
    scene.at(_msk(2026, 1, 15, 12, 30))
    await scene.move(ticket, "resolved", "The directory was moved back.")
    # 240 minutes from Tuesday 16:00: 60 until the pause, 30 after it until 18:00, none on Wednesday's
    # holiday, the other 150 from Thursday 09:00 → 11:30; resolved at 12:30.
    timers = _p1((await scene.report("2026-01")).json())["timers"]
    assert timers["resolution"] == {"met": 0, "breached": 1, "breach_minutes": 60}


async def test_tickets_are_measured_by_the_version_in_force_when_they_opened(world: World) -> None:
    scene = await _scene(world)
    scene.at(_msk(2026, 1, 15, 12, 0))
    amended = await world.client.post(
        f"/v1/contracts/{scene.contract['id']}/amendments",
        json={
            "effective_from": "2026-01-19",
            "reason": "Faster first responses for P1",
            "terms": {"priorities": {**complete_terms()["priorities"], "P1": target(15, 60, 240, "Down")}},
        },
        headers=await world.headers(await world.user(Role.SALES)),
    )
    assert amended.status_code == 201, amended.text
    scene.at(_msk(2026, 1, 16, 12, 0))  # Friday: version 1, 30 minutes
    before = await scene.file()
    scene.at(_msk(2026, 1, 16, 12, 20))
    await scene.reply(before)
    scene.at(_msk(2026, 1, 19, 12, 0))  # Monday: version 2, 15 minutes
    after = await scene.file()
    scene.at(_msk(2026, 1, 19, 12, 20))
    await scene.reply(after)
    report = (await scene.report("2026-01")).json()
    assert _p1(report)["timers"]["first_response"] == {"met": 1, "breached": 1, "breach_minutes": 5}
    assert [b["ticket"] for b in report["breaches"]] == [after["number"]]


async def test_a_raised_priority_is_measured_from_the_change_under_the_new_priority(world: World) -> None:
    scene = await _scene(world)
    scene.at(_msk(2026, 1, 12, 12, 0))
    ticket = await scene.file("P3")
    scene.at(_msk(2026, 1, 12, 12, 10))
    raised = await world.client.post(
        f"/v1/contracts/{scene.contract['id']}/tickets/{ticket['id']}/priority",
        json={"priority": "P1", "reason": "All warehouses stopped"},
        headers=await world.headers(scene.engineer),
    )
    assert raised.status_code == 200
    scene.at(_msk(2026, 1, 12, 12, 50))  # 40 minutes after the change; P1 answers in 30
    await scene.reply(ticket)
    report = (await scene.report("2026-01")).json()
    assert _p1(report)["timers"]["first_response"] == {"met": 0, "breached": 1, "breach_minutes": 10}
    assert _p1(report, "P3")["timers"]["first_response"]["breached"] == 0


async def test_business_time_is_exact_across_the_change_to_summer_time(world: World) -> None:
    always = {"time_zone": "Europe/Berlin", "weekly_hours": {str(d): [["00:00", "24:00"]] for d in range(7)}}
    scene = await _scene(world, calendar=always)
    scene.at(datetime(2026, 3, 29, 0, 0, tzinfo=UTC))  # 01:00 CET; clocks go to 03:00 CEST at 01:00Z
    ticket = await scene.file()
    await scene.reply(ticket)
    scene.at(datetime(2026, 3, 29, 5, 0, tzinfo=UTC))  # 5 hours later (07:00 CEST); P1 resolves in 4
    await scene.move(ticket, "resolved", "Fixed.")
    timers = _p1((await scene.report("2026-03")).json())["timers"]
    assert timers["resolution"] == {"met": 0, "breached": 1, "breach_minutes": 60}


async def test_service_credits_are_a_share_of_the_fee_per_breach_capped_each_month(world: World) -> None:
    scene = await _scene(
        world, service_credits={"percent_per_breach": {"P1": 8, "P2": 3, "P3": 1, "P4": 0}, "cap_percent": 20}
    )
    scene.at(_msk(2026, 1, 12, 12, 0))
    tickets = [await scene.file() for _ in range(3)]
    scene.at(_msk(2026, 1, 12, 14, 0))
    for ticket in tickets:
        await scene.reply(ticket)
    credits = (await scene.report("2026-01")).json()["credits"]
    assert (credits["breaches"], credits["earned_percent"], credits["cap_percent"]) == (3, 24, 20)
    assert (credits["percent"], credits["capped"]) == (20, True)  # what is credited, after the cap
    assert credits["amount_minor"] == 3_000_000  # 20% (the cap) of 15,000,000


async def test_a_first_response_25_seconds_late_is_one_breach_everywhere(world: World) -> None:
    scene = await _scene(world)
    scene.at(_msk(2026, 1, 12, 12, 0))
    ticket = await scene.file()  # P1: first response due in 30 business minutes
    scene.at(_msk(2026, 1, 12, 12, 30) + timedelta(seconds=25))
    await scene.reply(ticket)
    shown = await world.client.get(
        f"/v1/contracts/{scene.contract['id']}/tickets/{ticket['id']}",
        headers=await world.headers(scene.customer),
    )
    first = shown.json()["clock"]["first_response"]
    assert (first["breached"], first["breach_minutes"]) == (True, 1)
    report = (await scene.report("2026-01")).json()
    assert [(b["ticket"], b["breach_minutes"]) for b in report["breaches"]] == [(ticket["number"], 1)]
    assert _p1(report)["timers"]["first_response"] == {"met": 0, "breached": 1, "breach_minutes": 1}
    assert report["credits"]["breaches"] == 1
    assert report["credits"]["amount_minor"] > 0
    async with world.session() as session:
        events = (
            await session.scalars(sa.select(OutboxEvent).where(col(OutboxEvent.type) == "contract.breach"))
        ).all()
    assert [(e.payload["ticket_number"], e.payload["breach_minutes"]) for e in events] == [
        (ticket["number"], 1)
    ]


async def test_the_report_counts_session_minutes_used_against_the_included_ones(world: World) -> None:
    scene = await _scene(world, included_session_minutes=90)
    await world.engineer()
    service = await world.service()
    customer = await world.headers(scene.customer)
    for starts_at in ("2026-01-13T10:00:00+03:00", "2026-01-13T14:00:00+03:00"):
        booked = await world.client.post(
            "/v1/bookings",
            json={"service_id": str(service.id), "starts_at": starts_at, "funding": "contract"},
            headers=customer,
        )
        assert booked.status_code == 201, booked.text
    sessions = (await scene.report("2026-01")).json()["sessions"]
    assert (sessions["count"], sessions["used_included_minutes"], sessions["overage_minutes"]) == (2, 90, 30)
    assert sessions["overage_amount_minor"] == 200_000


async def test_a_report_for_a_month_that_has_not_begun_is_refused(world: World) -> None:
    scene = await _scene(world)
    response = await scene.report("2026-02")
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "period",
        "code": "out_of_range",
        "message": "in the future",
        "source": "query",
    }


async def test_a_report_for_a_month_outside_the_contract_is_refused(world: World) -> None:
    scene = await _scene(world)
    response = await scene.report("2025-11")
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "outside the contract's term"


async def test_accountants_get_csv_and_customers_a_printable_page(world: World) -> None:
    scene = await _scene(world)
    scene.at(_msk(2026, 1, 12, 12, 0))
    ticket = await scene.file()
    scene.at(_msk(2026, 1, 12, 13, 0))
    await scene.reply(ticket)
    as_csv = await scene.report("2026-01", "text/csv")
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"  # the charset once
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    breach = next(r for r in rows if r["section"] == "breach")
    assert (breach["ticket"], breach["timer"], breach["breach_minutes"]) == (
        ticket["number"],
        "first_response",
        "30",
    )
    as_html = await scene.report("2026-01", "text/html")
    assert as_html.headers["content-type"] == "text/html; charset=utf-8"
    assert ticket["number"] in as_html.text
    assert "<script" not in as_html.text


async def test_a_period_outside_any_plausible_contract_year_is_refused(world: World) -> None:
    scene = await _scene(world)
    for period in ("0000-01", "9999-12"):
        response = await scene.report(period)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "period"


async def test_the_csv_is_sent_in_chunks_of_bounded_size_however_many_breaches() -> None:
    ended = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)

    async def breaches() -> AsyncIterator[Breach]:
        for n in range(5 * CSV_CHUNK_ROWS + 3):
            yield Breach(f"SLA-{n}", "p1", "first_response", ended, ended, 30)

    summary = Report(
        uuid.uuid4(),
        "C-1",
        "2026-01",
        "Europe/Moscow",
        1,
        "RUB",
        100,
        [],
        [],
        Sessions(0, 0, 0, 0, 0),
        Credits(breaches=0, earned_percent=0, cap_percent=0, percent=0, capped=False, amount_minor=0),
    )
    chunks = [chunk async for chunk in report_csv(summary, breaches())]
    assert len(chunks) == 6
    assert max(chunk.count("\r\n") for chunk in chunks) <= CSV_CHUNK_ROWS + 3
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert sum(row[0] == "breach" for row in rows) == 5 * CSV_CHUNK_ROWS + 3
