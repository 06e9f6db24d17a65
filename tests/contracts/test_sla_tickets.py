"""SLA tickets: covered users of a contract in force file them with a priority; they run on the
contract's calendar against that priority's targets, through the same lifecycle as free tickets, in
their own queue and numbering."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from accounts.models import Organization, User
from accounts.roles import Role
from support.models import Ticket
from tests.contracts.helpers import active_contract, complete_terms, sales
from tests.support.helpers import file_ticket as file_free_ticket
from tests.world import World

IN_FORCE = {"starts_on": date(2026, 1, 1), "ends_on": date(2026, 12, 31), "signed_on": date(2025, 12, 20)}
SUBJECT = {"subject": "Terminals stop synchronising", "description": "Every terminal fails with code 17"}


async def _covered(world: World, **terms: Any) -> tuple[dict[str, Any], Organization, User, dict[str, str]]:
    organization = await world.organization()
    user = await world.user(Role.CUSTOMER_USER, organization)
    if terms.get("coverage", {}).get("kind") == "named":
        terms["coverage"]["user_ids"] = [str(user.id)]
    contract = await active_contract(world, organization, terms=complete_terms(**terms), **IN_FORCE)
    return contract, organization, user, await world.headers(user)


async def _file(world: World, contract: dict[str, Any], headers: dict[str, str], priority: str = "P1") -> Any:
    return await world.client.post(
        f"/v1/contracts/{contract['id']}/tickets", json={"priority": priority, **SUBJECT}, headers=headers
    )


async def _get(
    world: World, contract: dict[str, Any], ticket: dict[str, Any], headers: dict[str, str]
) -> Any:
    response = await world.client.get(
        f"/v1/contracts/{contract['id']}/tickets/{ticket['id']}", headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_covered_user_files_a_p1_ticket_due_on_the_contract_calendar(world: World) -> None:
    contract, _, _, customer = await _covered(world)
    response = await _file(world, contract, customer)  # Monday 12:00 in Moscow
    assert response.status_code == 201
    body = response.json()
    assert body["number"] == "SLA-1001"
    assert body["status"] == "new"
    first = body["clock"]["first_response"]
    assert (first["target_minutes"], first["due_at"]) == (30, "2026-01-12T09:30:00Z")
    assert body["clock"]["resolution"]["due_at"] == "2026-01-12T13:00:00Z"  # 240 business minutes


async def test_sla_tickets_and_free_tickets_keep_their_own_queues_and_numbers(world: World) -> None:
    contract, _, _, customer = await _covered(world)
    sla_ticket = (await _file(world, contract, customer)).json()
    _, _, contact = await world.contact()
    free = await file_free_ticket(world, contact)
    assert (sla_ticket["number"], free["number"]) == ("SLA-1001", "DL-1001")
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    free_queue = (await world.client.get("/v1/support/tickets", headers=engineer)).json()["items"]
    sla_queue = (await world.client.get(f"/v1/contracts/{contract['id']}/tickets", headers=engineer)).json()
    assert [t["id"] for t in free_queue] == [free["id"]]
    assert [t["id"] for t in sla_queue["items"]] == [sla_ticket["id"]]
    assert (
        await world.client.get(f"/v1/support/tickets/{sla_ticket['id']}", headers=engineer)
    ).status_code == 404


async def test_a_user_outside_named_coverage_is_refused_and_nothing_is_filed(world: World) -> None:
    contract, organization, _, _ = await _covered(world, coverage={"kind": "named", "user_ids": []})
    colleague = await world.headers(await world.user(Role.CUSTOMER_USER, organization))
    response = await _file(world, contract, colleague)
    assert response.status_code == 403
    assert response.json()["code"] == "not_covered"
    async with world.session() as session:
        assert (await session.scalars(sa.select(Ticket))).first() is None


async def test_seats_are_taken_by_the_first_users_who_file(world: World) -> None:
    contract, organization, _, first = await _covered(world, coverage={"kind": "seats", "max_users": 1})
    assert (await _file(world, contract, first)).status_code == 201
    assert (await _file(world, contract, first)).status_code == 201  # a seat holder files again
    second = await world.headers(await world.user(Role.CUSTOMER_USER, organization))
    response = await _file(world, contract, second)
    assert response.status_code == 403
    assert "seats" in response.json()["detail"]


async def test_a_contract_not_yet_in_force_refuses_tickets(world: World) -> None:
    organization = await world.organization()
    user = await world.user(Role.CUSTOMER_USER, organization)
    contract = await active_contract(world, organization)  # starts on 1 February
    response = await _file(world, contract, await world.headers(user))
    assert response.status_code == 409
    assert response.json()["code"] == "contract_not_in_force"


async def test_a_late_first_response_is_a_breach_by_the_business_minutes_it_was_late(world: World) -> None:
    contract, _, _, customer = await _covered(world)
    ticket = (await _file(world, contract, customer)).json()
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    world.clock.advance(timedelta(minutes=45))
    await world.client.post(
        f"/v1/contracts/{contract['id']}/tickets/{ticket['id']}/messages",
        json={"body": "On it."},
        headers=engineer,
    )
    first = (await _get(world, contract, ticket, engineer))["clock"]["first_response"]
    assert (first["breached"], first["breach_minutes"]) == (True, 15)


async def test_the_update_timer_runs_from_a_waiting_customer_message_to_the_next_staff_reply(
    world: World,
) -> None:
    contract, _, _, customer = await _covered(world)
    ticket = (await _file(world, contract, customer)).json()
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    messages = f"/v1/contracts/{contract['id']}/tickets/{ticket['id']}/messages"
    await world.client.post(messages, json={"body": "Looking."}, headers=engineer)
    assert (await _get(world, contract, ticket, engineer))["clock"]["update"]["due_at"] is None
    world.clock.advance(timedelta(minutes=10))
    await world.client.post(messages, json={"body": "Any news?"}, headers=customer)
    update = (await _get(world, contract, ticket, engineer))["clock"]["update"]
    assert update["due_at"] == "2026-01-12T10:10:00Z"  # 60 business minutes after the question
    world.clock.advance(timedelta(minutes=70))
    await world.client.post(messages, json={"body": "Fixed the directory."}, headers=engineer)
    after = await _get(world, contract, ticket, engineer)
    assert after["clock"]["update"]["due_at"] is None
    breaches = [e for e in after["timeline"] if e["kind"] == "update_breached"]
    assert [b["data"]["breach_minutes"] for b in breaches] == [10]


async def test_a_timely_staff_reply_records_no_update_breach(world: World) -> None:
    contract, _, _, customer = await _covered(world)
    ticket = (await _file(world, contract, customer)).json()
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    messages = f"/v1/contracts/{contract['id']}/tickets/{ticket['id']}/messages"
    await world.client.post(messages, json={"body": "Looking."}, headers=engineer)
    await world.client.post(messages, json={"body": "Any news?"}, headers=customer)
    world.clock.advance(timedelta(minutes=59))
    await world.client.post(messages, json={"body": "Yes."}, headers=engineer)
    timeline = (await _get(world, contract, ticket, engineer))["timeline"]
    assert not [e for e in timeline if e["kind"] == "update_breached"]


async def test_awaiting_the_customer_pauses_the_resolution_timer_and_moves_its_due_time(world: World) -> None:
    contract, _, _, customer = await _covered(world)
    ticket = (await _file(world, contract, customer)).json()
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    base = f"/v1/contracts/{contract['id']}/tickets/{ticket['id']}"
    world.clock.advance(timedelta(minutes=20))
    asked = await world.client.post(
        f"{base}/transitions", json={"to": "awaiting_customer", "message": "Send the log."}, headers=engineer
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["clock"]["resolution"]["due_at"] is None  # paused
    world.clock.advance(timedelta(minutes=90))
    await world.client.post(f"{base}/messages", json={"body": "Here it is."}, headers=customer)
    clock = (await _get(world, contract, ticket, engineer))["clock"]
    assert clock["paused_minutes"] == 90
    assert clock["resolution"]["due_at"] == "2026-01-12T14:30:00Z"  # 13:00 + the 90 minutes paused


async def test_staff_change_the_priority_and_running_targets_restart_from_then(world: World) -> None:
    contract, _, _, customer = await _covered(world)
    ticket = (await _file(world, contract, customer, priority="P3")).json()
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    world.clock.advance(timedelta(minutes=10))
    response = await world.client.post(
        f"/v1/contracts/{contract['id']}/tickets/{ticket['id']}/priority",
        json={"priority": "P1", "reason": "Production is down after all"},
        headers=lead,
    )
    assert response.status_code == 200
    clock = response.json()["clock"]
    assert (clock["priority"], clock["first_response"]["due_at"]) == ("P1", "2026-01-12T09:40:00Z")
    assert clock["resolution"]["due_at"] == "2026-01-12T13:10:00Z"
    changes = [e["data"] for e in response.json()["timeline"] if e["kind"] == "priority_changed"]
    assert changes == [{"from": "P3", "to": "P1", "reason": "Production is down after all"}]


async def test_customers_cannot_change_the_priority(world: World) -> None:
    contract, _, _, customer = await _covered(world)
    ticket = (await _file(world, contract, customer, priority="P3")).json()
    response = await world.client.post(
        f"/v1/contracts/{contract['id']}/tickets/{ticket['id']}/priority",
        json={"priority": "P1", "reason": "Urgent for us"},
        headers=customer,
    )
    assert response.status_code == 403
    assert (await _get(world, contract, ticket, customer))["clock"]["priority"] == "P3"


async def test_targets_skip_holidays_and_count_business_time_across_a_dst_change(world: World) -> None:
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    calendar = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//t//EN\nBEGIN:VEVENT\nUID:h@t\n"
        "DTSTART;VALUE=DATE:20260330\nSUMMARY:Closed\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    uploaded = await world.client.post(
        "/v1/calendars/holidays?calendar=berlin",
        content=calendar.encode(),
        headers={**lead, "content-type": "text/calendar"},
    )
    assert uploaded.status_code in {200, 201}, uploaded.text
    berlin = {
        "time_zone": "Europe/Berlin",
        "weekly_hours": {str(d): [["09:00", "18:00"]] for d in range(5)},
        "holiday_calendar": "berlin",
    }
    contract, _, user, _ = await _covered(world, calendar=berlin)
    world.clock.current = datetime(2026, 3, 27, 16, 0, tzinfo=UTC)  # Friday 17:00 CET; DST starts Sunday
    customer = await world.headers(user)  # a token of this (moved) time
    ticket = (await _file(world, contract, customer, priority="P3")).json()
    # 240 business minutes: 60 on Friday, Monday is a holiday, 180 on Tuesday from 09:00 CEST (07:00Z)
    assert ticket["clock"]["first_response"]["due_at"] == "2026-03-31T10:00:00Z"


async def test_ticket_conversations_are_for_support_and_the_customer_not_sales(world: World) -> None:
    contract, _, _, customer = await _covered(world)
    await _file(world, contract, customer)
    listed = await world.client.get(f"/v1/contracts/{contract['id']}/tickets", headers=await sales(world))
    assert listed.status_code == 403
    assert (
        len(
            (await world.client.get(f"/v1/contracts/{contract['id']}/tickets", headers=customer)).json()[
                "items"
            ]
        )
        == 1
    )


async def test_a_covered_user_attaches_a_file_that_support_downloads(world: World) -> None:
    contract, _, _, customer = await _covered(world)
    ticket = (await _file(world, contract, customer)).json()
    base = f"/v1/contracts/{contract['id']}/tickets/{ticket['id']}"
    uploaded = await world.client.post(
        f"{base}/attachments",
        files={"file": ("server.log", b"code 17: exchange directory not found\n", "text/plain")},
        data={"kind": "other"},
        headers=customer,
    )
    assert uploaded.status_code == 201, uploaded.text
    _, engineer = await world.staff(Role.SUPPORT_ENGINEER)
    shown = await _get(world, contract, ticket, engineer)
    assert [a["filename"] for a in shown["attachments"]] == ["server.log"]
    download = await world.client.get(f"{base}/attachments/{uploaded.json()['id']}", headers=engineer)
    assert download.content == b"code 17: exchange directory not found\n"


async def test_a_user_outside_named_coverage_cannot_attach_to_a_colleagues_ticket(world: World) -> None:
    contract, organization, _, customer = await _covered(world, coverage={"kind": "named", "user_ids": []})
    ticket = (await _file(world, contract, customer)).json()
    colleague = await world.headers(await world.user(Role.CUSTOMER_USER, organization))
    response = await world.client.post(
        f"/v1/contracts/{contract['id']}/tickets/{ticket['id']}/attachments",
        files={"file": ("x.log", b"x", "text/plain")},
        headers=colleague,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_covered"
    assert (await _get(world, contract, ticket, customer))["attachments"] == []
