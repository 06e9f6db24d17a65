"""The console's page is served like the portal's: no data in it, a strict policy, never cached."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_the_console_page_allows_only_its_origins_scripts(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.get("/console")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["cache-control"] == "no-store"
    assert '<script type="module" src="/console/assets/app.js">' in response.text


async def test_the_console_scripts_are_served_with_nosniff(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/console/assets/queue.js")
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "EventSource" in response.text  # the queue is watched, not polled
