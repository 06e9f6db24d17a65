"""How a request uses the database: a write with a JSON body is one transaction, begun only once its
body has arrived, and the caller is looked up inside it; nothing is held while a client sends slowly;
a refused caller leaves no transaction (nor SQLite's write lock) behind."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from accounts.roles import Role
from benchmarks.filing_cpu import json_post_scope
from support import Ticket
from tests.support.helpers import intake
from tests.world import World


@contextmanager
def transactions_begun(world: World) -> Iterator[list[str]]:
    """Each transaction the app begins, and the SQL inside it, as one entry per BEGIN."""
    begun: list[str] = []
    engines = [world.ctx.alchemy.get_engine().sync_engine, world.ctx.read_engine.sync_engine]

    def on_begin(*_: Any) -> None:  # Any: SQLAlchemy's event arguments
        begun.append("")

    def on_statement(*args: Any) -> None:
        if begun and not str(args[2]).startswith("BEGIN"):
            begun[-1] += " ".join(str(args[2]).split())[:60] + "; "

    for engine in engines:
        sa.event.listen(engine, "begin", on_begin)
        sa.event.listen(engine, "before_cursor_execute", on_statement)
    try:
        yield begun
    finally:
        for engine in engines:
            sa.event.remove(engine, "begin", on_begin)
            sa.event.remove(engine, "before_cursor_execute", on_statement)


async def _tickets_stored(world: World) -> int:
    async with world.session() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(Ticket)) or 0)


def _connections_held(world: World) -> int:
    """Connections of the write pool checked out now."""
    held: int = world.ctx.alchemy.get_engine().sync_engine.pool.checkedout()  # type: ignore[attr-defined]
    return held


async def test_filing_a_ticket_is_one_transaction_that_also_looks_up_the_caller(world: World) -> None:
    _, _, customer = await world.contact()
    with transactions_begun(world) as begun:
        response = await world.client.post("/v1/support/tickets", json=intake(), headers=customer)
    assert response.status_code == 201, response.text
    assert len(begun) == 1, begun
    assert begun[0].startswith("SELECT accounts_user.id") or "; SELECT accounts_user.id" in begun[0], begun
    # Stored in that transaction: on PostgreSQL by one statement after the lookup, receipt and all; on
    # SQLite by one call on the connection's thread (core.prepared), which SQLAlchemy's events do not see.
    if world.ctx.settings.is_sqlite:
        assert await _tickets_stored(world) == 1
    else:
        statements = begun[0].split("; ")
        lookup = next(i for i, s in enumerate(statements) if s.startswith("SELECT accounts_user.id"))
        assert any(s.startswith("WITH facts AS") for s in statements[lookup + 1 :]), begun


async def test_a_read_still_looks_up_the_caller_without_a_writers_transaction(world: World) -> None:
    _, _, customer = await world.contact()
    with transactions_begun(world) as begun:
        response = await world.client.get("/v1/support/tickets", headers=customer)
    assert response.status_code == 200
    assert len(begun) == 1
    assert "SELECT accounts_user.id" in begun[0]


async def _asgi_post(
    world: World, path: str, body: bytes, headers: dict[str, str], arrived: asyncio.Event
) -> Any:
    """POST through the app's ASGI interface, the body in two halves with a pause between them that
    lasts until ``arrived`` is set; the response status."""
    halves = [body[: len(body) // 2], body[len(body) // 2 :]]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if len(halves) == 1:
            await arrived.wait()
        if not halves:
            await asyncio.Event().wait()  # the client stays connected
        chunk = halves.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(halves)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = json_post_scope(path, body, [(k.lower().encode(), v.encode()) for k, v in headers.items()])
    await world.app(scope, receive, send)  # type: ignore[arg-type]
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


async def test_a_slow_body_holds_no_connection_while_it_arrives(world: World) -> None:
    _, _, customer = await world.contact()
    arrived = asyncio.Event()
    body = json.dumps(intake()).encode()
    request = asyncio.ensure_future(_asgi_post(world, "/v1/support/tickets", body, customer, arrived))
    await asyncio.sleep(0.2)  # the first half is in; the client pauses
    assert not request.done()
    assert _connections_held(world) == 0
    arrived.set()
    assert await request == 201
    assert _connections_held(world) == 0


async def test_a_refused_writer_leaves_no_transaction_and_the_next_write_proceeds(world: World) -> None:
    org, _, customer = await world.contact()
    colleague = await world.headers(await world.user(Role.CUSTOMER_USER, org))
    refused = await world.client.post("/v1/support/tickets", json=intake(), headers=colleague)
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_support_contact"
    assert _connections_held(world) == 0
    filed = await world.client.post("/v1/support/tickets", json=intake(), headers=customer)
    assert filed.status_code == 201
    assert await _tickets_stored(world) == 1


async def test_an_invalid_token_on_a_write_leaves_no_transaction(world: World) -> None:
    _, _, customer = await world.contact()
    response = await world.client.post(
        "/v1/support/tickets", json=intake(), headers={"Authorization": "Bearer not.a.token"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert _connections_held(world) == 0
    assert (
        await world.client.post("/v1/support/tickets", json=intake(), headers=customer)
    ).status_code == 201


async def test_a_write_refused_for_its_body_after_the_caller_was_looked_up_leaves_no_transaction(
    world: World,
) -> None:
    _, _, customer = await world.contact()
    refused = await world.client.post(
        "/v1/support/tickets", json=intake(project_name="Bell\u0007"), headers=customer
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "control_character"
    assert _connections_held(world) == 0
    unknown = await world.client.post("/v1/support/tickets", json=intake(colour="red"), headers=customer)
    assert unknown.status_code == 422
    assert _connections_held(world) == 0
    filed = await world.client.post("/v1/support/tickets", json=intake(), headers=customer)
    assert filed.status_code == 201
    assert await _tickets_stored(world) == 1
