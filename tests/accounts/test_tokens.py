"""Access tokens: expiry, forgery, algorithms, key rotation; refresh rotation and reuse detection."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta

import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from accounts.models import SigningKey
from accounts.roles import Role
from accounts.signing import rotate_signing_key
from tests.world import World

PASSWORD = "correct horse battery"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _login(world: World, email: str) -> dict[str, str]:
    response = await world.client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    tokens: dict[str, str] = response.json()
    return tokens


async def test_expired_access_token_is_refused(world: World) -> None:
    _, headers = await world.staff(Role.SALES)
    world.clock.advance(timedelta(seconds=world.ctx.settings.access_token_ttl_seconds + 60))
    response = await world.client.get("/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


async def test_token_with_a_tampered_payload_is_refused(world: World) -> None:
    _, headers = await world.staff(Role.SALES)
    header, payload, signature = headers["Authorization"].removeprefix("Bearer ").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    response = await world.client.get("/v1/me", headers=_bearer(f"{header}.{forged}.{signature}"))
    assert response.status_code == 401


async def test_unsigned_alg_none_token_is_refused(world: World) -> None:
    user, _ = await world.staff(Role.ADMIN)

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    now = int(world.clock.now().timestamp())
    claims = {
        "iss": world.ctx.token_policy.issuer,
        "aud": world.ctx.token_policy.audience,
        "sub": str(user.id),
        "exp": now + 600,
        "iat": now,
    }
    token = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
    response = await world.client.get("/v1/me", headers=_bearer(token))
    assert response.status_code == 401


async def test_hmac_token_made_with_the_public_key_is_refused(world: World) -> None:
    user, _ = await world.staff(Role.ADMIN)
    jwks = (await world.client.get("/.well-known/jwks.json")).json()
    now = int(world.clock.now().timestamp())
    claims = {
        "iss": world.ctx.token_policy.issuer,
        "aud": world.ctx.token_policy.audience,
        "sub": str(user.id),
        "exp": now + 600,
        "iat": now,
    }
    key = OctKey.import_key(json.dumps(jwks["keys"][0]).encode())
    token = jwt.encode({"alg": "HS256", "kid": jwks["keys"][0]["kid"]}, claims, key)
    response = await world.client.get("/v1/me", headers=_bearer(token))
    assert response.status_code == 401


async def test_token_signed_by_an_unknown_key_is_refused(world: World) -> None:
    user, _ = await world.staff(Role.ADMIN)
    stranger = ECKey.generate_key("P-256", parameters={"kid": "stranger"})
    now = int(world.clock.now().timestamp())
    claims = {
        "iss": world.ctx.token_policy.issuer,
        "aud": world.ctx.token_policy.audience,
        "sub": str(user.id),
        "sub_kind": "user",
        "exp": now + 600,
        "iat": now,
    }
    token = jwt.encode({"alg": "ES256", "kid": "stranger"}, claims, stranger)
    response = await world.client.get("/v1/me", headers=_bearer(token))
    assert response.status_code == 401


async def test_malformed_authorization_header_is_refused(world: World) -> None:
    response = await world.client.get("/v1/me", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401
    response = await world.client.get("/v1/me", headers=_bearer("not-a-jwt"))
    assert response.status_code == 401


async def test_jwks_publishes_the_public_signing_key_only(world: World) -> None:
    await world.staff(Role.ADMIN)  # issuing a token creates the first key
    keys = (await world.client.get("/.well-known/jwks.json")).json()["keys"]
    assert len(keys) == 1
    assert keys[0]["alg"] == "ES256"
    assert "d" not in keys[0]


async def test_after_key_rotation_old_tokens_stay_valid_and_new_ones_use_the_new_key(world: World) -> None:
    user = await world.user(Role.SALES)
    old_token = await world.token_for(user)
    async with world.session() as session:
        new_key = await rotate_signing_key(session, world.ctx.keyring, now=world.clock.now())
    new_token = await world.token_for(user)
    new_kid = json.loads(base64.urlsafe_b64decode(new_token.split(".")[0] + "=="))["kid"]
    assert new_kid == new_key.kid
    assert (await world.client.get("/v1/me", headers=_bearer(old_token))).status_code == 200
    assert (await world.client.get("/v1/me", headers=_bearer(new_token))).status_code == 200
    kids = {k["kid"] for k in (await world.client.get("/.well-known/jwks.json")).json()["keys"]}
    assert new_key.kid in kids
    assert len(kids) == 2


async def test_retired_key_stops_verifying_after_the_grace_period(world: World) -> None:
    user = await world.user(Role.SALES)
    old_token = await world.token_for(user)
    async with world.session() as session:
        await rotate_signing_key(session, world.ctx.keyring, now=world.clock.now())
    world.clock.advance(world.ctx.token_policy.verify_grace + timedelta(minutes=1))
    assert (await world.client.get("/v1/me", headers=_bearer(old_token))).status_code == 401
    kids = (await world.client.get("/.well-known/jwks.json")).json()["keys"]
    assert len(kids) == 1


async def test_a_token_accepted_before_is_refused_once_it_expires(world: World) -> None:
    _, headers = await world.staff(Role.SALES)
    assert (await world.client.get("/v1/me", headers=headers)).status_code == 200
    world.clock.advance(timedelta(seconds=world.ctx.settings.access_token_ttl_seconds + 60))
    response = await world.client.get("/v1/me", headers=headers)
    assert response.status_code == 401


async def test_a_token_accepted_before_is_refused_once_its_key_is_gone_and_keys_reload(world: World) -> None:
    user = await world.user(Role.SALES)
    token = await world.token_for(user)
    assert (await world.client.get("/v1/me", headers=_bearer(token))).status_code == 200
    async with world.session() as session:
        await session.execute(sa.delete(SigningKey))
        await rotate_signing_key(session, world.ctx.keyring, now=world.clock.now())
    world.clock.advance(timedelta(seconds=61))  # the in-process key cache lives 60 s
    assert (await world.client.get("/v1/me", headers=_bearer(token))).status_code == 401


async def test_a_tampered_copy_of_an_accepted_token_is_still_refused(world: World) -> None:
    _, headers = await world.staff(Role.SALES)
    assert (await world.client.get("/v1/me", headers=headers)).status_code == 200
    header, payload, signature = headers["Authorization"].removeprefix("Bearer ").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(uuid.uuid4())
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    response = await world.client.get("/v1/me", headers=_bearer(f"{header}.{forged}.{signature}"))
    assert response.status_code == 401


async def test_refresh_returns_a_new_pair(world: World) -> None:
    user = await world.user(Role.SALES, password=PASSWORD)
    first = await _login(world, user.email)
    response = await world.client.post(
        "/v1/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await world.client.get("/v1/me", headers=_bearer(second["access_token"]))).status_code == 200


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(world: World) -> None:
    user = await world.user(Role.SALES, password=PASSWORD)
    first = await _login(world, user.email)
    rotated = await world.client.post(
        "/v1/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    replay = await world.client.post(
        "/v1/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    descendant = await world.client.post(
        "/v1/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": rotated.json()["refresh_token"]},
    )
    assert descendant.status_code == 400


async def test_expired_refresh_token_is_refused(world: World) -> None:
    user = await world.user(Role.SALES, password=PASSWORD)
    first = await _login(world, user.email)
    world.clock.advance(timedelta(seconds=world.ctx.settings.refresh_token_ttl_seconds + 1))
    response = await world.client.post(
        "/v1/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_unsupported_grant_type_is_an_oauth_error(world: World) -> None:
    response = await world.client.post("/v1/oauth/token", data={"grant_type": "password"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_authorization_server_metadata_describes_the_token_endpoint(world: World) -> None:
    metadata = (await world.client.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["token_endpoint"].endswith("/v1/oauth/token")
    assert metadata["jwks_uri"].endswith("/.well-known/jwks.json")
    assert set(metadata["grant_types_supported"]) == {"client_credentials", "refresh_token"}
    assert "audit:read" in metadata["scopes_supported"]
