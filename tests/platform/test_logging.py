"""Log lines are JSON with the request id, and never carry secrets."""

from __future__ import annotations

import json
import logging

import pytest
import structlog
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.logging import REDACTED, configure_logging, redact_path, redact_secrets
from api.settings import Settings
from tests.world import World


def test_redaction_blanks_secret_fields_at_any_depth() -> None:
    raw = {"event": "x", "password": "p", "nested": {"client_secret": "s", "ok": 1}}
    event = redact_secrets(None, "info", raw)
    assert event["password"] == REDACTED
    assert event["nested"] == {"client_secret": REDACTED, "ok": 1}


async def test_access_log_line_is_json_with_request_id_status_and_duration(
    app: Litestar, client: AsyncTestClient[Litestar], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(settings)
    try:
        await client.get("/health", headers={"X-Request-ID": "trace-7"})
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    access = [line for line in lines if line["event"] == "request_handled"]
    assert access[0]["request_id"] == "trace-7"
    assert access[0]["status"] == 200
    assert access[0]["path"] == "/health"
    assert access[0]["duration_ms"] >= 0


async def test_login_password_never_reaches_the_log(
    client: AsyncTestClient[Litestar], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(settings)
    try:
        structlog.get_logger("probe").info("probe", password="hunter2-secret")
        await client.post("/v1/auth/login", json={"email": "a@example.com", "password": "hunter2-secret"})
        output = capsys.readouterr().err
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    assert "hunter2-secret" not in output
    assert REDACTED in output


async def test_a_calendar_feed_token_never_reaches_the_log_in_full(
    world: World, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    engineer = await world.engineer()
    headers = await world.headers(engineer)
    url = (await world.client.post("/v1/calendar-feeds", headers=headers)).json()["url"]
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    configure_logging(settings)
    try:
        fetched = await world.client.get(url.replace(settings.public_url, ""))
        structlog.get_logger("probe").info("probe", url=url)
        output = capsys.readouterr().err
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    assert fetched.status_code == 200
    assert token not in output, output
    assert "/v1/calendar-feeds/[redacted]" in output


def test_redaction_blanks_the_credential_segment_of_a_feed_address() -> None:
    assert redact_path("/v1/calendar-feeds/abc123.ics") == "/v1/calendar-feeds/[redacted]"
    assert redact_path("https://x.example/v1/calendar-feeds/abc.ics?x=1") == (
        "https://x.example/v1/calendar-feeds/[redacted]?x=1"
    )
    assert redact_path("/v1/bookings/42") == "/v1/bookings/42"
