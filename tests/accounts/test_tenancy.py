"""A customer never sees another organisation's objects: they answer 404, not 403."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from tests.world import World

CROSS_TENANT_CALLS = [
    ("GET", "/v1/organizations/{org}", None),
    ("PATCH", "/v1/organizations/{org}/users/{user}", {"full_name": "Hijacked"}),
    ("GET", "/v1/organizations/{org}/users/{user}", None),
    ("GET", "/v1/organizations/{org}/users", None),
    ("POST", "/v1/organizations/{org}/users", {"email": "x@example.com", "full_name": "X"}),
    ("GET", "/v1/organizations/{org}/purchases", None),
    ("GET", "/v1/organizations/{org}/eligibility", None),
    ("GET", "/v1/organizations/{org}/support-contact", None),
    ("PUT", "/v1/organizations/{org}/support-contact", {"user_id": "{user}"}),
]


@pytest.mark.parametrize(
    ("method", "template", "body"), CROSS_TENANT_CALLS, ids=[f"{m} {t}" for m, t, _ in CROSS_TENANT_CALLS]
)
async def test_customer_admin_gets_404_for_another_organizations_objects(
    world: World, method: str, template: str, body: dict[str, str] | None
) -> None:
    mine, theirs = await world.organization(purchase=True), await world.organization(purchase=True)
    me = await world.user(Role.CUSTOMER_ADMIN, mine)
    them = await world.user(Role.CUSTOMER_USER, theirs)
    await world.support_contact(theirs, them)
    url = template.format(org=theirs.id, user=them.id)
    payload = {k: v.format(user=them.id) for k, v in body.items()} if body else None
    response = await world.client.request(method, url, json=payload, headers=await world.headers(me))
    assert response.status_code == 404
    assert str(them.id) not in response.text
