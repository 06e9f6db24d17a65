"""Integration clients: client credentials, scopes, deactivation."""

from __future__ import annotations

import base64

from accounts.roles import Role, Scope
from tests.world import World


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def test_admin_registers_a_client_and_sees_its_secret_once(world: World) -> None:
    _, admin = await world.staff(Role.ADMIN)
    created = await world.client.post(
        "/v1/integration-clients", json={"name": "CRM", "scopes": ["organizations:read"]}, headers=admin
    )
    assert created.status_code == 201
    assert created.json()["client_secret"]
    listing = await world.client.get("/v1/integration-clients", headers=admin)
    assert "client_secret" not in listing.json()["items"][0]


async def test_unknown_scope_is_refused_when_registering(world: World) -> None:
    _, admin = await world.staff(Role.ADMIN)
    response = await world.client.post(
        "/v1/integration-clients", json={"name": "CRM", "scopes": ["everything"]}, headers=admin
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "scopes"


async def test_client_credentials_with_basic_auth_give_a_scoped_token(world: World) -> None:
    client, secret = await world.integration(Scope.ORGANIZATIONS_READ, Scope.AUDIT_READ)
    response = await world.client.post(
        "/v1/oauth/token", data={"grant_type": "client_credentials"}, headers=_basic(client.client_id, secret)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == "audit:read organizations:read"
    assert "refresh_token" not in body
    me = await world.client.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["kind"] == "client"


async def test_client_may_narrow_its_scopes_in_the_form_body(world: World) -> None:
    client, secret = await world.integration(Scope.ORGANIZATIONS_READ, Scope.AUDIT_READ)
    response = await world.client.post(
        "/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": secret,
            "scope": "audit:read",
        },
    )
    assert response.json()["scope"] == "audit:read"


async def test_requesting_an_ungranted_scope_is_invalid_scope(world: World) -> None:
    client, secret = await world.integration(Scope.ORGANIZATIONS_READ)
    response = await world.client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "scope": "audit:read"},
        headers=_basic(client.client_id, secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_wrong_client_secret_is_invalid_client(world: World) -> None:
    client, _ = await world.integration(Scope.ORGANIZATIONS_READ)
    response = await world.client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=_basic(client.client_id, "wrong"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_unknown_client_is_invalid_client(world: World) -> None:
    response = await world.client.post(
        "/v1/oauth/token", data={"grant_type": "client_credentials"}, headers=_basic("dlc_nobody", "secret")
    )
    assert response.status_code == 401


async def test_deactivated_client_tokens_stop_working_at_once(world: World) -> None:
    client, _ = await world.integration(Scope.ORGANIZATIONS_READ)
    headers = await world.headers(client)
    _, admin = await world.staff(Role.ADMIN)
    await world.client.post(f"/v1/integration-clients/{client.id}/deactivate", headers=admin)
    response = await world.client.get("/v1/organizations", headers=headers)
    assert response.status_code == 401


async def test_client_without_the_scope_is_forbidden(world: World) -> None:
    client, _ = await world.integration(Scope.BILLING_READ)
    response = await world.client.get("/v1/organizations", headers=await world.headers(client))
    assert response.status_code == 403
