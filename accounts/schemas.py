"""Request and response bodies of the identity API (v1)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from accounts.models import (
    IntegrationClient,
    PurchaseChannel,
    SupportContact,
    User,
)
from accounts.roles import Role
from core.text import Name
from core.views import View

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


class SupportContactOut(View):
    user_id: uuid.UUID
    full_name: str
    email: str
    assigned_at: datetime

    @classmethod
    def from_model(cls, found: tuple[SupportContact, User] | None) -> SupportContactOut | None:
        """The designated contact (the assignment and its user), or None when none is named."""
        if found is None:
            return None
        contact, user = found
        return cls.of(user, user_id=user.id, assigned_at=contact.assigned_at)


class OrganizationOut(View):
    id: uuid.UUID
    name: str
    tax_id: str | None
    time_zone: str
    locale: str
    created_at: datetime
    support_contact: SupportContactOut | None = None


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


class UserOut(View):
    id: uuid.UUID
    email: str
    full_name: str
    phone: str | None
    role: Role
    organization_id: uuid.UUID | None
    is_active: bool
    created_at: datetime


class MeOut(View):
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


class PurchaseOut(View):
    id: uuid.UUID
    organization_id: uuid.UUID
    product: str
    purchased_on: date
    channel: PurchaseChannel
    partner_name: str | None
    reference: str
    created_at: datetime


class PurchaseImportOut(View):
    imported: Annotated[int, msgspec.Meta(description="Purchases recorded (0 for a preview)")]
    preview: Annotated[
        bool, msgspec.Meta(description="Nothing was stored: items are what importing would record")
    ]
    items: list[PurchaseOut]


class EligibilityOut(View):
    organization_id: uuid.UUID
    eligible: bool
    reason: str
    purchase: PurchaseOut | None
    support_contact: SupportContactOut | None


class IntegrationClientIn(Input):
    name: Name
    scopes: list[str]


class IntegrationClientOut(View):
    id: uuid.UUID
    client_id: str
    name: str
    scopes: list[str]
    is_active: bool
    created_at: datetime
    client_secret: str | msgspec.UnsetType = msgspec.UNSET

    @classmethod
    def from_model(cls, client: IntegrationClient, secret: str | None = None) -> IntegrationClientOut:
        return cls.of(client, scopes=client.scopes.split(), client_secret=secret or msgspec.UNSET)


class AuditEventOut(View):
    id: uuid.UUID
    occurred_at: datetime
    actor_type: str
    actor_id: str | None
    action: str
    subject_type: str
    subject_id: str
    organization_id: uuid.UUID | None
    data: dict[str, Any]  # Any: per-action JSON details
