"""Organisations and their users: who may create and change what."""

from __future__ import annotations

from accounts.roles import Role
from tests.world import World


async def test_sales_creates_an_organization(world: World) -> None:
    _, sales = await world.staff(Role.SALES)
    response = await world.client.post(
        "/v1/organizations",
        json={
            "name": "Romashka LLC",
            "tax_id": "7701234567",
            "time_zone": "Asia/Yekaterinburg",
            "locale": "ru",
        },
        headers=sales,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Romashka LLC"
    assert body["time_zone"] == "Asia/Yekaterinburg"
    assert body["support_contact"] is None


async def test_unknown_time_zone_is_refused(world: World) -> None:
    _, sales = await world.staff(Role.SALES)
    response = await world.client.post(
        "/v1/organizations", json={"name": "X", "time_zone": "Mars/Olympus"}, headers=sales
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "time_zone"


async def test_duplicate_tax_id_is_a_conflict(world: World) -> None:
    _, sales = await world.staff(Role.SALES)
    await world.client.post("/v1/organizations", json={"name": "A", "tax_id": "7701234567"}, headers=sales)
    response = await world.client.post(
        "/v1/organizations", json={"name": "B", "tax_id": "7701234567"}, headers=sales
    )
    assert response.status_code == 409


async def test_customer_lists_only_their_own_organization(world: World) -> None:
    mine, other = await world.organization(), await world.organization()
    user = await world.user(Role.CUSTOMER_USER, mine)
    response = await world.client.get("/v1/organizations", headers=await world.headers(user))
    assert [o["id"] for o in response.json()["items"]] == [str(mine.id)]
    assert str(other.id) not in response.text


async def test_listing_pages_with_a_cursor(world: World) -> None:
    for _ in range(3):
        await world.organization()
    _, admin = await world.staff(Role.ADMIN)
    first = (await world.client.get("/v1/organizations?limit=2", headers=admin)).json()
    second = (
        await world.client.get(f"/v1/organizations?limit=2&cursor={first['next_cursor']}", headers=admin)
    ).json()
    assert len(first["items"]) == 2
    assert len(second["items"]) == 1
    assert second["next_cursor"] is None
    assert {o["id"] for o in first["items"]}.isdisjoint({o["id"] for o in second["items"]})


async def test_garbage_cursor_is_a_validation_problem(world: World) -> None:
    _, admin = await world.staff(Role.ADMIN)
    response = await world.client.get("/v1/organizations?cursor=%%%%", headers=admin)
    assert response.status_code == 422


async def test_customer_admin_adds_a_user_to_their_organization(world: World) -> None:
    org = await world.organization()
    admin = await world.user(Role.CUSTOMER_ADMIN, org)
    response = await world.client.post(
        f"/v1/organizations/{org.id}/users",
        json={"email": "new@example.com", "full_name": "New Person", "phone": "+7 900 000-00-00"},
        headers=await world.headers(admin),
    )
    assert response.status_code == 201
    assert response.json()["role"] == "customer_user"
    assert response.json()["organization_id"] == str(org.id)


async def test_customer_admin_cannot_create_staff(world: World) -> None:
    org = await world.organization()
    admin = await world.user(Role.CUSTOMER_ADMIN, org)
    response = await world.client.post(
        f"/v1/organizations/{org.id}/users",
        json={"email": "evil@example.com", "full_name": "Evil", "role": "admin"},
        headers=await world.headers(admin),
    )
    assert response.status_code == 403


async def test_duplicate_email_is_a_conflict(world: World) -> None:
    org = await world.organization()
    await world.user(Role.CUSTOMER_USER, org, email="taken@example.com")
    _, admin = await world.staff(Role.ADMIN)
    response = await world.client.post(
        f"/v1/organizations/{org.id}/users",
        json={"email": "TAKEN@example.com", "full_name": "Dup"},
        headers=admin,
    )
    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"


async def test_role_change_is_audited(world: World) -> None:
    org = await world.organization()
    user = await world.user(Role.CUSTOMER_USER, org)
    _, admin = await world.staff(Role.ADMIN)
    await world.client.patch(
        f"/v1/organizations/{org.id}/users/{user.id}", json={"role": "customer_admin"}, headers=admin
    )
    audit = (await world.client.get("/v1/audit?action=user_role_changed", headers=admin)).json()["items"]
    assert audit[0]["subject_id"] == str(user.id)
    assert audit[0]["data"] == {"from": "customer_user", "to": "customer_admin"}


async def test_customer_cannot_promote_themselves(world: World) -> None:
    org = await world.organization()
    user = await world.user(Role.CUSTOMER_USER, org)
    response = await world.client.patch(
        f"/v1/organizations/{org.id}/users/{user.id}",
        json={"role": "customer_admin"},
        headers=await world.headers(user),
    )
    assert response.status_code == 403


async def test_deactivated_users_tokens_stop_working(world: World) -> None:
    org = await world.organization()
    user = await world.user(Role.CUSTOMER_USER, org)
    headers = await world.headers(user)
    _, admin = await world.staff(Role.ADMIN)
    await world.client.patch(
        f"/v1/organizations/{org.id}/users/{user.id}", json={"is_active": False}, headers=admin
    )
    assert (await world.client.get("/v1/me", headers=headers)).status_code == 401


async def test_me_says_whether_the_caller_is_the_designated_contact(world: World) -> None:
    org = await world.organization(purchase=True)
    contact = await world.user(Role.CUSTOMER_USER, org)
    colleague = await world.user(Role.CUSTOMER_USER, org)
    await world.support_contact(org, contact)
    me = (await world.client.get("/v1/me", headers=await world.headers(contact))).json()
    assert me["is_support_contact"] is True
    assert me["organization"]["id"] == str(org.id)
    assert me["roles"] == ["customer_user"]
    other = (await world.client.get("/v1/me", headers=await world.headers(colleague))).json()
    assert other["is_support_contact"] is False
