"""Malformed input never answers 5xx, and both databases answer it alike: text that PostgreSQL could
not store (a NUL) is refused at the edge for both, naming the field and where it was."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlmodel import col

from accounts.models import Organization
from accounts.roles import Role, Scope
from support.models import KbArticle, TicketMessage
from tests.support.helpers import file_ticket
from tests.world import World


def _field(problem: dict[str, object]) -> list[tuple[object, object]]:
    errors = problem.get("errors")
    assert isinstance(errors, list)
    return [(e["field"], e["source"]) for e in errors]


@pytest.mark.parametrize("year", ["0", "-1", "10000", "99999999999"])
async def test_an_impossible_holiday_year_is_a_422_not_a_500(world: World, year: str) -> None:
    _, headers = await world.staff(Role.SUPPORT_LEAD)
    response = await world.client.get("/v1/calendars/holidays", params={"year": year}, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"
    assert _field(response.json()) == [("year", "query")]


async def test_invalid_utf8_in_a_json_body_is_a_400_even_anonymously(world: World) -> None:
    response = await world.client.post(
        "/v1/auth/login",
        content=b'{"email":"a@b.c","password":"\xff\xfe"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"
    assert "UTF-8" in response.json()["detail"]


async def test_a_nul_in_the_login_email_is_refused_naming_the_field(world: World) -> None:
    response = await world.client.post("/v1/auth/login", json={"email": "a\u0000@b.c", "password": "x"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert _field(response.json()) == [("email", "body")]


async def test_a_nul_in_a_list_filter_is_refused_naming_the_query_parameter(world: World) -> None:
    _, admin = await world.staff(Role.ADMIN)
    for url, name in (("/v1/organizations", "name"), ("/v1/audit", "action"), ("/v1/audit", "subject_id")):
        response = await world.client.get(url, params={name: "x\u0000"}, headers=admin)
        assert response.status_code == 422, (url, response.text)
        assert _field(response.json()) == [(name, "query")]


async def test_a_nul_in_an_organization_name_is_refused_and_nothing_is_created(world: World) -> None:
    _, admin = await world.staff(Role.ADMIN)
    response = await world.client.post("/v1/organizations", json={"name": "Rom\u0000ashka"}, headers=admin)
    assert response.status_code == 422
    assert _field(response.json()) == [("name", "body")]
    async with world.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0


async def test_every_field_with_a_control_character_is_listed(world: World) -> None:
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    body = {"slug": "sync", "title": "Sync\u0007", "body": "ok", "tags": ["a\u0000"], "published": True}
    response = await world.client.post("/v1/kb/articles", json=body, headers=lead)
    assert response.status_code == 422
    assert sorted(_field(response.json())) == [("tags.0", "body"), ("title", "body")]
    async with world.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(KbArticle)) == 0


async def test_a_nul_in_a_ticket_message_is_refused_and_the_ticket_keeps_its_messages(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    response = await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/messages", json={"body": "see\u0000attached"}, headers=headers
    )
    assert response.status_code == 422
    assert _field(response.json()) == [("body", "body")]
    async with world.session() as session:
        count = await session.scalar(
            sa.select(sa.func.count()).where(col(TicketMessage.ticket_id) == uuid.UUID(ticket["id"]))
        )
    assert count == 0


async def test_line_breaks_and_tabs_are_ordinary_text(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    response = await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/messages",
        json={"body": "Line one\r\n\tLine two"},
        headers=headers,
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("name", ["   ", "\t\n"])
async def test_an_organization_name_of_white_space_alone_is_refused(world: World, name: str) -> None:
    _, admin = await world.staff(Role.ADMIN)
    response = await world.client.post("/v1/organizations", json={"name": name}, headers=admin)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert _field(response.json()) == [("name", "body")]


async def test_a_nul_in_a_purchases_csv_names_the_line_and_column(world: World) -> None:
    _, admin = await world.staff(Role.ADMIN)
    org = await world.organization()
    csv = "product,purchased_on,channel,partner_name,reference\nMobile\x00Server,2019-03-14,direct,,R-1\n"
    response = await world.client.post(
        f"/v1/organizations/{org.id}/purchases/import",
        content=csv.encode(),
        headers={**admin, "content-type": "text/csv"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "purchase_import_failed"
    assert _field(response.json()) == [("line 2.product", "body")]


async def test_a_nul_in_an_e_mail_is_dropped_not_a_500(world: World) -> None:
    _, contact, _ = await world.contact()
    client, _ = await world.integration(Scope.SUPPORT_INBOUND_EMAIL)
    raw = (
        f"From: {contact.email}\r\nTo: support@deskline.local\r\nSubject: Sync\x00 fails\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nTerminals stop\x00 syncing.\r\n"
    ).encode()
    response = await world.client.post(
        "/v1/support/inbound-email",
        content=raw,
        headers={**await world.headers(client), "content-type": "message/rfc822"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["project_name"] == "Sync fails"
    assert "\x00" not in response.json()["description"]


async def test_a_lone_surrogate_escaped_in_json_is_a_422_naming_the_field(world: World) -> None:
    _, admin = await world.staff(Role.ADMIN)
    response = await world.client.post(
        "/v1/organizations",
        content=b'{"name": "Rom\\ud800ashka"}',
        headers={**admin, "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert _field(response.json()) == [("name", "body")]
    async with world.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0


async def test_json_with_nan_stays_malformed(world: World) -> None:
    _, admin = await world.staff(Role.ADMIN)
    response = await world.client.post(
        "/v1/organizations", content=b'{"name": NaN}', headers={**admin, "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"
