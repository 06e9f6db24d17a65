"""Integration clients: machine callers with OAuth2 client credentials and scopes."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import audit
from accounts.actor import Actor
from accounts.errors import InvalidCredentials
from accounts.models import IntegrationClient
from accounts.passwords import hash_password, verify_password
from accounts.roles import Scope
from core.errors import FieldProblem, InvalidInput, NotFound
from core.pagination import Page, paginate


def _validated_scopes(scopes: list[str]) -> str:
    unknown = sorted(set(scopes) - {s.value for s in Scope})
    if unknown:
        raise InvalidInput(
            "Unknown scopes: " + ", ".join(unknown),
            errors=[FieldProblem("scopes", f"unknown scope {s}") for s in unknown],
        )
    return " ".join(sorted(set(scopes)))


async def create_client(
    session: AsyncSession, actor: Actor, *, name: str, scopes: list[str], now: datetime
) -> tuple[IntegrationClient, str]:
    """Register a client; the secret is returned once and stored only as an argon2 hash."""
    secret = secrets.token_urlsafe(32)
    client = IntegrationClient(
        client_id="dlc_" + secrets.token_hex(12),
        name=name,
        secret_hash=hash_password(secret),
        scopes=_validated_scopes(scopes),
        created_at=now,
    )
    session.add(client)
    await session.flush()
    await audit.record_audit(
        session,
        actor,
        "integration_client_created",
        subject_type="integration_client",
        subject_id=client.id,
        now=now,
        data={"client_id": client.client_id, "scopes": client.scopes},
    )
    return client, secret


async def list_clients(session: AsyncSession, *, limit: int, cursor: str | None) -> Page[IntegrationClient]:
    return await paginate(
        session, sa.select(IntegrationClient), col(IntegrationClient.id), limit=limit, cursor=cursor
    )


async def deactivate_client(
    session: AsyncSession, actor: Actor, client_id: uuid.UUID, *, now: datetime
) -> IntegrationClient:
    client = await session.get(IntegrationClient, client_id)
    if client is None:
        raise NotFound("No integration client with this id.")
    if client.is_active:
        client.is_active = False
        await audit.record_audit(
            session,
            actor,
            "integration_client_deactivated",
            subject_type="integration_client",
            subject_id=client.id,
            now=now,
            data={"client_id": client.client_id},
        )
    await session.flush()
    return client


async def authenticate_client(session: AsyncSession, client_id: str, secret: str) -> IntegrationClient:
    client = (
        await session.scalars(
            sa.select(IntegrationClient).where(col(IntegrationClient.client_id) == client_id)
        )
    ).first()
    valid = verify_password(client.secret_hash if client else None, secret)
    if client is None or not valid or not client.is_active:
        raise InvalidCredentials("Client authentication failed.")
    return client
