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
from accounts.authentication import USER_ACCESS, authenticate_password
from accounts.models import BrowserSession

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


async def open_session(
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


async def find(session: AsyncSession, token: str, *, now: datetime) -> Found | None:
    """The live session the cookie names, as its user; None for an unknown, ended or deactivated one."""
    row = (
        await session.scalars(sa.select(BrowserSession).where(col(BrowserSession.token_hash) == _hash(token)))
    ).first()
    if row is None or row.expires_at <= now:
        return None
    user = (await session.execute(USER_ACCESS, {"id": row.user_id})).first()
    if user is None or not user.is_active:
        return None
    actor = Actor(
        kind="user", id=user.id, role=user.role, organization_id=user.organization_id, email=user.email
    )
    return Found(actor, row.csrf_token, row.expires_at)


def csrf_matches(found: Found, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(found.csrf_token.encode(), sent.encode())


async def close(session: AsyncSession, token: str) -> None:
    await session.execute(sa.delete(BrowserSession).where(col(BrowserSession.token_hash) == _hash(token)))
