"""Busy calendars by URL: fetched from allowed public hosts only (no reaching inside the network)."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import Settings
from core import urls
from scheduling import fetch
from scheduling.errors import CalendarImportFailed
from tests.outside import held_connections
from tests.world import World

ICS = (
    b"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//t//EN\nBEGIN:VEVENT\nUID:x@t\n"
    b"DTSTART;TZID=Europe/Moscow:20260113T120000\nDTEND;TZID=Europe/Moscow:20260113T130000\n"
    b"SUMMARY:Busy\nEND:VEVENT\nEND:VCALENDAR\n"
)


class _CalendarHandler(BaseHTTPRequestHandler):
    app: Litestar | None = None  # the app whose pools must be idle while it fetches
    held_while_fetched: ClassVar[list[int]] = []

    def do_GET(self) -> None:
        if self.app is not None:
            type(self).held_while_fetched.append(held_connections(self.app))
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(ICS)))
        self.end_headers()
        self.wfile.write(ICS)

    def log_message(self, *_args: object) -> None:  # keep the test output clean
        pass


@contextmanager
def calendar_server() -> Iterator[str]:
    """A plain HTTP server on loopback, in its own thread (the app under test runs in another loop)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CalendarHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cal.ics"
    finally:
        server.shutdown()
        thread.join()


async def test_url_on_a_loopback_address_is_refused(world: World) -> None:
    engineer = await world.engineer()
    response = await world.client.post(
        f"/v1/engineers/{engineer.id}/busy-calendars",
        params={"url": "http://127.0.0.1:9/cal.ics"},
        headers=await world.headers(engineer),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "url"


async def test_url_on_a_private_network_name_is_refused(world: World) -> None:
    engineer = await world.engineer()
    response = await world.client.post(
        f"/v1/engineers/{engineer.id}/busy-calendars",
        params={"url": "http://localhost/cal.ics"},
        headers=await world.headers(engineer),
    )
    assert response.status_code == 422


async def test_non_http_scheme_is_refused(world: World) -> None:
    engineer = await world.engineer()
    response = await world.client.post(
        f"/v1/engineers/{engineer.id}/busy-calendars",
        params={"url": "file:///etc/passwd"},
        headers=await world.headers(engineer),
    )
    assert response.status_code == 422


async def test_host_outside_the_allow_list_is_refused(world: World, settings: Settings) -> None:
    engineer = await world.engineer()
    strict = settings.model_copy(update={"ics_allowed_hosts": "calendar.example.com"})
    async with AsyncTestClient(app=create_app(strict, clock=world.clock, configure_logs=False)) as client:
        response = await client.post(
            f"/v1/engineers/{engineer.id}/busy-calendars",
            params={"url": "https://evil.example.org/cal.ics"},
            headers=await world.headers(engineer),
        )
    assert response.status_code == 422
    assert "allow-list" in response.json()["detail"]


async def test_url_is_fetched_and_imported_when_private_addresses_are_allowed(
    world: World, settings: Settings
) -> None:
    engineer = await world.engineer()
    trusting = settings.model_copy(update={"ics_allow_private_addresses": True})
    app = create_app(trusting, clock=world.clock, configure_logs=False)
    _CalendarHandler.app, _CalendarHandler.held_while_fetched = app, []
    with calendar_server() as url:
        async with AsyncTestClient(app=app) as client:
            response = await client.post(
                f"/v1/engineers/{engineer.id}/busy-calendars",
                params={"url": url, "name": "team"},
                headers=await world.headers(engineer),
            )
    _CalendarHandler.app = None
    assert response.status_code == 201, response.text
    assert response.json()["interval_count"] == 1
    assert response.json()["url"] == url
    assert _CalendarHandler.held_while_fetched == [0]  # no pooled connection held while fetching


class _RecordingHandler(_CalendarHandler):
    hosts: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hosts.append(self.headers.get("Host", ""))
        super().do_GET()


async def test_the_calendar_is_fetched_from_the_address_that_was_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: the name is resolved once, checked, and the connection goes to that address."""
    resolved: list[str] = []

    async def resolve(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        resolved.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(urls, "_addresses", resolve)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        # calendar.example resolves nowhere for real: only the checked address can be reached
        body = await fetch.fetch_ics(
            f"http://calendar.example:{port}/cal.ics", fetch.FetchPolicy(frozenset(), True)
        )
    finally:
        server.shutdown()
        thread.join()
    assert body == ICS
    assert resolved == ["calendar.example"]
    assert _RecordingHandler.hosts == [f"calendar.example:{port}"]


async def test_a_name_with_any_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    async def resolve(_host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.7")]

    monkeypatch.setattr(urls, "_addresses", resolve)
    with pytest.raises(CalendarImportFailed):
        await fetch.check_url("https://calendar.example/cal.ics", fetch.FetchPolicy(frozenset(), False))


def test_a_pinned_https_url_keeps_the_name_for_the_host_header_and_the_certificate() -> None:
    target = urls.Target(host="cal.example.com", address=ipaddress.ip_address("2001:db8::1"))
    url, headers, extensions = urls.pinned("https://cal.example.com:8443/team.ics?x=1", target)
    assert url == "https://[2001:db8::1]:8443/team.ics?x=1"
    assert headers == {"Host": "cal.example.com:8443"}
    assert extensions == {"sni_hostname": "cal.example.com"}
