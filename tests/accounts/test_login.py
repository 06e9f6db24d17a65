"""Password login: tokens for the right password, one vague error otherwise, throttling."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import AsyncTestClient

from accounts.roles import Role
from api.app import create_app
from api.settings import Settings
from core.time import FrozenClock
from tests.world import World

PASSWORD = "correct horse battery"


async def test_login_returns_access_and_refresh_tokens_that_work(world: World) -> None:
    org = await world.organization()
    await world.user(Role.CUSTOMER_USER, org, password=PASSWORD, email="ivan@example.com")
    response = await world.client.post(
        "/v1/auth/login", json={"email": "Ivan@Example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == world.ctx.settings.access_token_ttl_seconds
    assert tokens["refresh_token"]
    me = await world.client.get("/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "ivan@example.com"


async def test_wrong_password_and_unknown_account_get_the_same_answer(world: World) -> None:
    await world.user(Role.SALES, password=PASSWORD, email="sales@example.com")
    wrong = await world.client.post("/v1/auth/login", json={"email": "sales@example.com", "password": "nope"})
    unknown = await world.client.post(
        "/v1/auth/login", json={"email": "ghost@example.com", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.json()["code"] == "invalid_credentials"


async def test_deactivated_user_cannot_log_in(world: World) -> None:
    org = await world.organization()
    user = await world.user(Role.CUSTOMER_USER, org, password=PASSWORD)
    _, admin = await world.staff(Role.ADMIN)
    await world.client.patch(
        f"/v1/organizations/{org.id}/users/{user.id}", json={"is_active": False}, headers=admin
    )
    response = await world.client.post("/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


async def test_repeated_failures_for_one_account_are_throttled_with_retry_after(world: World) -> None:
    await world.user(Role.SALES, password=PASSWORD, email="target@example.com")
    for _ in range(5):
        response = await world.client.post(
            "/v1/auth/login", json={"email": "target@example.com", "password": "x"}
        )
        assert response.status_code == 401
    response = await world.client.post(
        "/v1/auth/login", json={"email": "target@example.com", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert response.json()["code"] == "login_throttled"
    assert int(response.headers["retry-after"]) > 0


async def test_one_address_is_throttled_across_accounts(settings: Settings, tmp_path: Path) -> None:
    strict = settings.model_copy(update={"login_limit_per_address": "3/minute"})
    app = create_app(strict, clock=FrozenClock(), configure_logs=False)
    async with AsyncTestClient(app=app) as client:
        statuses = [
            (
                await client.post("/v1/auth/login", json={"email": f"u{i}@example.com", "password": "x"})
            ).status_code
            for i in range(4)
        ]
    assert statuses == [401, 401, 401, 429]
