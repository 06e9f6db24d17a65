"""Fetching a busy calendar by URL without letting the URL reach inside the network (SSRF)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from core.errors import FieldProblem
from scheduling.busy import MAX_ICS_BYTES
from scheduling.errors import CalendarImportFailed

TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    allowed_hosts: frozenset[str]  # empty: any host
    allow_private: bool


def _refuse(message: str) -> CalendarImportFailed:
    return CalendarImportFailed(message, errors=[FieldProblem("url", message)])


async def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise _refuse(f"The host {host!r} does not resolve.") from exc
    return [ipaddress.ip_address(info[4][0]) for info in infos]


async def check_url(url: str, policy: FetchPolicy) -> str:
    """Refuse anything but http(s) to an allowed host whose every address is public (unless allowed)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or not host:
        raise _refuse("Only http:// and https:// calendar URLs are accepted.")
    if policy.allowed_hosts and host not in policy.allowed_hosts:
        raise _refuse(f"The host {host!r} is not on the allow-list of calendar hosts.")
    if not policy.allow_private:
        for address in await _addresses(host):
            if not address.is_global:
                raise _refuse("Calendar URLs may not point at private, loopback or link-local addresses.")
    return host


async def fetch_ics(url: str, policy: FetchPolicy) -> bytes:
    """GET the calendar (no redirects, size-limited, time-limited)."""
    await check_url(url, policy)
    try:
        async with (
            httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client,
            client.stream("GET", url, headers={"Accept": "text/calendar"}) as response,
        ):
            if response.status_code != 200:
                raise _refuse(f"The calendar URL answered {response.status_code}.")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > MAX_ICS_BYTES:
                    raise _refuse("The calendar at that URL is too large.")
    except httpx.HTTPError as exc:
        raise _refuse(f"The calendar URL could not be fetched ({type(exc).__name__}).") from exc
    return bytes(body)
