"""Admins manage the vendor's own people: list them by role, add one with a staff role, change a role
or deactivate (audited, their tokens end); nobody changes their own standing; customers are not staff."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import col

from accounts.models import AuditEvent, User
from accounts.roles import Role
from tests.world import World


async def test_an_admin_lists_staff_by_role_and_customers_are_not_among_them(world: World) -> None:
    engineer, _ = await world.staff(Role.SUPPORT_ENGINEER)
    sales, _ = await world.staff(Role.SALES)
    await world.user(Role.CUSTOMER_USER, await world.organization())
    _, admin = await world.staff(Role.ADMIN)
    everyone = (await world.client.get("/v1/staff?limit=200", headers=admin)).json()["items"]
    assert {str(engineer.id), str(sales.id)} <= {u["id"] for u in everyone}
    assert all(u["role"] not in {"customer_user", "customer_admin"} for u in everyone)
    engineers = (await world.client.get("/v1/staff?role=support_engineer", headers=admin)).json()["items"]
    assert [u["id"] for u in engineers] == [str(engineer.id)]


async def test_an_admin_adds_a_member_of_staff_with_a_staff_role(world: World) -> None:
    _, admin = await world.staff(Role.ADMIN)
    response = await world.client.post(
        "/v1/staff",
        json={"email": "new.lead@deskline.example", "full_name": "Nina Lead", "role": "support_lead"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    assert (response.json()["role"], response.json()["organization_id"]) == ("support_lead", None)


async def test_a_customer_role_is_refused_for_staff_and_nothing_is_created(world: World) -> None:
    _, admin = await world.staff(Role.ADMIN)
    response = await world.client.post(
        "/v1/staff",
        json={"email": "not.staff@example.com", "full_name": "Not Staff", "role": "customer_user"},
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "role"
    assert response.json()["errors"][0]["code"] == "not_allowed"
    async with world.session() as session:
        assert (
            await session.scalar(sa.select(sa.func.count()).where(col(User.email) == "not.staff@example.com"))
            == 0
        )


async def test_a_role_change_is_audited_and_takes_effect_at_once(world: World) -> None:
    engineer, engineer_headers = await world.staff(Role.SUPPORT_ENGINEER)
    _, admin = await world.staff(Role.ADMIN)
    path = f"/v1/staff/{engineer.id}"
    response = await world.client.patch(path, json={"role": "support_lead"}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "support_lead"
    assert (await world.client.get("/v1/me", headers=engineer_headers)).json()["roles"] == ["support_lead"]
    about = sa.select(col(AuditEvent.action)).where(col(AuditEvent.subject_id) == str(engineer.id))
    async with world.session() as session:
        actions = (await session.scalars(about)).all()
    assert "user_role_changed" in actions


async def test_a_deactivated_member_of_staff_is_refused_at_once(world: World) -> None:
    engineer, engineer_headers = await world.staff(Role.SUPPORT_ENGINEER)
    _, admin = await world.staff(Role.ADMIN)
    response = await world.client.patch(f"/v1/staff/{engineer.id}", json={"is_active": False}, headers=admin)
    assert response.status_code == 200, response.text
    assert (await world.client.get("/v1/me", headers=engineer_headers)).status_code == 401


async def test_an_admin_cannot_change_their_own_standing(world: World) -> None:
    me, admin = await world.staff(Role.ADMIN)
    response = await world.client.patch(f"/v1/staff/{me.id}", json={"is_active": False}, headers=admin)
    assert response.status_code == 403
    async with world.session() as session:
        stored = await session.get(User, me.id)
    assert stored is not None
    assert stored.is_active


async def test_a_customer_is_not_a_member_of_staff_to_change(world: World) -> None:
    customer = await world.user(Role.CUSTOMER_USER, await world.organization())
    _, admin = await world.staff(Role.ADMIN)
    response = await world.client.patch(f"/v1/staff/{customer.id}", json={"role": "admin"}, headers=admin)
    assert response.status_code == 404
    missing = await world.client.patch(f"/v1/staff/{uuid.uuid4()}", json={"is_active": False}, headers=admin)
    assert missing.status_code == 404


async def test_only_admins_manage_staff(world: World) -> None:
    _, lead = await world.staff(Role.SUPPORT_LEAD)
    response = await world.client.get("/v1/staff", headers=lead)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
