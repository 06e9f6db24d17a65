"""The customer portal's page and its sign-in (authentication plumbing only: everything else the
portal reads and writes goes through the public /v1 operations). Signing in opens a server-side
session named by an HttpOnly, SameSite=Strict cookie (Secure over HTTPS); the page's scripts never see
a token, only the session's CSRF token, which every state change sends back in ``X-CSRF-Token``."""

from __future__ import annotations

import html
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException
from litestar.params import JSONBody

from accounts import (
    COOKIE,
    CSRF_HEADER,
    CsrfTokenInvalid,
    InvalidCredentials,
    LoginIn,
    LoginThrottled,
    ThrottleUnavailable,
    close_browser_session,
    csrf_matches,
    find_browser_session,
    open_browser_session,
)
from api.contract import problems
from api.dependencies import DB, Ctx, client_address
from api.errors import UNAUTHENTICATED
from api.settings import Settings

PORTAL_ASSETS = Path(__file__).resolve().parent.parent / "static" / "portal"
PORTAL_ASSETS_URL = "/portal/assets"


# Signing out clears the cookie in the browser as well.
ENDED = Cookie(key=COOKIE, value="", path="/", max_age=0, httponly=True, samesite="strict")


class BrowserSessionOut(msgspec.Struct, kw_only=True):
    csrf_token: str  # send it back in X-CSRF-Token with every state change
    expires_at: str
    user_id: str


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: Settings) -> str:
    """Scripts from this origin and Stripe.js only (no inline script or style); Stripe's frames. Stripe.js
    talks to its own origin (the stand-in's, in development) and to Stripe's API."""
    stripe = _origin(settings.stripe_js_url)
    return (
        "default-src 'self'; "
        f"script-src 'self' {stripe}; "
        f"connect-src 'self' {stripe} https://api.stripe.com; "
        f"frame-src {stripe} https://hooks.stripe.com; "
        "img-src 'self' data:; style-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


@cache
def _shell() -> str:
    """The portal's one page, read once."""
    return (PORTAL_ASSETS / "index.html").read_text()


def _secure(request: Request[Any, Any, Any], settings: Settings) -> bool:
    return request.url.scheme == "https" or settings.public_url.startswith("https://")


def _cookie(request: Request[Any, Any, Any], settings: Settings, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=value,
        path="/",
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=_secure(request, settings),
    )


class PortalController(Controller):
    tags = ["portal"]

    @get("/portal", include_in_schema=False, media_type="text/html")
    async def page(self, ctx: Ctx) -> Response[str]:
        settings = ctx.settings
        shell = (
            _shell()
            .replace("{{stripe_js}}", html.escape(settings.stripe_js_url, quote=True))
            .replace("{{stripe_key}}", html.escape(settings.stripe_publishable_key, quote=True))
        )
        return Response(
            shell,
            media_type="text/html",
            headers={
                "Content-Security-Policy": content_security_policy(settings),
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
                "Cache-Control": "no-store",
            },
        )

    @problems(InvalidCredentials, LoginThrottled, ThrottleUnavailable)
    @post(
        "/portal/session",
        summary="Portal sign-in: opens a browser session (HttpOnly cookie) and returns its CSRF token",
        status_code=200,
    )
    async def sign_in(
        self, request: Request[Any, Any, Any], data: JSONBody[LoginIn], db: DB, ctx: Ctx
    ) -> Response[BrowserSessionOut]:
        lifetime = timedelta(hours=ctx.settings.portal_session_hours)
        opened = await ctx.throttle.attempt(
            account=data.email,
            address=client_address(request),
            login=lambda: open_browser_session(
                db, email=data.email, password=data.password, lifetime=lifetime, now=ctx.clock.now()
            ),
        )
        body = BrowserSessionOut(
            csrf_token=opened.csrf_token,
            expires_at=opened.expires_at.isoformat(),
            user_id=str(opened.user_id),
        )
        cookie = _cookie(request, ctx.settings, opened.token, int(lifetime.total_seconds()))
        return Response(body, cookies=[cookie], headers={"Cache-Control": "no-store"})

    @problems(kinds=[UNAUTHENTICATED])
    @get("/portal/session", summary="The portal's browser session: its CSRF token (401 when signed out)")
    async def current(self, request: Request[Any, Any, Any], db: DB, ctx: Ctx) -> Response[BrowserSessionOut]:
        token = request.cookies.get(COOKIE)
        found = await find_browser_session(db, token, now=ctx.clock.now()) if token else None
        if found is None:
            raise NotAuthorizedException("Not signed in to the portal.")
        body = BrowserSessionOut(
            csrf_token=found.csrf_token, expires_at=found.expires_at.isoformat(), user_id=str(found.actor.id)
        )
        return Response(body, headers={"Cache-Control": "no-store"})

    @problems(CsrfTokenInvalid)
    @delete(
        "/portal/session",
        summary="Portal sign-out: ends the browser session (X-CSRF-Token)",
        status_code=204,
        response_cookies=[ENDED],
    )
    async def sign_out(self, request: Request[Any, Any, Any], db: DB, ctx: Ctx) -> None:
        token = request.cookies.get(COOKIE)
        found = await find_browser_session(db, token, now=ctx.clock.now()) if token else None
        if found is not None:
            if not csrf_matches(found, request.headers.get(CSRF_HEADER)):
                raise CsrfTokenInvalid("Send the session's CSRF token in the X-CSRF-Token header.")
            await close_browser_session(db, token or "")
