"""The audit trail is append-only and readable by admins with filters."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from accounts.models import AuditEvent
from accounts.roles import Role, Scope
from tests.world import World


async def test_database_refuses_to_change_an_audit_event(world: World) -> None:
    await world.organization()  # creating an organisation is audited
    with pytest.raises(DBAPIError):
        async with world.session() as session:
            await session.execute(sa.update(AuditEvent).values(action="tampered"))


async def test_database_refuses_to_delete_an_audit_event(world: World) -> None:
    await world.organization()
    with pytest.raises(DBAPIError):
        async with world.session() as session:
            await session.execute(sa.delete(AuditEvent))


async def test_audit_filters_by_organization(world: World) -> None:
    first, second = await world.organization(), await world.organization()
    _, admin = await world.staff(Role.ADMIN)
    items = (await world.client.get(f"/v1/audit?organization_id={first.id}", headers=admin)).json()["items"]
    assert {i["organization_id"] for i in items} == {str(first.id)}
    assert str(second.id) not in str(items)


async def test_integration_with_audit_scope_reads_the_log(world: World) -> None:
    await world.organization()
    client, _ = await world.integration(Scope.AUDIT_READ)
    response = await world.client.get("/v1/audit", headers=await world.headers(client))
    assert response.status_code == 200
    assert response.json()["items"]
