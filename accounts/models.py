"""Tables of the accounts area: organisations, users, purchases, the designated contact, tokens, audit."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from accounts.roles import Role
from core.db import enum_check, enum_field, id_field, utc_field, uuid_fk


class PurchaseChannel(StrEnum):
    DIRECT = "direct"
    PARTNER = "partner"


class Organization(SQLModel, table=True):
    __tablename__ = "accounts_organization"

    id: uuid.UUID = id_field()
    name: str = Field(max_length=200, index=True)
    tax_id: str | None = Field(default=None, max_length=32, unique=True)
    time_zone: str = Field(default="Europe/Moscow", max_length=64)
    locale: str = Field(default="ru", max_length=8)
    created_at: datetime = utc_field()


class User(SQLModel, table=True):
    __tablename__ = "accounts_user"
    __table_args__ = (
        enum_check("role", Role),
        # Customers always belong to an organisation; staff may belong to the vendor's or none.
        sa.CheckConstraint(
            "role NOT IN ('customer_user', 'customer_admin') OR organization_id IS NOT NULL",
            name="customer_has_organization",
        ),
        # Lets the support contact reference (user, organisation) together: the DB keeps them consistent.
        sa.UniqueConstraint("id", "organization_id", name="uq_accounts_user_id_organization"),
    )

    id: uuid.UUID = id_field()
    email: str = Field(max_length=254, unique=True)
    full_name: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    password_hash: str | None = Field(default=None, max_length=255)
    role: Role = enum_field(Role)
    organization_id: uuid.UUID | None = uuid_fk("accounts_organization.id", nullable=True)
    is_active: bool = Field(default=True)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class ExternalIdentity(SQLModel, table=True):
    """A user's account at a trusted OpenID Connect issuer. Made at the first sign-in, which needs a
    verified e-mail; from then on the issuer's subject names the user, whatever e-mail its tokens carry,
    and the user answers to no other subject of that issuer."""

    __tablename__ = "accounts_external_identity"
    __table_args__ = (
        sa.UniqueConstraint("issuer", "subject", name="uq_accounts_external_identity_issuer_subject"),
        sa.UniqueConstraint("issuer", "user_id", name="uq_accounts_external_identity_issuer_user"),
    )

    id: uuid.UUID = id_field()
    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=255)
    user_id: uuid.UUID = uuid_fk("accounts_user.id", ondelete="CASCADE")
    created_at: datetime = utc_field()


class SupportContact(SQLModel, table=True):
    """The one designated support contact of an organisation (the primary key makes it one)."""

    __tablename__ = "accounts_support_contact"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["user_id", "organization_id"],
            ["accounts_user.id", "accounts_user.organization_id"],
            name="fk_accounts_support_contact_user_same_org",
        ),
    )

    organization_id: uuid.UUID = Field(foreign_key="accounts_organization.id", primary_key=True)
    user_id: uuid.UUID = Field(index=True)
    assigned_at: datetime = utc_field()
    assigned_by: uuid.UUID | None = Field(default=None)


class Purchase(SQLModel, table=True):
    """A record that a company bought the product, directly or through a (possibly former) partner."""

    __tablename__ = "accounts_purchase"
    __table_args__ = (
        enum_check("channel", PurchaseChannel),
        sa.CheckConstraint("channel = 'direct' OR partner_name IS NOT NULL", name="partner_named"),
    )

    id: uuid.UUID = id_field()
    organization_id: uuid.UUID = uuid_fk("accounts_organization.id")
    product: str = Field(max_length=200)
    purchased_on: date
    channel: PurchaseChannel = enum_field(PurchaseChannel)
    partner_name: str | None = Field(default=None, max_length=200)
    reference: str = Field(max_length=100, unique=True)
    created_at: datetime = utc_field()
    created_by: uuid.UUID | None = Field(default=None)


class IntegrationClient(SQLModel, table=True):
    """A machine client with OAuth2 client credentials and scopes instead of a role."""

    __tablename__ = "accounts_integration_client"

    id: uuid.UUID = id_field()
    client_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    secret_hash: str = Field(max_length=255)
    scopes: str = Field(default="", max_length=1000)  # space-separated, as OAuth writes them
    is_active: bool = Field(default=True)
    created_at: datetime = utc_field()


class RefreshToken(SQLModel, table=True):
    """A rotating refresh token, stored as a hash; tokens of one login form a family."""

    __tablename__ = "accounts_refresh_token"

    id: uuid.UUID = id_field()
    family_id: uuid.UUID = Field(index=True)
    user_id: uuid.UUID = uuid_fk("accounts_user.id", ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    issued_at: datetime = utc_field()
    expires_at: datetime = utc_field()
    rotated_at: datetime | None = utc_field(nullable=True)
    revoked_at: datetime | None = utc_field(nullable=True)


class BrowserSession(SQLModel, table=True):
    """A signed-in browser (the portal): the cookie carries a random token, stored here as a hash, so
    no token ever reaches the page's scripts. State changes must carry the session's CSRF token."""

    __tablename__ = "accounts_browser_session"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = uuid_fk("accounts_user.id", ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = utc_field()
    expires_at: datetime = utc_field()


class SigningKey(SQLModel, table=True):
    """An asymmetric JWT signing key; the newest active one signs, the others still verify."""

    __tablename__ = "accounts_signing_key"

    kid: str = Field(primary_key=True, max_length=64)
    algorithm: str = Field(max_length=16)
    public_jwk: str = Field(sa_type=sa.Text)
    private_jwk_encrypted: str = Field(sa_type=sa.Text)
    created_at: datetime = utc_field()
    retired_at: datetime | None = utc_field(nullable=True)


class AuditEvent(SQLModel, table=True):
    """Append-only record of a sensitive action (the database refuses updates and deletes)."""

    __tablename__ = "accounts_audit_event"

    id: uuid.UUID = id_field()
    occurred_at: datetime = utc_field(index=True)
    actor_type: str = Field(max_length=16)
    actor_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=64, index=True)
    subject_type: str = Field(max_length=64)
    subject_id: str = Field(max_length=64, index=True)
    organization_id: uuid.UUID | None = Field(default=None, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
