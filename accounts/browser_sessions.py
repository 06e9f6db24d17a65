"""Sessions for the browser (the portal's backend-for-frontend sign-in): the token lives only in an
HttpOnly cookie and as a hash here; the page holds just the session's CSRF token, which every state
change must send back in a header. Sessions end at sign-out, after ``lifetime``, or when the user is
deactivated."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.actor import Actor
from accounts.authentication import authenticate_password
from accounts.models import BrowserSession, User

COOKIE = "deskline_session"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True, slots=True)
class Opened:
    token: str  # for the cookie only
    csrf_token: str
    expires_at: datetime
    user_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Found:
    actor: Actor
    csrf_token: str
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_browser_session(
    session: AsyncSession, *, email: str, password: str, lifetime: timedelta, now: datetime
) -> Opened:
    """Sign in with e-mail and password (the same check as the API's login)."""
    user = await authenticate_password(session, email, password)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    row = BrowserSession(
        user_id=user.id, token_hash=_hash(token), csrf_token=csrf, created_at=now, expires_at=now + lifetime
    )
    session.add(row)
    await session.execute(  # sessions that ended are forgotten on the way
        sa.delete(BrowserSession).where(
            col(BrowserSession.user_id) == user.id, col(BrowserSession.expires_at) <= now
        )
    )
    await session.flush()
    return Opened(token, csrf, row.expires_at, user.id)


async def find_browser_session(session: AsyncSession, token: str, *, now: datetime) -> Found | None:
    """The live session the cookie names, as its user; None for an unknown, ended or deactivated one.
    One query: this runs on every request the portal makes."""
    row = (
        await session.execute(
            sa.select(
                col(BrowserSession.csrf_token),
                col(BrowserSession.expires_at),
                col(User.id),
                col(User.role),
                col(User.organization_id),
                col(User.email),
            )
            .join(User, col(User.id) == col(BrowserSession.user_id))
            .where(
                col(BrowserSession.token_hash) == _hash(token),
                col(BrowserSession.expires_at) > now,
                col(User.is_active),
            )
        )
    ).first()
    if row is None:
        return None
    actor = Actor(kind="user", id=row.id, role=row.role, organization_id=row.organization_id, email=row.email)
    return Found(actor, row.csrf_token, row.expires_at)


def csrf_matches(found: Found, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(found.csrf_token.encode(), sent.encode())


async def close_browser_session(session: AsyncSession, token: str) -> None:
    await session.execute(sa.delete(BrowserSession).where(col(BrowserSession.token_hash) == _hash(token)))
