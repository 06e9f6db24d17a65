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


@dataclass(frozen=True, slots=True)
class Target:
    """Where a checked URL may be fetched: its host name and the one address that passed the check."""

    host: str
    address: ipaddress.IPv4Address | ipaddress.IPv6Address


async def check_url(url: str, policy: FetchPolicy) -> Target:
    """Refuse anything but http(s) to an allowed host whose every address is public (unless allowed)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or not host:
        raise _refuse("Only http:// and https:// calendar URLs are accepted.")
    if policy.allowed_hosts and host not in policy.allowed_hosts:
        raise _refuse(f"The host {host!r} is not on the allow-list of calendar hosts.")
    addresses = await _addresses(host)
    if not addresses:
        raise _refuse(f"The host {host!r} does not resolve.")
    if not policy.allow_private and any(not address.is_global for address in addresses):
        raise _refuse("Calendar URLs may not point at private, loopback or link-local addresses.")
    return Target(host=host, address=addresses[0])


def pinned(url: str, target: Target) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL rewritten to the checked address, with the Host header and TLS server name of the
    original: the request goes where the check looked, so a DNS answer that changes between the
    check and the connection (DNS rebinding) cannot send it inside the network."""
    parts = urlsplit(url)
    address = f"[{target.address}]" if target.address.version == 6 else str(target.address)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    netloc = (f"{userinfo}@" if userinfo else "") + address + (f":{parts.port}" if parts.port else "")
    extensions = {"sni_hostname": target.host} if parts.scheme == "https" else {}
    return parts._replace(netloc=netloc).geturl(), {"Host": hostport}, extensions


async def fetch_ics(url: str, policy: FetchPolicy) -> bytes:
    """GET the calendar from the address that was checked (no redirects, size- and time-limited)."""
    request_url, host_header, extensions = pinned(url, await check_url(url, policy))
    headers = {"Accept": "text/calendar", **host_header}
    try:
        async with (
            httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client,
            client.stream("GET", request_url, headers=headers, extensions=extensions) as response,
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
