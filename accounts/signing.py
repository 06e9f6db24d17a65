"""JWT signing keys: ES256 keys stored encrypted, rotated without invalidating live tokens.

The newest key that is not retired signs. Retiring a key stops it signing at once; it keeps
verifying for a grace period at least as long as an access token lives, so tokens it signed stay
valid until their own expiry.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from joserfc.jwk import ECKey, KeySet
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.models import SigningKey
from core.crypto import KeyRing
from core.ids import new_id

ALGORITHM = "ES256"
KEY_AAD = b"accounts_signing_key"


async def rotate_signing_key(session: AsyncSession, keyring: KeyRing, *, now: datetime) -> SigningKey:
    """Create a new signing key and retire every other one (they still verify for the grace period)."""
    await session.execute(
        sa.update(SigningKey).where(col(SigningKey.retired_at).is_(None)).values(retired_at=now)
    )
    kid = new_id().hex
    key = ECKey.generate_key("P-256", parameters={"kid": kid, "alg": ALGORITHM, "use": "sig"})
    row = SigningKey(
        kid=kid,
        algorithm=ALGORITHM,
        public_jwk=json.dumps(key.as_dict(private=False)),
        private_jwk_encrypted=keyring.encrypt(
            json.dumps(key.as_dict(private=True)).encode(), associated_data=KEY_AAD
        ),
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def signing_key(session: AsyncSession, keyring: KeyRing, *, now: datetime) -> ECKey:
    """The key that signs now; the first call on a new installation creates it."""
    row = (
        await session.scalars(
            sa.select(SigningKey)
            .where(col(SigningKey.retired_at).is_(None))
            .order_by(col(SigningKey.created_at).desc())
            .limit(1)
        )
    ).first()
    if row is None:
        row = await rotate_signing_key(session, keyring, now=now)
    private = json.loads(keyring.decrypt(row.private_jwk_encrypted, associated_data=KEY_AAD))
    return ECKey.import_key(private)


class VerificationKeyCache:
    """Public keys kept in memory for ``ttl``; a token naming an unknown ``kid`` reloads them at once,
    so a key rotated by another process (``deskline keys rotate``) verifies without waiting.

    It also remembers which tokens' signatures the loaded keys already verified (keyed by the whole
    token, signature included), so a client reusing its token is not re-verified on every request.
    That memory is dropped whenever the keys reload, so a key that disappears stops verifying its
    tokens within ``ttl``, exactly as for tokens never seen before. Claims (expiry, audience) are
    still checked on every request by the caller.
    """

    def __init__(self, ttl: timedelta, *, remembered_tokens: int = 10_000) -> None:
        self._ttl = ttl
        self._keys: KeySet | None = None
        self._kids: frozenset[str] = frozenset()
        self._loaded_at: datetime | None = None
        self._verified: dict[str, dict[str, Any]] = {}  # Any: JSON claim values
        self._limit = remembered_tokens

    async def keys_for(
        self, session: AsyncSession, kid: str | None, *, now: datetime, grace: timedelta
    ) -> KeySet:
        loaded = self._loaded_at
        fresh = loaded is not None and loaded <= now < loaded + self._ttl
        if self._keys is None or not fresh or (kid is not None and kid not in self._kids):
            self._keys = await verification_keys(session, now=now, grace=grace)
            self._kids = frozenset(str(key.kid) for key in self._keys.keys)
            self._loaded_at = now
            self._verified = {}
        return self._keys

    def still_verified(self, token: str, *, now: datetime) -> dict[str, Any] | None:
        """Claims of a token the current keys verified, while they are fresh: then its key needs no
        lookup (the memory is dropped whenever the keys reload)."""
        loaded = self._loaded_at
        if loaded is None or not loaded <= now < loaded + self._ttl:
            return None
        return self._verified.get(token)

    def remember(self, token: str, claims: dict[str, Any]) -> None:
        if len(self._verified) >= self._limit:
            self._verified.clear()  # bounded memory; the next requests simply verify again
        self._verified[token] = claims


async def verification_keys(session: AsyncSession, *, now: datetime, grace: timedelta) -> KeySet:
    """Public keys that still verify: the active one and those retired less than ``grace`` ago."""
    rows = (
        await session.scalars(
            sa.select(SigningKey)
            .where(sa.or_(col(SigningKey.retired_at).is_(None), col(SigningKey.retired_at) > now - grace))
            .order_by(col(SigningKey.created_at).desc())
        )
    ).all()
    return KeySet([ECKey.import_key(json.loads(row.public_jwk)) for row in rows])
