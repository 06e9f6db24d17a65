"""The customer portal in a real browser (Chromium, headless) against a served Deskline with its Stripe
and mail stand-ins: a customer books, pays by card, prepares access, downloads the invite, subscribes to
the feed and cancels with the refund shown first; the designated contact files a complete ticket with an
upload and knowledge-base suggestions; refused actions show the API's problem where it belongs; the
language follows the browser and the switch; a covered user reads the contract, files an SLA ticket and
reads the month's report.

The journeys that store something (booking and paying, filing a ticket, the contract) run on both
databases; the ones about how the page behaves (a declined card, a refused form, the language) run on
SQLite only, to keep the suite within its time."""

from __future__ import annotations

import email
import email.policy
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.contracts.helpers import complete_terms
from tests.portal.conftest import CONTACT, Portal, Shots, sign_in


def _mail_subjects(portal: Portal) -> list[str]:
    subjects = []
    for path in portal.mail.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        subjects.append(str(message["Subject"]))
    return subjects


def _wait_for_mail(portal: Portal, pattern: str, seconds: float = 20) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [s for s in _mail_subjects(portal) if re.search(pattern, s)]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no mail matching {pattern!r}; got {_mail_subjects(portal)}")


def _hold_first_slot(page: Page, shots: Shots) -> str:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Book a session").click()
    page.get_by_label(re.compile("Remote session")).check()
    this_week = page.locator("#week").inner_text()
    page.locator("#next-week").click()  # a week ahead: well before the refund deadline
    expect(page.locator("#week")).not_to_have_text(this_week)
    slot = page.locator("button.slot").last
    expect(slot).to_be_visible()
    shots.take(page, "free-slots")
    slot.click()
    page.get_by_role("button", name="Hold this time").click()
    expect(page.locator("#payment")).to_be_visible()
    shots.take(page, "payment")
    number = re.search(r"RS-\d+", page.locator("h1").inner_text())
    assert number is not None
    return number.group(0)


def _pay(page: Page, card: str) -> None:
    page.get_by_label("Card number").fill(card)
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()


def _booking_id(page: Page) -> str:
    return page.url.rsplit("/", 1)[1]


page_behaviour = pytest.mark.parametrize("portal", ["sqlite"], indirect=True)


def test_a_customer_books_pays_by_card_prepares_access_and_cancels_with_the_refund_shown_first(
    page: Page, portal: Portal, shots: Shots
) -> None:
    sign_in(page, portal)
    number = _hold_first_slot(page, shots)
    _pay(page, "4242 4242 4242 4242")
    expect(page.locator("#booking-status")).to_have_text("confirmed", timeout=30_000)  # Stripe's webhook
    shots.take(page, "confirmed")
    assert re.search(
        r"Сессия подтверждена|session is confirmed",
        _wait_for_mail(portal, re.escape(number) + ".*(подтверждена|confirmed)"),
    )

    page.get_by_label("Remote-access tool *").select_option("AnyDesk")
    page.get_by_label("Tool ID or address *").fill("123 456 789")
    page.get_by_label("Access password or key *").fill("s3cret-one-time-password")
    page.get_by_label("Customer administrator present (name, phone) *").fill("Ivan, +7 900 000-00-00")
    page.get_by_label("Database backup made *").check()
    page.get_by_role("button", name="Save preconditions").click()
    expect(page.locator("#booking-status")).to_have_text("ready")
    secret = page.get_by_label("Access password or key *")
    expect(secret).to_have_value("")
    expect(secret).to_have_attribute("placeholder", "provided (hidden)")
    assert "s3cret-one-time-password" not in page.content()
    shots.take(page, "preconditions")

    with page.expect_download() as download:
        page.locator("#invite").click()
    assert b"BEGIN:VCALENDAR" in Path(download.value.path()).read_bytes()
    page.locator("#feed").click()
    expect(page.locator("#feed-url")).to_have_value(re.compile(r"/v1/calendar-feeds/"))

    page.get_by_role("button", name="Cancel the session…").click()
    expect(page.locator("#refund-policy")).to_contain_text("refunds your payment of RUB 5,000.00 in full")
    shots.take(page, "cancel-confirmation")
    page.get_by_role("button", name="Cancel the session", exact=True).click()
    expect(page.locator("#booking-status")).to_have_text("cancelled")
    booking = portal.api("GET", f"/v1/bookings/{_booking_id(page)}", CONTACT)
    assert (booking["status"], booking["cancellation_refund"]) == ("cancelled", "full")


@page_behaviour
def test_a_declined_card_says_so_and_the_hold_waits_for_another_card(
    page: Page, portal: Portal, shots: Shots
) -> None:
    sign_in(page, portal)
    _hold_first_slot(page, shots)
    _pay(page, "4000 0000 0000 0002")
    expect(page.locator("#payment .problem")).to_contain_text("Your card was declined.")
    expect(page.get_by_label("Card number")).to_have_value("4000 0000 0000 0002")  # nothing typed is lost
    booking = portal.api("GET", f"/v1/bookings/{_booking_id(page)}", CONTACT)
    assert booking["status"] == "pending_payment"


def test_the_designated_contact_files_a_complete_ticket_with_an_upload_and_suggested_articles(
    page: Page, portal: Portal, shots: Shots
) -> None:
    slug = f"sync-{portal.backend}-{time.monotonic_ns()}"
    portal.api(
        "POST",
        "/v1/kb/articles",
        "lead@deskline.demo",
        json={
            "slug": slug,
            "title": "Terminals stop synchronising",
            "body": "Restart the exchange service.",
            "published": True,
        },
    )
    sign_in(page, portal)
    page.get_by_role("link", name="File a ticket").click()
    page.get_by_label("Project name").fill("Warehouse terminals")
    page.get_by_label("What happens?").fill("Terminals stop synchronising after the update")
    expect(page.locator("#kb-suggestions")).to_contain_text("Terminals stop synchronising")
    page.get_by_label("Impact on your work").fill("Nobody can ship orders")
    page.get_by_label("Affected applications").fill("Mobile warehouse")
    page.get_by_label("Employees affected").fill("12")
    page.get_by_label("Steps to reproduce").fill("Install the update, then synchronise")
    page.get_by_label("Mobile-device database file", exact=True).set_input_files(
        {
            "name": "devices.db",
            "mimeType": "application/octet-stream",
            "buffer": b"SQLite format 3\x00" + bytes(512),
        }
    )
    page.get_by_label("Link to the exchange-directory archive", exact=True).fill(
        "https://files.example.com/exchange.zip"
    )
    shots.take(page, "ticket-form")
    page.get_by_role("button", name="File the ticket").click()
    expect(page.locator(".notice")).to_contain_text("was filed")
    expect(page.locator("#ticket-clock")).to_contain_text("First response due by")
    expect(page.locator("#missing")).to_have_count(0)
    shots.take(page, "ticket")
    ticket = portal.api("GET", f"/v1/support/tickets/{page.url.rsplit('/', 1)[1]}", CONTACT)
    assert ticket["missing"] == []
    assert [(a["filename"], a["kind"]) for a in ticket["attachments"]] == [("devices.db", "device_database")]

    page.get_by_label("Your reply").fill("It happens on every terminal.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".messages")).to_contain_text("It happens on every terminal.")


@page_behaviour
def test_a_refused_ticket_shows_the_problem_next_to_each_field_and_keeps_what_was_typed(
    page: Page, portal: Portal, shots: Shots
) -> None:
    before = portal.api("GET", "/v1/support/tickets?limit=100", CONTACT)["items"]
    sign_in(page, portal)
    page.get_by_role("link", name="File a ticket").click()
    page.get_by_label("Project name").fill("Warehouse terminals")
    page.get_by_role("button", name="File the ticket").click()
    expect(page.locator("form .problem")).to_contain_text("Validation failed")
    description = page.get_by_label("What happens?")
    expect(description).to_have_attribute("aria-invalid", "true")
    expect(page.locator('[data-error-for="description"]')).not_to_be_empty()
    expect(page.get_by_label("Project name")).to_have_value("Warehouse terminals")
    shots.take(page, "refused")
    assert portal.api("GET", "/v1/support/tickets?limit=100", CONTACT)["items"] == before


@page_behaviour
def test_the_portal_speaks_the_browsers_language_until_switched_and_problems_follow(
    russian_page: Page, portal: Portal, shots: Shots
) -> None:
    page = russian_page
    page.goto(portal.url)
    expect(page.locator("h1")).to_have_text("Вход в портал поддержки")
    page.get_by_label("Электронная почта").fill(CONTACT)
    page.get_by_label("Пароль").fill("not-the-password")
    page.get_by_role("button", name="Войти").click()
    expect(page.locator(".problem")).to_contain_text("Неверные учётные данные")
    shots.take(page, "russian")
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Sign in to the support portal")
    page.get_by_label("Password").fill("not-the-password-either")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".problem")).to_contain_text("Invalid credentials")
    page.reload()
    expect(page.locator("h1")).to_have_text("Sign in to the support portal")  # the choice is kept


def _contract_for_romashka(portal: Portal) -> dict[str, Any]:  # Any: the API's JSON
    """Romashka's contract in force (one is made the first time; a served portal lives for the run)."""
    for existing in portal.api("GET", "/v1/contracts?limit=50", CONTACT)["items"]:
        if existing["status"] == "active" and existing["in_force"]:
            found: dict[str, Any] = existing
            return found
    organization = portal.api("GET", "/v1/me", CONTACT)["organization"]["id"]
    today = datetime.now(UTC).date()
    draft = portal.api(
        "POST",
        "/v1/contracts",
        "sales@deskline.demo",
        json={
            "organization_id": organization,
            "number": f"SLA-PORTAL-{portal.backend}-{time.monotonic_ns()}",
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=364)).isoformat(),
            "signed_on": today.isoformat(),
            "terms": complete_terms(),
        },
    )
    activated: dict[str, Any] = portal.api(
        "POST", f"/v1/contracts/{draft['id']}/activate", "sales@deskline.demo"
    )
    return activated


def test_a_covered_user_reads_the_contract_files_an_sla_ticket_and_reads_the_months_report(
    page: Page, portal: Portal, shots: Shots
) -> None:
    contract = _contract_for_romashka(portal)
    sign_in(page, portal)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="SLA contracts").click()
    page.get_by_role("link", name=contract["number"]).click()
    expect(page.locator("table caption")).to_have_text("Targets (business minutes)")
    shots.take(page, "contract")
    page.get_by_label("Priority").select_option("P2")
    page.get_by_label("Subject").fill("Orders do not reach the terminals")
    page.get_by_label("Description").fill("Since 9:00 no order arrives.")
    page.get_by_role("button", name="File the SLA ticket").click()
    expect(page.locator("#sla-priority")).to_have_text("P2")
    expect(page.locator("#sla-timers")).to_contain_text("First response")
    sla_id = page.url.rsplit("/", 1)[1]
    page.get_by_role("link", name="Back").click()
    page.get_by_label("Month").fill(datetime.now(UTC).strftime("%Y-%m"))
    page.get_by_role("button", name="Show the report").click()
    expect(page.locator("#report-breaches")).to_have_text("0")
    shots.take(page, "report")
    ticket = portal.api("GET", f"/v1/contracts/{contract['id']}/tickets/{sla_id}", CONTACT)
    assert (ticket["clock"]["priority"], ticket["subject"]) == ("P2", "Orders do not reach the terminals")
