"""The staff console in Chromium, against `deskline serve` with its stand-ins and worker and seed-demo's
people: an engineer works an SLA ticket from a queue that updates itself, an admin registers an
integration client whose secret is shown once, a customer is refused; every console page they reach
passes axe-core with no serious violation."""

from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect
from sqlmodel import col

from api.db import create_engine
from api.settings import load_settings
from scheduling.models import Booking
from support.models import Ticket
from tests.contracts.helpers import complete_terms
from tests.portal.conftest import CONTACT, PASSWORD, Portal, Shots
from tests.portal.test_portal import _contract_for_romashka
from tests.portal.test_portal_jobs import _accessible, page_behaviour
from tests.support.helpers import intake

ENGINEER, ADMIN = "engineer@deskline.demo", "admin@deskline.demo"
SALES, LEAD = "sales@deskline.demo", "lead@deskline.demo"
PURCHASES_HEADER = "product,purchased_on,channel,partner_name,reference\n"


def console_sign_in(page: Page, portal: Portal, email: str) -> None:
    page.goto(f"{portal.server.url}/console")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _file_sla_ticket(portal: Portal, contract: dict[str, Any], subject: str) -> dict[str, Any]:
    body = {"priority": "P1", "subject": subject, "description": "No order reaches the terminals."}
    ticket: dict[str, Any] = portal.api("POST", f"/v1/contracts/{contract['id']}/tickets", CONTACT, json=body)
    return ticket


def _execute(portal: Portal, statement: sa.Executable) -> None:
    """Run one statement on the served Deskline's database, away from Playwright's running loop."""

    async def run() -> None:
        engine = create_engine(load_settings(database_url=portal.database_url))
        async with engine.begin() as connection:
            await connection.execute(statement)
        await engine.dispose()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, run()).result()


def _move_first_response_due(portal: Portal, ticket_id: str, to: datetime) -> None:
    """Time passing, without waiting: the ticket's first response fell due ``to``."""
    _execute(
        portal,
        sa.update(Ticket).where(col(Ticket.id) == uuid.UUID(ticket_id)).values(first_response_due_at=to),
    )


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


def test_sales_draft_a_contract_see_what_is_missing_complete_and_activate_it(
    browser: Browser, page: Page, portal: Portal, shots: Shots
) -> None:
    number = f"SLA-CONSOLE-{portal.backend}-{uuid.uuid4().hex[:6]}"
    starts = datetime.now(UTC).date() + timedelta(days=800 + (0 if portal.backend == "sqlite" else 400))
    console_sign_in(page, portal, SALES)
    expect(page.get_by_role("heading", level=1)).to_have_text("SLA contracts")
    page.get_by_role("link", name="Draft a contract").click()
    page.get_by_label("Organisation").select_option(label="Romashka LLC")
    page.get_by_label("Number").fill(number)
    page.get_by_label("Starts on").fill(starts.isoformat())
    page.get_by_label("Ends on").fill((starts + timedelta(days=364)).isoformat())
    page.get_by_label("Signed on").fill(datetime.now(UTC).date().isoformat())
    page.get_by_label("Coverage", exact=True).select_option("all")
    page.get_by_label("Time zone").fill("Europe/Moscow")
    page.get_by_label("Opens (Mon–Fri)").fill("09:00")
    page.get_by_label("Closes (Mon–Fri)").fill("18:00")
    _accessible(page, "contract-draft", shots)
    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator("#contract-status")).to_have_text("draft")

    page.get_by_role("button", name="Activate").click()  # the targets and the money are still missing
    missing = page.locator("#missing-list")
    expect(missing).to_contain_text("terms.priorities")
    expect(missing).to_contain_text("terms.monthly_fee_minor")
    priorities_error = page.locator('[data-error-for="terms.priorities"]')
    expect(priorities_error).to_have_text("required before the contract takes effect")
    _accessible(page, "contract-missing", shots)
    for priority, minutes in (("P1", 30), ("P2", 60), ("P3", 240), ("P4", 480)):
        page.get_by_label(f"{priority}: What qualifies").fill(f"{priority} cases")
        page.get_by_label(f"{priority}: First response").fill(str(minutes))
        page.get_by_label(f"{priority}: Update every").fill(str(minutes * 2))
        page.get_by_label(f"{priority}: Resolution").fill(str(minutes * 8))
        page.get_by_label(f"{priority}: Credit per breach, %").fill("2")
    page.get_by_label("Monthly fee").fill("150000")
    page.get_by_label("Currency").select_option("RUB")
    page.get_by_label("Session minutes included a month").fill("240")
    page.get_by_label("Sessions beyond the included minutes").select_option("refuse")
    page.get_by_label("Service credit cap, %").fill("20")
    page.get_by_label("Responsibilities").fill("The customer names two administrators.")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator(".notice")).to_have_text("The draft was saved.")
    page.get_by_role("button", name="Activate").click()
    expect(page.locator("#contract-status")).to_have_text("active")
    _accessible(page, "contract-active", shots)
    shots.take(page, "contract-editor")

    customer = browser.new_context(locale="en-GB")
    try:  # the customer's covered users see it in the portal
        portal_page = customer.new_page()
        portal_page.goto(portal.url)
        portal_page.get_by_label("E-mail").fill(CONTACT)
        portal_page.get_by_label("Password").fill(PASSWORD)
        portal_page.get_by_role("button", name="Sign in").click()
        portal_page.get_by_role("navigation", name="Main").get_by_role("link", name="SLA contracts").click()
        expect(portal_page.get_by_role("link", name=number)).to_be_visible()
    finally:
        customer.close()


def test_a_lead_publishes_an_article_that_a_customer_typing_a_ticket_is_offered(
    browser: Browser, page: Page, portal: Portal, shots: Shots
) -> None:
    word = f"zebraflux{uuid.uuid4().hex[:5]}"
    console_sign_in(page, portal, LEAD)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Knowledge base").click()
    page.get_by_label("Address (slug)").fill(f"{word}-restart")
    page.get_by_label("Title").fill(f"When {word} stops the scanner")
    page.get_by_label("Text", exact=True).fill(
        f"Restart the {word} service, then sign in again on the scanner."
    )
    page.get_by_label("Tags").fill("scanner, restart")
    page.get_by_label("Published (customers see it and it is suggested)").check()
    _accessible(page, "kb-editor", shots)
    page.get_by_role("button", name="Create the article").click()
    expect(page.get_by_role("heading", level=2, name=f"Edit: When {word} stops the scanner")).to_be_visible()
    page.get_by_label("A ticket's text").fill(f"The {word} stops every morning")
    page.get_by_role("button", name="Show the matches").click()
    expect(page.locator("#kb-preview")).to_contain_text(f"When {word} stops the scanner")

    customer = browser.new_context(locale="en-GB")
    try:
        typing = customer.new_page()
        typing.goto(portal.url)
        typing.get_by_label("E-mail").fill(CONTACT)
        typing.get_by_label("Password").fill(PASSWORD)
        typing.get_by_role("button", name="Sign in").click()
        typing.get_by_role("link", name="File a ticket").click()
        typing.get_by_label("What happens?").fill(f"Our {word} stops every morning")
        expect(typing.locator("#kb-suggestions")).to_contain_text(f"When {word} stops the scanner")
    finally:
        customer.close()


def _session_in_a_week(portal: Portal) -> tuple[dict[str, Any], str]:
    """A free remote session support proposed on a basic ticket, with an access secret provided."""
    service = portal.api(
        "POST",
        "/v1/services",
        SALES,
        json={
            "name": f"Remote fix {uuid.uuid4().hex[:6]}",
            "duration_minutes": 60,
            "price_minor": 100_000,
            "currency": "RUB",
            "checklist": [
                {"key": "remote_tool", "kind": "text", "label_en": "Remote tool", "label_ru": "Программа"},
                {"key": "access_secret", "kind": "secret", "label_en": "Password", "label_ru": "Пароль"},
            ],
        },
    )
    now = datetime.now(UTC)
    slots = portal.api(
        "GET",
        "/v1/availability",
        CONTACT,
        params={
            "service_id": service["id"],
            "from": now.isoformat(),
            "to": (now + timedelta(days=7)).isoformat(),
        },
    )["slots"]
    ticket = portal.api(
        "POST",
        "/v1/support/tickets",
        CONTACT,
        json=intake(project_name="Scanner", description="The scanners lose their connection."),
    )
    booking = portal.api(
        "POST",
        f"/v1/support/tickets/{ticket['id']}/remote-sessions",
        ENGINEER,
        json={"service_id": service["id"], "starts_at": slots[-1]["starts_at"]},
    )
    secret = f"pw-{uuid.uuid4().hex[:8]}"
    portal.api(
        "PUT",
        f"/v1/bookings/{booking['id']}/preconditions",
        CONTACT,
        json={"values": {"remote_tool": "AnyDesk", "access_secret": secret}},
    )
    return booking, secret


def _move_session(portal: Portal, booking_id: str, starts_at: datetime) -> None:
    """Time passing, without waiting: the session now starts at ``starts_at``."""
    ends_at = starts_at + timedelta(hours=1)
    moved = sa.update(Booking).values(
        starts_at=starts_at, ends_at=ends_at, blocked_from=starts_at, blocked_until=ends_at
    )
    _execute(portal, moved.where(col(Booking.id) == uuid.UUID(booking_id)))


def test_an_engineer_reveals_a_sessions_secrets_only_inside_its_window_and_sees_the_reveal_audited(
    page: Page, portal: Portal, shots: Shots
) -> None:
    booking, secret = _session_in_a_week(portal)
    console_sign_in(page, portal, ENGINEER)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="My sessions").click()
    link = page.get_by_role("link", name=re.compile(f"{booking['number']}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My sessions")
    berlin = ZoneInfo("Europe/Berlin")  # the browser's zone: its weeks start on its Mondays
    today = datetime.now(berlin).date()
    starts = datetime.fromisoformat(booking["starts_at"]).astimezone(berlin).date()
    for _ in range((starts - (today - timedelta(days=today.weekday()))).days // 7):
        page.get_by_role("button", name="Next week").click()
    expect(link).to_be_visible()
    _accessible(page, "sessions-week", shots)
    link.click()
    page.get_by_role("button", name="Reveal the secrets").click()
    expect(page.locator(".problem")).to_contain_text("Secrets are revealed from one hour before the session")
    expect(page.locator("#reveals")).to_have_text("Not revealed yet.")
    assert secret not in page.content()
    _accessible(page, "session-before-window", shots)

    _move_session(portal, booking["id"], datetime.now(UTC) + timedelta(minutes=30))
    page.reload()
    page.get_by_role("button", name="Reveal the secrets").click()
    expect(page.locator('[data-secret="access_secret"]')).to_have_text(secret)
    expect(page.locator("#reveals")).to_contain_text("revealed by you (access_secret)")
    _accessible(page, "session-revealed", shots)
    checklist = portal.api("GET", f"/v1/bookings/{booking['id']}/preconditions", CONTACT)
    assert [r["keys"] for r in checklist["reveals"]] == [["access_secret"]]


@page_behaviour
@pytest.mark.parametrize(
    ("email", "pages"),
    [
        (
            ADMIN,
            [
                "Queue",
                "Contracts",
                "Organisations",
                "Services",
                "Knowledge base",
                "Regulation",
                "Holidays",
                "Explanation requests",
                "Public statistics",
                "Outbox",
                "Staff",
                "Integration clients",
                "Webhooks",
                "Audit log",
            ],
        ),
        (SALES, ["Contracts", "Organisations", "Services"]),
        (
            LEAD,
            [
                "Queue",
                "My sessions",
                "Knowledge base",
                "Regulation",
                "Holidays",
                "Explanation requests",
                "Public statistics",
                "Outbox",
            ],
        ),
    ],
)
def test_every_page_a_role_is_offered_opens_and_passes_the_accessibility_check(
    page: Page, portal: Portal, shots: Shots, email: str, pages: list[str]
) -> None:
    console_sign_in(page, portal, email)
    navigation = page.get_by_role("navigation", name="Console")
    expect(navigation.get_by_role("link", name="Sign out")).to_be_visible()
    assert navigation.get_by_role("link").all_inner_texts() == [*pages, "Sign out"]
    for name in pages:
        navigation.get_by_role("link", name=name).click()
        expect(navigation.get_by_role("link", name=name)).to_have_attribute("aria-current", "page")
        expect(page.locator("main h1")).to_be_visible()
        expect(page.locator("main .loading")).to_have_count(0)
        assert page.locator("main > .problem").count() == 0, name
        _accessible(page, name, shots)
        page.set_viewport_size(
            {"width": 390, "height": 844}
        )  # a phone: wide tables scroll, the page does not
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
        page.set_viewport_size({"width": 1280, "height": 800})


@page_behaviour
def test_the_console_works_at_a_phone_width(browser: Browser, portal: Portal, shots: Shots) -> None:
    narrow = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    try:
        page = narrow.new_page()
        console_sign_in(page, portal, ENGINEER)
        expect(page.get_by_role("heading", level=1)).to_have_text("Ticket queue")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the table scrolls, not the page
        _accessible(page, "queue-390", shots)
    finally:
        narrow.close()


def test_an_engineer_cites_an_article_and_proposes_a_free_session_from_a_basic_ticket(
    page: Page, portal: Portal, shots: Shots
) -> None:
    word = f"quokkaflow{uuid.uuid4().hex[:5]}"
    slug = f"{word}-fix"
    article = {
        "slug": slug,
        "title": f"Fixing {word}",
        "body": f"When {word} fails, restart.",
        "published": True,
    }
    portal.api("POST", "/v1/kb/articles", LEAD, json=article)
    service_name = f"Remote check {uuid.uuid4().hex[:6]}"
    portal.api(
        "POST",
        "/v1/services",
        SALES,
        json={"name": service_name, "duration_minutes": 60, "price_minor": 100_000, "currency": "RUB"},
    )
    ticket = portal.api(
        "POST",
        "/v1/support/tickets",
        CONTACT,
        json=intake(project_name=f"The {word} fails", description=word),
    )
    console_sign_in(page, portal, ENGINEER)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ticket queue")
    page.goto(f"{portal.server.url}/console#/tickets/basic/{ticket['id']}")
    page.locator("#reply").get_by_label("Message").fill("Please try the article below.")
    page.get_by_role("button", name="Find articles").click()
    page.get_by_label(f"Cite “Fixing {word}”").check()
    page.locator("#reply").get_by_role("button", name="Send").click()
    expect(page.locator("#messages")).to_contain_text(f"See the article “Fixing {word}”.")
    stored = portal.api("GET", f"/v1/support/tickets/{ticket['id']}", CONTACT)
    assert [a["slug"] for a in stored["cited_articles"]] == [slug]

    page.get_by_label("Service", exact=True).select_option(label=service_name)
    page.get_by_role("button", name="Find free times").click()
    starts = page.get_by_label("Start", exact=True)
    expect(starts.locator("option").first).not_to_have_attribute("value", "")
    starts.select_option(index=0)
    _accessible(page, "ticket-proposal", shots)
    page.get_by_role("button", name="Propose the session").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(service_name)
    booking_id = page.url.rsplit("/", 1)[-1]
    booking = portal.api("GET", f"/v1/bookings/{booking_id}", CONTACT)
    assert (booking["funding"], booking["status"]) == ("support_ticket", "confirmed")


def _active_contract_far_ahead(portal: Portal) -> dict[str, Any]:
    """Romashka's contract years ahead (no other of its contracts reaches there)."""
    organization = portal.api("GET", "/v1/me", CONTACT)["organization"]["id"]
    starts = datetime.now(UTC).date() + timedelta(days=1600)
    draft = portal.api(
        "POST",
        "/v1/contracts",
        SALES,
        json={
            "organization_id": organization,
            "number": f"SLA-AMEND-{uuid.uuid4().hex[:6]}",
            "starts_on": starts.isoformat(),
            "ends_on": (starts + timedelta(days=364)).isoformat(),
            "signed_on": datetime.now(UTC).date().isoformat(),
            "terms": complete_terms(),
        },
    )
    activated: dict[str, Any] = portal.api("POST", f"/v1/contracts/{draft['id']}/activate", SALES)
    return activated


@page_behaviour
def test_sales_amend_a_contract_after_seeing_old_and_new_terms_side_by_side_then_terminate_it(
    page: Page, portal: Portal, shots: Shots
) -> None:
    contract = _active_contract_far_ahead(portal)
    console_sign_in(page, portal, SALES)
    page.goto(f"{portal.server.url}/console#/contracts/{contract['id']}")
    expect(page.locator("#contract-status")).to_have_text("active")
    amendment = page.locator("#amendment")
    effective = (datetime.fromisoformat(contract["starts_on"]) + timedelta(days=31)).date().isoformat()
    amendment.get_by_label("Effective from").fill(effective)
    amendment.get_by_label("Reason").fill("More session minutes, a higher fee")
    amendment.get_by_label("Monthly fee").fill("180000")
    amendment.get_by_role("button", name="Review the changes").click()
    changed = page.locator("#amendment-diff tr.changed")
    expect(changed).to_have_count(1)
    expect(changed).to_contain_text("Monthly fee")
    expect(changed).to_contain_text("150,000.00")
    expect(changed).to_contain_text("180,000.00")
    _accessible(page, "amendment-review", shots)
    amendment.get_by_role("button", name="Amend the contract").click()
    expect(page.locator(".notice")).to_have_text("The amendment was recorded.")
    expect(page.locator("#versions")).to_contain_text(f"Version 2 from {effective}")
    stored = portal.api("GET", f"/v1/contracts/{contract['id']}", SALES)
    assert stored["versions"][-1]["terms"]["monthly_fee_minor"] == 18_000_000

    termination = page.locator("#termination")
    ends = (datetime.fromisoformat(contract["starts_on"]) + timedelta(days=90)).date().isoformat()
    termination.get_by_label("Effective on").fill(ends)
    termination.get_by_label("Reason").fill("The customer moves to another product")
    termination.get_by_role("button", name="Terminate the contract").click()
    expect(page.locator(".notice")).to_have_text("The contract is terminated.")
    assert portal.api("GET", f"/v1/contracts/{contract['id']}", SALES)["terminated_on"] == ends


@page_behaviour
def test_sales_preview_a_purchases_file_before_recording_it(page: Page, portal: Portal, shots: Shots) -> None:
    organization = portal.api("GET", "/v1/me", CONTACT)["organization"]["id"]
    reference = f"INV-{uuid.uuid4().hex[:8]}"
    console_sign_in(page, portal, SALES)
    page.goto(f"{portal.server.url}/console#/organizations/{organization}")
    expect(page.locator("#eligibility")).to_contain_text("yes")
    page.get_by_label("CSV file").set_input_files(
        {
            "name": "purchases.csv",
            "mimeType": "text/csv",
            "buffer": f"{PURCHASES_HEADER}Mobile Server,2025-06-01,direct,,{reference}\n".encode(),
        }
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-rows")).to_contain_text(reference)
    assert reference not in str(
        portal.api("GET", f"/v1/organizations/{organization}/purchases?limit=200", SALES)
    )
    _accessible(page, "purchases-preview", shots)
    page.get_by_role("button", name="Record these 1").click()
    expect(page.locator(".notice")).to_have_text("1 purchase(s) recorded.")
    expect(page.locator("#purchases")).to_contain_text(reference)
