"""Fetching a busy calendar by URL without letting the URL reach inside the network (SSRF)."""

from __future__ import annotations

import httpx

from core.errors import FieldProblem
from core.urls import Target, UnsafeUrl, UrlPolicy, pinned
from core.urls import check_url as guard
from scheduling.busy import MAX_ICS_BYTES
from scheduling.errors import CalendarImportFailed

TIMEOUT_SECONDS = 10.0


FetchPolicy = UrlPolicy  # calendar URLs are guarded like every URL an outsider gives


def _refuse(message: str) -> CalendarImportFailed:
    return CalendarImportFailed(message, errors=[FieldProblem("url", message)])


async def check_url(url: str, policy: FetchPolicy) -> Target:
    try:
        return await guard(url, policy, what="calendar")
    except UnsafeUrl as exc:
        raise _refuse(exc.detail) from exc


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
