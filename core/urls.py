"""Outgoing requests to URLs that outsiders give (busy calendars, webhook endpoints) must not reach
inside the network (SSRF): only http(s), an allowed host when a list is set, and every address the
host resolves to public unless private ones are allowed; the request then goes to the address that
was checked (no DNS rebinding)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.errors import FieldProblem, InvalidInput


class UnsafeUrl(InvalidInput):
    """A URL the guard refuses; the message says why."""


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    allowed_hosts: frozenset[str]  # empty: any host
    allow_private: bool


@dataclass(frozen=True, slots=True)
class Target:
    """Where a checked URL may be fetched: its host name and the one address that passed the check."""

    host: str
    address: ipaddress.IPv4Address | ipaddress.IPv6Address


def _refuse(message: str) -> UnsafeUrl:
    return UnsafeUrl(message, errors=[FieldProblem("url", message)])


async def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    with contextlib.suppress(ValueError):
        # A literal address names itself: no resolver round trip (a thread hop each time: a tenth of
        # a webhook's cost for a receiver given by address).
        return [ipaddress.ip_address(host)]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:  # IDNA refuses over-long or odd labels
        raise _refuse(f"The host {host!r} does not resolve.") from exc
    return [ipaddress.ip_address(info[4][0]) for info in infos]


async def check_url(url: str, policy: UrlPolicy, *, what: str) -> Target:
    """Refuse anything but http(s) to an allowed host whose every address is public (unless allowed)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        _ = parts.port  # a port that is not a number in range raises here, not later
    except ValueError as exc:
        raise _refuse(f"That is not a well-formed {what} URL.") from exc
    if parts.scheme not in {"http", "https"} or not host:
        raise _refuse(f"Only http:// and https:// {what} URLs are accepted.")
    if policy.allowed_hosts and host not in policy.allowed_hosts:
        raise _refuse(f"The host {host!r} is not on the allow-list of {what} hosts.")
    addresses = await _addresses(host)
    if not addresses:
        raise _refuse(f"The host {host!r} does not resolve.")
    if not policy.allow_private and any(not address.is_global for address in addresses):
        raise _refuse(f"{what.capitalize()} URLs may not point at private, loopback or link-local addresses.")
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
