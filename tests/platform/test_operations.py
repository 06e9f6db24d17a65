"""Liveness, readiness, metrics, docs, and the request id on every response."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import load_settings
from core.time import FrozenClock


async def test_health_answers_ok(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_the_database_reachable(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_ready_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = load_settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", environment="test")
    app = create_app(settings, clock=FrozenClock(), configure_logs=False)
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


async def test_request_id_is_generated_and_echoed(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health")
    assert len(response.headers["x-request-id"]) >= 16


async def test_callers_request_id_is_kept(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "portal-42"})
    assert response.headers["x-request-id"] == "portal-42"


async def test_request_id_is_echoed_on_problems_too(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/missing", headers={"X-Request-ID": "portal-43"})
    assert response.headers["x-request-id"] == "portal-43"


async def test_metrics_expose_request_counts_in_prometheus_format(client: AsyncTestClient[Litestar]) -> None:
    await client.get("/health")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "deskline_requests_total{" in response.text
    assert 'path="/health"' in response.text
    assert "deskline_request_duration_seconds_bucket" in response.text


async def test_interactive_docs_are_served_at_schema(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/schema")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
