"""Symmetric encryption at rest (AES-256-GCM) with a key id so keys can rotate.

A ciphertext is ``<kid>.<base64url(nonce || ciphertext+tag)>``; decrypting picks the key by its id,
encrypting always uses the primary key. Keys are derived from configured secrets with HKDF so a
configured secret of any length yields a proper 256-bit key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


class DecryptionFailed(Exception):
    """The ciphertext was tampered with, or its key is no longer configured."""


def derive_key(secret: str, purpose: str) -> bytes:
    """A 256-bit key for one purpose, derived from a configured secret."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        secret.encode()
    )


class KeyRing:
    """AES-GCM keys by id; the primary one encrypts, all of them decrypt."""

    def __init__(self, keys: Mapping[str, bytes], primary: str) -> None:
        if primary not in keys:
            raise ValueError(f"primary key id {primary!r} is not among the configured keys")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.primary = primary

    def encrypt(self, plaintext: bytes, *, associated_data: bytes = b"") -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.primary].encrypt(nonce, plaintext, associated_data)
        return f"{self.primary}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, associated_data: bytes = b"") -> bytes:
        kid, _, body = token.partition(".")
        aead = self._keys.get(kid)
        if aead is None or not body:
            raise DecryptionFailed(f"no key with id {kid!r}")
        raw = base64.urlsafe_b64decode(body.encode())
        try:
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data)
        except Exception as exc:  # cryptography raises InvalidTag; never leak why
            raise DecryptionFailed("ciphertext rejected") from exc


def digest_token(token: str) -> str:
    """SHA-256 of a high-entropy token (refresh tokens, feed tokens): stored instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()
