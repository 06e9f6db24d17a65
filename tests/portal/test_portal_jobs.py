"""The portal finishes each job, in the customer's words and time: a paid session is moved with what
changes shown first; an SLA customer reads the invoices and downloads one; the booking page shows a week
at a time; refused fields are explained in the customer's language; an unknown address is a real page;
and every page passes an accessibility check (axe-core, vendored for the tests only) with no serious
violation. These are about how the page behaves, so they run on SQLite (the journeys that store money
and tickets run on both databases in test_portal.py)."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.db import create_engine
from api.settings import load_settings
from billing import ChargeLine, record_invoice
from tests.portal.conftest import CONTACT, Portal, Shots, sign_in
from tests.portal.test_portal import _booking_id, _contract_for_romashka, _hold_first_slot, _pay

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
page_behaviour = pytest.mark.parametrize("portal", ["sqlite"], indirect=True)


def _serious_violations(page: Page) -> list[str]:
    """What axe-core finds wrong on the page as it is now, serious or critical only."""
    page.evaluate(AXE)  # evaluated, not injected: the portal's CSP allows no inline script
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, { resultTypes: ['violations'] })).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in {"serious", "critical"}
    ]


def _accessible(page: Page, name: str, shots: Shots) -> None:
    shots.take(page, name)
    assert _serious_violations(page) == [], name


@page_behaviour
def test_a_customer_moves_a_paid_session_after_seeing_what_changes(
    page: Page, portal: Portal, shots: Shots
) -> None:
    sign_in(page, portal)
    _hold_first_slot(page, shots)
    _pay(page, "4242 4242 4242 4242")
    expect(page.locator("#booking-status")).to_have_text("confirmed", timeout=30_000)
    before = portal.api("GET", f"/v1/bookings/{_booking_id(page)}", CONTACT)
    page.get_by_role("button", name="Move to another time…").click()
    this_week = page.locator("#week").inner_text()
    page.locator("#reschedule #next-week").click()
    expect(page.locator("#week")).not_to_have_text(this_week)
    target = page.locator("#reschedule button.slot").first
    new_start = target.get_attribute("data-start")
    target.click()
    change = page.locator("#reschedule-change")
    expect(change).to_contain_text("The price stays RUB 5,000.00")
    expect(change).to_contain_text("(Europe/Moscow)")  # the organisation's zone, named
    shots.take(page, "reschedule-confirmation")
    page.get_by_role("button", name="Move the session").click()
    expect(page.locator(".notice")).to_have_text("The session was moved.")
    after = portal.api("GET", f"/v1/bookings/{_booking_id(page)}", CONTACT)
    assert after["status"] == "confirmed"
    assert new_start is not None
    assert datetime.fromisoformat(after["starts_at"]) == datetime.fromisoformat(new_start)
    assert after["starts_at"] != before["starts_at"]


def _invoice_for(portal: Portal, organization_id: str, contract_id: str) -> str:
    """An invoice of last month for Romashka, recorded as the monthly run records one."""

    async def record() -> str:
        engine = create_engine(load_settings(database_url=portal.database_url))
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
                invoice = await record_invoice(
                    session,
                    organization_id=uuid.UUID(organization_id),
                    source="contract",
                    source_id=uuid.UUID(contract_id),
                    period=datetime.now(UTC).strftime("%Y-%m"),
                    currency="RUB",
                    lines=[ChargeLine("Monthly fee", 15_000_000), ChargeLine("Service credit", -750_000)],
                    now=datetime.now(UTC),
                )
                return str(invoice.number)
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(1) as thread:  # away from Playwright's event loop
        return thread.submit(asyncio.run, record()).result()


@page_behaviour
def test_an_sla_customer_reads_the_invoices_with_their_lines_and_downloads_one(
    page: Page, portal: Portal, shots: Shots
) -> None:
    contract = _contract_for_romashka(portal)
    number = _invoice_for(portal, contract["organization_id"], contract["id"])
    sign_in(page, portal)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invoices").click()
    row = page.locator("#invoices tr", has_text=number)
    expect(row).to_contain_text("Monthly fee")
    expect(row).to_contain_text("RUB 142,500.00")
    _accessible(page, "invoices", shots)
    with page.expect_download() as download:
        row.get_by_role("button", name=f"Download {number} (CSV)").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows[-1][3:5] == ["total", "142500.00"]


@page_behaviour
def test_the_booking_page_shows_one_week_at_a_time_and_names_each_start_with_its_day(
    page: Page, portal: Portal, shots: Shots
) -> None:
    sign_in(page, portal)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Book a session").click()
    page.get_by_label(re.compile("Remote session")).check()
    expect(page.locator("#previous-week")).to_be_disabled()  # nothing before this week
    page.locator("#next-week").click()
    expect(page.locator("#previous-week")).to_be_enabled()
    slot = page.locator("button.slot").first
    expect(slot).to_be_visible()
    label = slot.get_attribute("aria-label") or ""
    assert re.match(r"^\w+ \d{1,2} \w+, \d{2}:\d{2}$", label), label  # e.g. "Monday 14 December, 09:00"
    slots = page.locator("button.slot")
    starts = {slots.nth(i).get_attribute("data-start") for i in range(slots.count())}
    days = {datetime.fromisoformat(s or "").date() for s in starts}
    assert max(days) - min(days) < datetime(2000, 1, 8) - datetime(2000, 1, 1)  # one week at most
    _accessible(page, "book-week", shots)


@page_behaviour
def test_refused_fields_are_explained_in_the_customers_language(
    russian_page: Page, portal: Portal, shots: Shots
) -> None:
    page = russian_page
    page.goto(portal.url)
    page.get_by_label("Электронная почта").fill(CONTACT)
    page.get_by_label("Пароль").fill("deskline-demo-password")
    page.get_by_role("button", name="Войти").click()
    page.locator("#eligibility").wait_for()
    page.get_by_role("link", name="Подать обращение").first.click()
    page.get_by_label("Название проекта").fill("Склад")
    page.get_by_role("button", name="Подать обращение").click()
    expect(page.locator("form .problem")).to_contain_text("Ошибка проверки данных")
    expect(page.locator("form .problem")).to_contain_text("Данные запроса не прошли проверку")
    expect(page.locator('[data-error-for="description"]')).to_have_text("не может быть пустым")
    expect(page.locator('[data-error-for="affected_employees"]')).to_contain_text("ожидается целое число")
    for word in ("Expected", "Object missing"):
        expect(page.locator("form")).not_to_contain_text(word)
    _accessible(page, "refused-russian", shots)
    page.get_by_role("button", name="English").click()  # the same form, now in English
    page.get_by_label("Project name").fill("Warehouse")
    page.get_by_role("button", name="File the ticket").click()
    expect(page.locator('[data-error-for="description"]')).to_have_text("must not be empty")


@page_behaviour
def test_an_unknown_address_is_a_page_with_a_heading_and_a_way_back(
    page: Page, portal: Portal, shots: Shots
) -> None:
    sign_in(page, portal)
    page.goto(f"{portal.url}#/no-such-page")
    expect(page.locator("h1")).to_have_text("Page not found")
    _accessible(page, "not-found", shots)
    page.get_by_role("link", name="Go to the home page").click()
    expect(page.locator("#eligibility")).to_be_visible()
    page.goto(f"{portal.url}#/bookings/{uuid.uuid4()}")  # someone else's, or nobody's
    expect(page.locator("h1")).to_have_text("Page not found")


@page_behaviour
def test_every_page_passes_the_accessibility_check_in_both_languages(
    page: Page, portal: Portal, shots: Shots
) -> None:
    page.goto(portal.url)
    _accessible(page, "sign-in", shots)
    sign_in(page, portal)
    tickets = portal.api("GET", "/v1/support/tickets?limit=1", CONTACT)["items"]
    bookings = portal.api("GET", "/v1/bookings?limit=1", CONTACT)["items"]
    pages = ["#/", "#/tickets", "#/tickets/new", "#/book", "#/bookings", "#/contracts", "#/invoices"]
    pages += [f"#/tickets/{t['id']}" for t in tickets] + [f"#/bookings/{b['id']}" for b in bookings]
    for language in ("English", "Русский"):
        page.get_by_role("button", name=language).click()
        for address in pages:
            page.goto(f"{portal.url}{address}")
            page.locator("main h1").first.wait_for()
            expect(page.locator("main")).not_to_contain_text("null")
            _accessible(page, f"{language}-{address}", shots)
    # Russian throughout: the navigation's own name too.
    expect(page.get_by_role("navigation", name="Главное меню")).to_be_visible()
    expect(page.get_by_role("group", name="Язык")).to_be_visible()


@page_behaviour
def test_my_sessions_lists_service_engineer_price_and_payment_under_headers(
    page: Page, portal: Portal, shots: Shots
) -> None:
    sign_in(page, portal)
    _hold_first_slot(page, shots)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My sessions").click()
    headers = page.locator("#sessions thead th")
    expect(headers).to_have_text(["Number", "When", "Service", "Engineer", "Price", "Payment", "Status"])
    row = page.locator("#sessions tbody tr").first
    expect(row).to_contain_text("Remote session (1 hour)")
    expect(row).to_contain_text("RUB 5,000.00")
    expect(row).to_contain_text("to be paid")


@page_behaviour
def test_the_accessibility_check_finds_what_it_should(page: Page, portal: Portal) -> None:
    # Not vacuous: a nameless button on the sign-in page is a serious violation to axe.
    page.goto(portal.url)
    page.locator("main h1").wait_for()
    page.evaluate("() => document.querySelector('main').append(document.createElement('button'))")
    assert any(v.startswith("button-name") for v in _serious_violations(page))
