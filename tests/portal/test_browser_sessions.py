"""The portal's sign-in: a server-side session named by an HttpOnly, SameSite=Strict cookie; the page
only ever holds the session's CSRF token, and a state change without it is refused and changes
nothing. The portal page itself allows no inline script and no framing."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from accounts.models import BrowserSession
from accounts.roles import Role
from scheduling.models import CalendarFeed
from tests.world import World

PASSWORD = "a-long-enough-password"


async def _signed_in(world: World) -> str:
    """A customer signed in to the portal through the world's client (which keeps the cookie)."""
    await world.user(
        Role.CUSTOMER_USER, await world.organization(), email="cookie@example.com", password=PASSWORD
    )
    response = await world.client.post(
        "/portal/session", json={"email": "cookie@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


async def _feeds(world: World) -> int:
    async with world.session() as session:
        return len((await session.scalars(sa.select(CalendarFeed))).all())


async def test_signing_in_sets_an_http_only_same_site_strict_cookie_and_returns_only_a_csrf_token(
    world: World,
) -> None:
    await world.user(Role.CUSTOMER_USER, await world.organization(), email="c@example.com", password=PASSWORD)
    response = await world.client.post(
        "/portal/session", json={"email": "c@example.com", "password": PASSWORD}
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("deskline_session=")
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert set(response.json()) == {"csrf_token", "expires_at", "user_id"}  # no token for scripts


async def test_wrong_credentials_open_no_session(world: World) -> None:
    await world.user(Role.CUSTOMER_USER, await world.organization(), email="w@example.com", password=PASSWORD)
    response = await world.client.post(
        "/portal/session", json={"email": "w@example.com", "password": "nope-nope-nope"}
    )
    assert (response.status_code, response.json()["code"]) == (401, "invalid_credentials")
    assert "set-cookie" not in response.headers
    async with world.session() as session:
        assert (await session.scalars(sa.select(BrowserSession))).all() == []


async def test_a_signed_in_browser_reads_the_api_with_its_cookie_alone(world: World) -> None:
    await _signed_in(world)
    me = await world.client.get("/v1/me")
    assert (me.status_code, me.json()["user"]["email"]) == (200, "cookie@example.com")


async def test_a_state_change_without_the_csrf_token_is_refused_and_changes_nothing(world: World) -> None:
    await _signed_in(world)
    response = await world.client.post("/v1/calendar-feeds")
    assert (response.status_code, response.json()["code"]) == (403, "csrf_token_invalid")
    wrong = await world.client.post("/v1/calendar-feeds", headers={"X-CSRF-Token": "guessed"})
    assert wrong.json()["code"] == "csrf_token_invalid"
    assert await _feeds(world) == 0


async def test_a_state_change_with_the_sessions_csrf_token_is_made(world: World) -> None:
    csrf = await _signed_in(world)
    response = await world.client.post("/v1/calendar-feeds", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    assert await _feeds(world) == 1


async def test_a_reload_gets_the_same_csrf_token_back_from_the_session(world: World) -> None:
    csrf = await _signed_in(world)
    again = await world.client.get("/portal/session")
    assert again.json()["csrf_token"] == csrf


async def test_signing_out_ends_the_session_and_its_cookie(world: World) -> None:
    csrf = await _signed_in(world)
    refused = await world.client.delete("/portal/session")
    assert refused.json()["code"] == "csrf_token_invalid"
    out = await world.client.delete("/portal/session", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert (await world.client.get("/v1/me")).status_code == 401
    async with world.session() as session:
        assert (await session.scalars(sa.select(BrowserSession))).all() == []


async def test_a_session_past_its_lifetime_signs_nobody_in(world: World) -> None:
    await _signed_in(world)
    world.clock.advance(timedelta(hours=world.ctx.settings.portal_session_hours, seconds=1))
    assert (await world.client.get("/v1/me")).json()["code"] == "not_authenticated"
    assert (await world.client.get("/portal/session")).status_code == 401


async def test_a_deactivated_users_session_signs_nobody_in(world: World) -> None:
    await _signed_in(world)
    async with world.session() as session:
        await session.execute(
            sa.text("UPDATE accounts_user SET is_active = false WHERE email = 'cookie@example.com'")
        )
    assert (await world.client.get("/v1/me")).status_code == 401


async def test_the_portal_page_allows_no_inline_script_and_no_framing(world: World) -> None:
    response = await world.client.get("/portal")
    policy = response.headers["content-security-policy"]
    script = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in policy
    assert script.split()[1] == "'self'"
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert '<script type="module" src="/portal/assets/app.js">' in response.text
