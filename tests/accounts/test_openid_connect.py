"""Tokens of a trusted external OpenID Connect issuer: the first sign-in needs an e-mail the issuer
verified and links the issuer's subject to the user; afterwards the subject decides, and no other
subject of that issuer can take the account over by claiming its e-mail."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import RSAKey
from litestar.testing import AsyncTestClient
from sqlmodel import col

from accounts.models import AuditEvent, ExternalIdentity, User
from accounts.roles import Role
from api.app import create_app
from api.settings import Settings
from core.time import FrozenClock
from tests.world import World

ISSUER = "https://idp.example.com"
Sign = Callable[..., Awaitable[Any]]  # Any: an httpx response


@pytest.fixture
async def sign_in(world: World, settings: Settings, tmp_path: Path) -> AsyncIterator[Sign]:
    """Calls GET /v1/me with a token the external issuer signed for the given claims."""
    key = RSAKey.generate_key(2048, parameters={"kid": "idp-1", "alg": "RS256"})
    jwks_path = tmp_path / "idp-jwks.json"
    jwks_path.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    federated = settings.model_copy(
        update={"oidc_issuer": ISSUER, "oidc_jwks_path": jwks_path, "oidc_audience": "deskline"}
    )
    clock = FrozenClock()
    now = int(clock.now().timestamp())
    app = create_app(federated, clock=clock, configure_logs=False)
    async with AsyncTestClient(app=app) as client:

        async def call(**claims: Any) -> Any:  # Any: claim values, and the response
            token = jwt.encode(
                {"alg": "RS256", "kid": "idp-1"},
                {"iss": ISSUER, "aud": "deskline", "iat": now, "exp": now + 300, **claims},
                key,
            )
            return await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})

        yield call


async def _links(world: World) -> list[tuple[str, str]]:
    async with world.session() as session:
        rows = await session.execute(sa.select(col(ExternalIdentity.subject), col(ExternalIdentity.issuer)))
        return [(subject, issuer) for subject, issuer in rows.all()]


async def test_a_verified_email_signs_in_and_links_the_subject(world: World, sign_in: Sign) -> None:
    org = await world.organization()
    await world.user(Role.CUSTOMER_USER, org, email="sso@example.com")
    response = await sign_in(sub="idp-user-1", email="sso@example.com", email_verified=True)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["email"] == "sso@example.com"
    assert await _links(world) == [("idp-user-1", ISSUER)]
    async with world.session() as session:
        actions = (await session.scalars(sa.select(col(AuditEvent.action)))).all()
    assert "external_identity_linked" in actions


@pytest.mark.parametrize("verified", [None, False, "true", 1])
async def test_an_email_not_verified_as_true_signs_nobody_in(
    world: World, sign_in: Sign, verified: object
) -> None:
    await world.user(Role.ADMIN, email="admin@vendor.example")
    claims: dict[str, object] = {"sub": "attacker", "email": "admin@vendor.example"}
    if verified is not None:
        claims["email_verified"] = verified
    response = await sign_in(**claims)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert await _links(world) == []


async def test_a_linked_subject_signs_in_whatever_email_it_carries_later(world: World, sign_in: Sign) -> None:
    org = await world.organization()
    await world.user(Role.CUSTOMER_USER, org, email="sso@example.com")
    await sign_in(sub="idp-user-1", email="sso@example.com", email_verified=True)
    response = await sign_in(sub="idp-user-1", email="renamed@example.com", email_verified=False)
    assert response.status_code == 200
    assert response.json()["user"]["email"] == "sso@example.com"


async def test_another_subject_claiming_a_linked_users_email_is_refused(world: World, sign_in: Sign) -> None:
    org = await world.organization()
    await world.user(Role.CUSTOMER_USER, org, email="sso@example.com")
    await sign_in(sub="idp-user-1", email="sso@example.com", email_verified=True)
    response = await sign_in(sub="idp-user-2", email="sso@example.com", email_verified=True)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert await _links(world) == [("idp-user-1", ISSUER)]


async def test_a_linked_user_who_was_deactivated_is_refused(world: World, sign_in: Sign) -> None:
    org = await world.organization()
    user = await world.user(Role.CUSTOMER_USER, org, email="sso@example.com")
    await sign_in(sub="idp-user-1", email="sso@example.com", email_verified=True)
    async with world.session() as session:
        await session.execute(sa.update(User).where(col(User.id) == user.id).values(is_active=False))
    response = await sign_in(sub="idp-user-1", email="sso@example.com", email_verified=True)
    assert response.status_code == 401


async def test_a_token_for_another_audience_is_refused(world: World, sign_in: Sign) -> None:
    org = await world.organization()
    await world.user(Role.CUSTOMER_USER, org, email="sso@example.com")
    response = await sign_in(sub="idp-user-1", email="sso@example.com", email_verified=True, aud="other")
    assert response.status_code == 401
    assert await _links(world) == []
