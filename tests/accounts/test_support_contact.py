"""The one designated support contact: who names them, who they can be, and what the free line checks."""

from __future__ import annotations

import pytest

from accounts.authentication import user_actor
from accounts.eligibility import require_free_support_filer
from accounts.errors import NoSupportContact, NotEligible, NotSupportContact
from accounts.roles import Role
from tests.world import World


async def test_customer_admin_names_the_contact_and_the_change_is_audited(world: World) -> None:
    org = await world.organization(purchase=True)
    admin = await world.user(Role.CUSTOMER_ADMIN, org)
    specialist = await world.user(Role.CUSTOMER_USER, org)
    response = await world.client.put(
        f"/v1/organizations/{org.id}/support-contact",
        json={"user_id": str(specialist.id)},
        headers=await world.headers(admin),
    )
    assert response.status_code == 200
    assert response.json()["user_id"] == str(specialist.id)
    _, root = await world.staff(Role.ADMIN)
    events = (await world.client.get("/v1/audit?action=support_contact_changed", headers=root)).json()[
        "items"
    ]
    assert events[0]["actor_id"] == str(admin.id)
    assert events[0]["data"] == {"from": None, "to": str(specialist.id)}


async def test_naming_a_new_contact_takes_the_right_from_the_previous_one_at_once(world: World) -> None:
    org = await world.organization(purchase=True)
    first, second = await world.user(Role.CUSTOMER_USER, org), await world.user(Role.CUSTOMER_USER, org)
    await world.support_contact(org, first)
    await world.support_contact(org, second)
    async with world.session() as session:
        assert await require_free_support_filer(session, user_actor(second)) == org.id
        with pytest.raises(NotSupportContact):
            await require_free_support_filer(session, user_actor(first))
    _, root = await world.staff(Role.ADMIN)
    events = (await world.client.get("/v1/audit?action=support_contact_changed", headers=root)).json()[
        "items"
    ]
    assert events[0]["data"] == {"from": str(first.id), "to": str(second.id)}


async def test_user_of_another_organization_cannot_be_the_contact(world: World) -> None:
    org, other = await world.organization(), await world.organization()
    admin = await world.user(Role.CUSTOMER_ADMIN, org)
    outsider = await world.user(Role.CUSTOMER_USER, other)
    response = await world.client.put(
        f"/v1/organizations/{org.id}/support-contact",
        json={"user_id": str(outsider.id)},
        headers=await world.headers(admin),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_support_contact"
    assert (
        await world.client.get(
            f"/v1/organizations/{org.id}/support-contact", headers=await world.headers(admin)
        )
    ).status_code == 404


async def test_deactivated_user_cannot_be_the_contact(world: World) -> None:
    org = await world.organization()
    admin = await world.user(Role.CUSTOMER_ADMIN, org)
    former = await world.user(Role.CUSTOMER_USER, org)
    headers = await world.headers(admin)
    await world.client.patch(
        f"/v1/organizations/{org.id}/users/{former.id}", json={"is_active": False}, headers=headers
    )
    response = await world.client.put(
        f"/v1/organizations/{org.id}/support-contact", json={"user_id": str(former.id)}, headers=headers
    )
    assert response.status_code == 422


async def test_deactivating_the_contact_leaves_the_organization_without_one(world: World) -> None:
    org = await world.organization(purchase=True)
    admin = await world.user(Role.CUSTOMER_ADMIN, org)
    contact = await world.user(Role.CUSTOMER_USER, org)
    await world.support_contact(org, contact)
    headers = await world.headers(admin)
    await world.client.patch(
        f"/v1/organizations/{org.id}/users/{contact.id}", json={"is_active": False}, headers=headers
    )
    assert (
        await world.client.get(f"/v1/organizations/{org.id}/support-contact", headers=headers)
    ).status_code == 404


async def test_plain_customer_user_cannot_name_the_contact(world: World) -> None:
    org = await world.organization()
    user = await world.user(Role.CUSTOMER_USER, org)
    response = await world.client.put(
        f"/v1/organizations/{org.id}/support-contact",
        json={"user_id": str(user.id)},
        headers=await world.headers(user),
    )
    assert response.status_code == 403


async def test_free_support_without_a_contact_says_how_to_name_one(world: World) -> None:
    org = await world.organization(purchase=True)
    user = await world.user(Role.CUSTOMER_USER, org)
    async with world.session() as session:
        with pytest.raises(NoSupportContact) as refused:
            await require_free_support_filer(session, user_actor(user))
    assert f"PUT /v1/organizations/{org.id}/support-contact" in refused.value.detail


async def test_free_support_for_a_company_without_purchase_points_to_paid_sessions(world: World) -> None:
    org = await world.organization(purchase=False)
    user = await world.user(Role.CUSTOMER_USER, org)
    await world.support_contact(org, user)
    async with world.session() as session:
        with pytest.raises(NotEligible) as refused:
            await require_free_support_filer(session, user_actor(user))
    assert "POST /v1/bookings" in refused.value.detail
