"""Request and response bodies of the identity API (v1)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from accounts.models import AuditEvent, IntegrationClient, Organization, Purchase, PurchaseChannel, User
from accounts.roles import Role
from core.text import Name

Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9 ()\-]{5,40}$")]
Password = Annotated[str, msgspec.Meta(min_length=10, max_length=256)]
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["Europe/Moscow"])]
Locale = Annotated[str, msgspec.Meta(pattern=r"^(en|ru)$")]
TaxId = Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Za-z\-]{4,32}$")]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of write models: an unknown field is an error, not silently dropped."""


class LoginIn(Input):
    email: str
    password: str


class TokenOut(msgspec.Struct, kw_only=True):
    access_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 token type, not a secret
    refresh_token: str | msgspec.UnsetType = msgspec.UNSET
    scope: str | msgspec.UnsetType = msgspec.UNSET


class OrganizationIn(Input):
    name: Name
    tax_id: TaxId | None = None
    time_zone: TimeZone = "Europe/Moscow"
    locale: Locale = "ru"


class OrganizationPatch(Input):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    tax_id: TaxId | msgspec.UnsetType | None = msgspec.UNSET
    time_zone: TimeZone | msgspec.UnsetType = msgspec.UNSET
    locale: Locale | msgspec.UnsetType = msgspec.UNSET


class SupportContactOut(msgspec.Struct, kw_only=True):
    user_id: uuid.UUID
    full_name: str
    email: str
    assigned_at: datetime


class OrganizationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    tax_id: str | None
    time_zone: str
    locale: str
    created_at: datetime
    support_contact: SupportContactOut | None = None

    @classmethod
    def build(cls, org: Organization, contact: SupportContactOut | None = None) -> OrganizationOut:
        return cls(
            id=org.id,
            name=org.name,
            tax_id=org.tax_id,
            time_zone=org.time_zone,
            locale=org.locale,
            created_at=org.created_at,
            support_contact=contact,
        )


class UserIn(Input):
    email: Email
    full_name: Name
    role: Role = Role.CUSTOMER_USER
    phone: Phone | None = None
    password: Password | None = None


class UserPatch(Input):
    full_name: Name | msgspec.UnsetType = msgspec.UNSET
    phone: Phone | msgspec.UnsetType | None = msgspec.UNSET
    role: Role | msgspec.UnsetType = msgspec.UNSET
    is_active: bool | msgspec.UnsetType = msgspec.UNSET


class UserOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    email: str
    full_name: str
    phone: str | None
    role: Role
    organization_id: uuid.UUID | None
    is_active: bool
    created_at: datetime

    @classmethod
    def build(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            full_name=user.full_name,
            phone=user.phone,
            role=user.role,
            organization_id=user.organization_id,
            is_active=user.is_active,
            created_at=user.created_at,
        )


class MeOut(msgspec.Struct, kw_only=True):
    kind: str
    id: uuid.UUID
    roles: list[str]
    scopes: list[str]
    organization: OrganizationOut | None
    user: UserOut | None
    is_support_contact: bool


class SupportContactIn(Input):
    user_id: uuid.UUID


class PurchaseIn(Input):
    product: Name
    purchased_on: date
    channel: PurchaseChannel
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    partner_name: Name | None = None


class PurchaseOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    organization_id: uuid.UUID
    product: str
    purchased_on: date
    channel: PurchaseChannel
    partner_name: str | None
    reference: str
    created_at: datetime

    @classmethod
    def build(cls, purchase: Purchase) -> PurchaseOut:
        return cls(
            id=purchase.id,
            organization_id=purchase.organization_id,
            product=purchase.product,
            purchased_on=purchase.purchased_on,
            channel=purchase.channel,
            partner_name=purchase.partner_name,
            reference=purchase.reference,
            created_at=purchase.created_at,
        )


class PurchaseImportOut(msgspec.Struct, kw_only=True):
    imported: Annotated[int, msgspec.Meta(description="Purchases recorded (0 for a preview)")]
    preview: Annotated[
        bool, msgspec.Meta(description="Nothing was stored: items are what importing would record")
    ]
    items: list[PurchaseOut]


class EligibilityOut(msgspec.Struct, kw_only=True):
    organization_id: uuid.UUID
    eligible: bool
    reason: str
    purchase: PurchaseOut | None
    support_contact: SupportContactOut | None


class IntegrationClientIn(Input):
    name: Name
    scopes: list[str]


class IntegrationClientOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    client_id: str
    name: str
    scopes: list[str]
    is_active: bool
    created_at: datetime
    client_secret: str | msgspec.UnsetType = msgspec.UNSET

    @classmethod
    def build(cls, client: IntegrationClient, secret: str | None = None) -> IntegrationClientOut:
        return cls(
            id=client.id,
            client_id=client.client_id,
            name=client.name,
            scopes=client.scopes.split(),
            is_active=client.is_active,
            created_at=client.created_at,
            client_secret=secret if secret is not None else msgspec.UNSET,
        )


class AuditEventOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    occurred_at: datetime
    actor_type: str
    actor_id: str | None
    action: str
    subject_type: str
    subject_id: str
    organization_id: uuid.UUID | None
    data: dict[str, Any]  # Any: per-action JSON details

    @classmethod
    def build(cls, event: AuditEvent) -> AuditEventOut:
        return cls(
            id=event.id,
            occurred_at=event.occurred_at,
            actor_type=event.actor_type,
            actor_id=event.actor_id,
            action=event.action,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            organization_id=event.organization_id,
            data=event.data,
        )
