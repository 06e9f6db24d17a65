"""The three ways to get an access token: password login, refresh, client credentials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.authentication import authenticate_password
from accounts.clients import authenticate_client
from accounts.errors import InvalidToken
from accounts.models import User
from accounts.tokens import (
    IssuedAccessToken,
    TokenPolicy,
    issue_access_token,
    issue_refresh_token,
    rotate_refresh_token,
)
from core.crypto import KeyRing
from core.errors import FieldProblem, InvalidInput


@dataclass(frozen=True, slots=True)
class TokenPair:
    access: IssuedAccessToken
    refresh_token: str


async def _pair_for(
    session: AsyncSession, keyring: KeyRing, policy: TokenPolicy, user: User, refresh: str, now: datetime
) -> TokenPair:
    access = await issue_access_token(
        session,
        keyring,
        policy,
        subject=str(user.id),
        subject_kind="user",
        now=now,
        extra_claims={
            "role": user.role.value,
            "org": str(user.organization_id) if user.organization_id else None,
        },
    )
    return TokenPair(access=access, refresh_token=refresh)


async def password_login(
    session: AsyncSession, keyring: KeyRing, policy: TokenPolicy, *, email: str, password: str, now: datetime
) -> TokenPair:
    user = await authenticate_password(session, email, password)
    refresh = await issue_refresh_token(session, policy, user_id=user.id, now=now)
    return await _pair_for(session, keyring, policy, user, refresh, now)


async def refresh_tokens(
    session: AsyncSession, keyring: KeyRing, policy: TokenPolicy, *, token: str, now: datetime
) -> TokenPair:
    user_id, replacement = await rotate_refresh_token(session, policy, token, now=now)
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise InvalidToken("The user of this refresh token is not active.")
    return await _pair_for(session, keyring, policy, user, replacement, now)


async def client_credentials(
    session: AsyncSession,
    keyring: KeyRing,
    policy: TokenPolicy,
    *,
    client_id: str,
    client_secret: str,
    requested_scopes: list[str] | None,
    now: datetime,
) -> IssuedAccessToken:
    """A token for an integration: by default all its scopes; never more than it was granted."""
    client = await authenticate_client(session, client_id, client_secret)
    granted = set(client.scopes.split())
    scopes = granted if requested_scopes is None else set(requested_scopes)
    if not scopes <= granted:
        raise InvalidInput(
            "The client may not request scopes it was not granted: " + " ".join(sorted(scopes - granted)),
            errors=[FieldProblem("scope", "not granted to this client")],
        )
    return await issue_access_token(
        session,
        keyring,
        policy,
        subject=str(client.id),
        subject_kind="client",
        now=now,
        scope=" ".join(sorted(scopes)),
    )
