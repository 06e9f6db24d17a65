"""Every error leaves as an RFC 9457 problem with a stable code, in English or Russian."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import exc as sa_exc
from sqlmodel import col

from accounts.roles import Role
from api.controllers import organizations as organizations_controller
from core.counters import Counter
from tests.support.helpers import intake
from tests.world import World

PROBLEM = "application/problem+json"


async def test_unknown_route_is_a_404_problem(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == "not_found"
    assert body["type"] == "urn:deskline:problem:not_found"
    assert body["status"] == 404
    assert body["title"] == "Not found"
    assert body["detail"]


async def test_wrong_method_is_a_405_problem(client: AsyncTestClient[Litestar]) -> None:
    response = await client.delete("/health")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


async def test_malformed_json_is_a_400_problem(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(
        "/v1/auth/login", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


async def test_missing_field_is_a_422_problem_naming_the_field(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/v1/auth/login", json={"email": "a@example.com"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert {
        "field": "password",
        "code": "required",
        "message": "required",
        "source": "body",
    } in body["errors"]


async def test_unknown_field_on_a_write_model_is_refused(world: World) -> None:
    _, headers = await world.staff(Role.ADMIN)
    response = await world.client.post(
        "/v1/organizations", json={"name": "Acme", "colour": "red"}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "colour"
    listing = await world.client.get("/v1/organizations", headers=headers)
    assert listing.json()["items"] == []


async def test_wrong_content_type_is_refused_and_nothing_is_written(world: World) -> None:
    _, headers = await world.staff(Role.ADMIN)
    response = await world.client.post(
        "/v1/organizations", content=b"name=Acme", headers={**headers, "content-type": "text/plain"}
    )
    assert response.status_code in {400, 415}
    assert response.headers["content-type"].startswith(PROBLEM)
    listing = await world.client.get("/v1/organizations", headers=headers)
    assert listing.json()["items"] == []


async def test_oversized_body_is_a_413_problem(world: World) -> None:
    _, headers = await world.staff(Role.ADMIN)
    limit = world.ctx.settings.max_request_body_bytes
    response = await world.client.post(
        "/v1/organizations",
        content=b'{"name": "' + b"x" * (limit + 1) + b'"}',
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


async def test_invalid_uuid_in_path_is_a_404_problem(world: World) -> None:
    _, headers = await world.staff(Role.ADMIN)
    response = await world.client.get("/v1/organizations/not-a-uuid", headers=headers)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_title_is_russian_when_the_caller_prefers_russian(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/v1/no-such-thing", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert response.json()["title"] == "Не найдено"
    assert response.headers["content-language"] == "ru"


async def test_title_is_english_when_english_is_ranked_higher(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/v1/no-such-thing", headers={"Accept-Language": "ru;q=0.3, en;q=0.8"})
    assert response.json()["title"] == "Not found"


async def test_unexpected_exception_is_a_500_problem_without_internals(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(organizations_controller, "list_organizations", explode)
    _, headers = await world.staff(Role.ADMIN)
    response = await world.client.get("/v1/organizations", headers=headers)
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal_error"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    # A 500 is never part of the contract: the suite's check of every response flags it too.
    contract = world.app.state.contract
    assert contract.violations == ["GET /v1/organizations answered 500, which is not documented"]
    contract.violations.clear()


async def test_an_empty_ticket_body_lists_every_missing_field(world: World) -> None:
    _, _, headers = await world.contact()
    response = await world.client.post("/v1/support/tickets", json={}, headers=headers)
    assert response.status_code == 422
    missing = {e["field"] for e in response.json()["errors"] if e["message"] == "required"}
    assert missing == {
        "project_name",
        "description",
        "affected_applications",
        "steps_to_reproduce",
        "impact",
        "affected_employees",
    }


async def test_a_bad_value_and_an_unknown_field_are_listed_together(world: World) -> None:
    _, _, headers = await world.contact()
    body = {**intake(), "affected_employees": "forty", "colour": "blue"}
    response = await world.client.post("/v1/support/tickets", json=body, headers=headers)
    assert response.status_code == 422
    fields = {(e["field"], e["source"]) for e in response.json()["errors"]}
    assert fields == {("affected_employees", "body"), ("colour", "body")}


async def test_a_query_error_names_the_parameter_as_sent(world: World) -> None:
    _, headers = await world.staff(Role.SUPPORT_LEAD)
    response = await world.client.get(
        "/v1/support/stats", params={"from": "2026-13", "to": "2026-02"}, headers=headers
    )
    assert response.status_code == 422
    assert [(e["field"], e["source"]) for e in response.json()["errors"]] == [("from", "query")]


async def _a_deadlock(world: World) -> sa_exc.DBAPIError:
    """What PostgreSQL answers the loser of two transactions that each wait for the other's row."""
    async with world.session() as session:
        session.add_all([Counter(name="left"), Counter(name="right")])
    first_taken, second_taken = asyncio.Event(), asyncio.Event()

    async def take(mine: str, theirs: str, took: asyncio.Event, other: asyncio.Event) -> None:
        async with world.session() as session:
            await session.execute(sa.update(Counter).where(col(Counter.name) == mine).values(value=1))
            took.set()
            await other.wait()
            await session.execute(sa.update(Counter).where(col(Counter.name) == theirs).values(value=2))

    outcomes = await asyncio.gather(
        take("left", "right", first_taken, second_taken),
        take("right", "left", second_taken, first_taken),
        return_exceptions=True,
    )
    [lost] = [o for o in outcomes if isinstance(o, BaseException)]
    assert isinstance(lost, sa_exc.DBAPIError), lost
    return lost


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has one writer: no deadlock
async def test_a_deadlock_the_database_broke_is_a_503_to_retry_not_a_500(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    deadlock = await _a_deadlock(world)

    async def lose(*_args: object, **_kwargs: object) -> None:
        raise deadlock

    monkeypatch.setattr(organizations_controller, "list_organizations", lose)
    _, headers = await world.staff(Role.ADMIN)
    response = await world.client.get("/v1/organizations", headers=headers)
    assert response.status_code == 503
    assert response.json()["code"] == "database_busy"
    assert response.headers["retry-after"]
