"""The client's address (what login throttling counts) comes from X-Forwarded-For only when the peer is
a proxy named in DESKLINE_TRUSTED_PROXIES; anyone else sending the header is counted as who they are."""

from __future__ import annotations

import uuid

import httpx
import pytest

from api.settings import Settings, SettingsError, load_settings
from tests.harness import servers

LIMITS = {"DESKLINE_LOGIN_LIMIT_PER_ADDRESS": "3/minute", "DESKLINE_LOGIN_LIMIT_PER_ACCOUNT": "100/minute"}


async def _login_from(client: httpx.AsyncClient, url: str, forwarded_for: str) -> int:
    """A failed login (each for another account) claiming to come from ``forwarded_for``."""
    body = {"email": f"{uuid.uuid4().hex[:12]}@example.com", "password": "not-the-password"}
    response = await client.post(
        f"{url}/v1/auth/login", json=body, headers={"X-Forwarded-For": forwarded_for}
    )
    return response.status_code


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the address matters, not the database
async def test_a_forwarded_address_from_an_untrusted_peer_is_not_believed(settings: Settings) -> None:
    env = {"DESKLINE_DATABASE_URL": settings.database_url, **LIMITS}
    with servers(env, 1) as (server,):
        async with httpx.AsyncClient(timeout=30) as client:
            statuses = [await _login_from(client, server.url, f"203.0.113.{n}") for n in range(4)]
    # four claimed addresses, one real one: the fourth attempt from 127.0.0.1 is over its limit
    assert statuses == [401, 401, 401, 429]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_forwarded_address_from_a_trusted_proxy_is_the_one_counted(settings: Settings) -> None:
    env = {"DESKLINE_DATABASE_URL": settings.database_url, "DESKLINE_TRUSTED_PROXIES": "127.0.0.1", **LIMITS}
    with servers(env, 1) as (server,):
        async with httpx.AsyncClient(timeout=30) as client:
            different = [await _login_from(client, server.url, f"203.0.113.{n}") for n in range(4)]
            same = [await _login_from(client, server.url, "198.51.100.7") for _ in range(4)]
    assert different == [401, 401, 401, 401]  # four clients behind the proxy, each within its limit
    assert same == [401, 401, 401, 429]  # one client behind the proxy, over its limit


def test_a_trusted_proxy_that_is_not_an_address_stops_the_start() -> None:
    with pytest.raises(SettingsError, match="DESKLINE_TRUSTED_PROXIES"):
        load_settings(trusted_proxies="proxy.example.com")
