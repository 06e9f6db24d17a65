"""Access tokens (short-lived ES256 JWTs) and rotating refresh tokens.

Rules: an access token names its subject, audience and expiry and is verified only with our own
current keys (or a configured external OpenID Connect issuer's); ``alg: none`` and HMAC are never
accepted. A refresh token is used once: using it again revokes every token of its family.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.errors import InvalidToken
from accounts.models import RefreshToken
from accounts.signing import ALGORITHM, VerificationKeyCache, signing_key
from core.crypto import KeyRing, digest_token
from core.nesting import nesting_exceeds


class RefreshTokenReused(InvalidToken):
    """A rotated refresh token came back: the whole family is revoked, and that must stick."""

    commit_before_raising = True


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    issuer: str
    audience: str
    access_ttl: timedelta
    refresh_ttl: timedelta
    verify_grace: timedelta


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    token: str
    expires_in: int
    scope: str


async def issue_access_token(
    session: AsyncSession,
    keyring: KeyRing,
    policy: TokenPolicy,
    *,
    subject: str,
    subject_kind: str,
    now: datetime,
    scope: str = "",
    extra_claims: dict[str, Any] | None = None,  # Any: JSON claim values
) -> IssuedAccessToken:
    key = await signing_key(session, keyring, now=now)
    issued_at = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": policy.issuer,
        "aud": policy.audience,
        "sub": subject,
        "sub_kind": subject_kind,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + int(policy.access_ttl.total_seconds()),
        "jti": uuid.uuid4().hex,
        **(extra_claims or {}),
    }
    if scope:
        claims["scope"] = scope
    token = jwt.encode({"alg": ALGORITHM, "kid": key.kid, "typ": "at+jwt"}, claims, key)
    return IssuedAccessToken(token=token, expires_in=int(policy.access_ttl.total_seconds()), scope=scope)


LEEWAY_SECONDS = 30  # clock skew allowed on exp, nbf and iat


def verify_jwt(
    token: str, keys: KeySet, *, issuer: str, audience: str | None, now: datetime, algorithms: list[str]
) -> dict[str, Any]:
    """Verify signature, issuer, audience and time claims; raise InvalidToken for anything off."""
    if any(nesting_exceeds(segment) for segment in _segments(token)):
        raise InvalidToken("The access token is invalid or has expired.")
    try:
        claims = dict(jwt.decode(token, keys, algorithms=algorithms).claims)
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidToken("The access token is invalid or has expired.") from exc
    validate_claims(claims, issuer=issuer, audience=audience, now=now)
    return claims


def validate_claims(claims: dict[str, Any], *, issuer: str, audience: str | None, now: datetime) -> None:
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": issuer},
        "sub": {"essential": True},
        "exp": {"essential": True},
    }
    if audience is not None:
        options["aud"] = {"essential": True, "value": audience}
    try:
        JWTClaimsRegistry(now=int(now.timestamp()), leeway=LEEWAY_SECONDS, **options).validate(claims)
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidToken("The access token is invalid or has expired.") from exc


async def verify_access_token(
    session: AsyncSession, policy: TokenPolicy, token: str, *, now: datetime, cache: VerificationKeyCache
) -> dict[str, Any]:
    claims = cache.still_verified(token, now=now)  # most requests: a token seen since the keys loaded
    if claims is None:  # not seen, or the keys are due to reload (which forgets every token): verify it
        keys = await cache.keys_for(session, _unverified_kid(token), now=now, grace=policy.verify_grace)
        claims = verify_jwt(
            token, keys, issuer=policy.issuer, audience=policy.audience, now=now, algorithms=[ALGORITHM]
        )
        cache.remember(token, claims)
        return claims
    # The same token was verified whole before: its issuer, audience and subject cannot have changed,
    # only the time has, so only its time claims are checked again (every request carries a token).
    instant = now.timestamp()
    if (
        float(claims["exp"]) + LEEWAY_SECONDS < instant
        or float(claims.get("nbf", 0)) - LEEWAY_SECONDS > instant
    ):
        raise InvalidToken("The access token is invalid or has expired.")
    return claims


def _segments(token: str) -> list[bytes]:
    """The decoded header and payload of a compact JWT (what of them is base64)."""
    found = []
    for segment in token.split(".")[:2]:
        try:
            found.append(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        except ValueError:  # binascii.Error is a ValueError: not base64, the verification refuses it
            continue
    return found


def unverified_part(token: str, index: int) -> dict[str, Any]:  # Any: JSON values
    """The JOSE header (0) or the claims (1) of a token, unverified: only to choose which keys verify
    it; nothing in it is trusted before the verification. Empty when it cannot be read (not base64, not
    JSON, or nested deeper than any token is)."""
    segments = token.split(".")
    if len(segments) != 3:
        return {}
    try:
        raw = base64.urlsafe_b64decode(segments[index] + "=" * (-len(segments[index]) % 4))
        if nesting_exceeds(raw):
            return {}
        found = json.loads(raw)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _unverified_kid(token: str) -> str | None:
    """Only to pick the key; the signature check that follows decides whether to trust anything."""
    kid = unverified_part(token, 0).get("kid")
    return kid if isinstance(kid, str) else None


async def issue_refresh_token(
    session: AsyncSession,
    policy: TokenPolicy,
    *,
    user_id: uuid.UUID,
    now: datetime,
    family_id: uuid.UUID | None = None,
) -> str:
    raw = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            family_id=family_id or uuid.uuid4(),
            user_id=user_id,
            token_hash=digest_token(raw),
            issued_at=now,
            expires_at=now + policy.refresh_ttl,
        )
    )
    await session.flush()
    return raw


async def rotate_refresh_token(
    session: AsyncSession, policy: TokenPolicy, raw: str, *, now: datetime
) -> tuple[uuid.UUID, str]:
    """Spend a refresh token: return its user and a new token of the same family."""
    current = (
        await session.scalars(
            sa.select(RefreshToken).where(col(RefreshToken.token_hash) == digest_token(raw)).with_for_update()
        )
    ).first()
    if current is None:
        raise InvalidToken("The refresh token is unknown.")
    if current.rotated_at is not None or current.revoked_at is not None:
        await revoke_family(session, current.family_id, now=now)
        raise RefreshTokenReused(
            "The refresh token was already used; every token of this login is now revoked."
        )
    if current.expires_at <= now:
        raise InvalidToken("The refresh token has expired; log in again.")
    current.rotated_at = now
    replacement = await issue_refresh_token(
        session, policy, user_id=current.user_id, now=now, family_id=current.family_id
    )
    return current.user_id, replacement


async def revoke_family(session: AsyncSession, family_id: uuid.UUID, *, now: datetime) -> None:
    await session.execute(
        sa.update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )


async def revoke_user_tokens(session: AsyncSession, user_id: uuid.UUID, *, now: datetime) -> None:
    """Deactivation and role changes end every refresh family of the user."""
    await session.execute(
        sa.update(RefreshToken)
        .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
