"""The staff console in Chromium, against `deskline serve` with its stand-ins and worker and seed-demo's
people: an engineer works an SLA ticket from a queue that updates itself, an admin registers an
integration client whose secret is shown once, a customer is refused; every console page they reach
passes axe-core with no serious violation."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect
from sqlmodel import col

from api.db import create_engine
from api.settings import load_settings
from support.models import Ticket
from tests.portal.conftest import CONTACT, PASSWORD, Portal, Shots
from tests.portal.test_portal import _contract_for_romashka
from tests.portal.test_portal_jobs import _accessible, page_behaviour

ENGINEER, ADMIN = "engineer@deskline.demo", "admin@deskline.demo"


def console_sign_in(page: Page, portal: Portal, email: str) -> None:
    page.goto(f"{portal.server.url}/console")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _file_sla_ticket(portal: Portal, contract: dict[str, Any], subject: str) -> dict[str, Any]:
    body = {"priority": "P1", "subject": subject, "description": "No order reaches the terminals."}
    ticket: dict[str, Any] = portal.api("POST", f"/v1/contracts/{contract['id']}/tickets", CONTACT, json=body)
    return ticket


def _move_first_response_due(portal: Portal, ticket_id: str, to: datetime) -> None:
    """Time passing, without waiting: the ticket's first response fell due ``to``."""

    async def move() -> None:
        engine = create_engine(load_settings(database_url=portal.database_url))
        async with engine.begin() as connection:
            await connection.execute(
                sa.update(Ticket)
                .where(col(Ticket.id) == uuid.UUID(ticket_id))
                .values(first_response_due_at=to)
            )
        await engine.dispose()

    with ThreadPoolExecutor(1) as thread:  # away from Playwright's running loop
        thread.submit(asyncio.run, move()).result()


def _queue_row(page: Page, ticket: dict[str, Any]) -> Any:  # Any: a Playwright locator
    return page.locator(f'#queue tr[data-ticket="{ticket["id"]}"]')


def test_an_engineer_works_an_sla_ticket_from_a_queue_that_updates_itself(
    browser: Browser, page: Page, portal: Portal, shots: Shots
) -> None:
    contract = _contract_for_romashka(portal)
    ticket = _file_sla_ticket(portal, contract, f"Terminals idle {uuid.uuid4().hex[:6]}")
    late = _file_sla_ticket(portal, contract, f"Printing stopped {uuid.uuid4().hex[:6]}")
    _move_first_response_due(portal, late["id"], datetime.now(UTC) - timedelta(days=7))
    console_sign_in(page, portal, ENGINEER)
    row = _queue_row(page, ticket)
    expect(row).to_contain_text("First response: due")
    expect(_queue_row(page, late)).to_contain_text("First response: breached by")
    _accessible(page, "queue", shots)
    row.get_by_role("button", name=f"Take {ticket['number']}").click()
    expect(row).to_contain_text("Elena Engineer")
    row.get_by_role("link", name=ticket["number"]).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(ticket["number"])
    page.locator("#ask").get_by_label("What do you need from the customer?").fill(
        "Which app version runs there?"
    )
    page.get_by_role("button", name="Ask the customer").click()
    expect(page.locator("#ticket-status")).to_have_text("awaiting customer")
    expect(page.locator("#ticket-timers")).to_contain_text("Resolution: paused, awaiting the customer")
    _accessible(page, "ticket", shots)

    page.get_by_role("link", name="Back to the queue").click()
    expect(_queue_row(page, ticket)).to_contain_text("awaiting customer")
    customer = browser.new_context(locale="en-GB")
    try:  # the customer answers in the portal while the engineer's queue stays open
        answer = customer.new_page()
        answer.goto(f"{portal.url}#/contracts/{contract['id']}/tickets/{ticket['id']}")
        answer.get_by_label("E-mail").fill(CONTACT)
        answer.get_by_label("Password").fill(PASSWORD)
        answer.get_by_role("button", name="Sign in").click()
        answer.get_by_label("Your reply").fill("Version 3.2 on every terminal.")
        answer.get_by_role("button", name="Send").click()
        expect(answer.locator("#reply textarea")).to_have_value("")
    finally:
        customer.close()
    expect(_queue_row(page, ticket)).to_contain_text("in progress", timeout=15_000)  # no reload

    _queue_row(page, ticket).get_by_role("link", name=ticket["number"]).click()
    page.locator("#reply").get_by_label("Message").fill("Update the terminals to 3.3; the fix is there.")
    page.locator("#reply").get_by_role("button", name="Send").click()
    expect(page.locator("#messages")).to_contain_text("Update the terminals to 3.3")
    page.locator("#resolve").get_by_label("Resolution summary").fill("Fixed in 3.3.")
    page.get_by_role("button", name="Mark resolved").click()
    expect(page.locator("#ticket-status")).to_have_text("resolved")
    stored = portal.api("GET", f"/v1/contracts/{contract['id']}/tickets/{ticket['id']}", ENGINEER)
    assert stored["status"] == "resolved"
    staff_said = [m["body"] for m in stored["messages"] if m["author_kind"] == "staff"]
    assert "Update the terminals to 3.3; the fix is there." in staff_said


def test_an_admin_sees_a_new_integration_clients_secret_once(
    page: Page, portal: Portal, shots: Shots
) -> None:
    console_sign_in(page, portal, ADMIN)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Integration clients").click()
    name = f"Warehouse sync {uuid.uuid4().hex[:6]}"
    page.get_by_label("Name").fill(name)
    page.get_by_label("support:read").check()
    _accessible(page, "integration-clients", shots)
    page.get_by_role("button", name="Register").click()
    secret = page.locator("#client-secret").inner_text()
    assert len(secret) >= 32
    expect(page.locator("#clients")).to_contain_text(name)
    _accessible(page, "secret-once", shots)
    listed = [
        c for c in portal.api("GET", "/v1/integration-clients?limit=200", ADMIN)["items"] if c["name"] == name
    ]
    assert len(listed) == 1
    assert listed[0]["scopes"] == ["support:read"]
    assert listed[0].get("client_secret") is None
    page.reload()
    expect(page.locator("#clients")).to_contain_text(name)
    assert secret not in page.content()
    assert page.locator("#client-secret").count() == 0


@page_behaviour
def test_a_customer_signed_in_to_the_console_sees_nothing_of_it_and_is_refused_its_operations(
    page: Page, portal: Portal, shots: Shots
) -> None:
    console_sign_in(page, portal, CONTACT)
    expect(page.get_by_role("heading", level=1)).to_have_text("This console is for Deskline staff")
    assert page.locator("#queue").count() == 0
    _accessible(page, "not-staff", shots)
    for path in ("/v1/queue", "/v1/integration-clients", "/v1/queue/events"):
        answer = page.evaluate(
            "async (path) => { const r = await fetch(path); return [r.status, (await r.json()).code]; }", path
        )
        assert answer == [403, "forbidden"], path
    page.goto(f"{portal.server.url}/console#/integrations")
    expect(page.get_by_role("heading", level=1)).to_have_text("This console is for Deskline staff")


@page_behaviour
def test_the_console_speaks_russian(russian_page: Page, portal: Portal, shots: Shots) -> None:
    console_sign_in_ru = russian_page
    console_sign_in_ru.goto(f"{portal.server.url}/console")
    console_sign_in_ru.get_by_label("Эл. почта").fill(ENGINEER)
    console_sign_in_ru.get_by_label("Пароль").fill(PASSWORD)
    console_sign_in_ru.get_by_role("button", name="Войти").click()
    expect(console_sign_in_ru.get_by_role("heading", level=1)).to_have_text("Очередь заявок")
    expect(console_sign_in_ru.get_by_role("navigation", name="Консоль")).to_be_visible()
    _accessible(console_sign_in_ru, "queue-ru", shots)
