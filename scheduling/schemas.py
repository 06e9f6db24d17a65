"""Request and response bodies of scheduling (v1)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from core.business_time import WEEKLY_HOURS
from core.money import MinorUnits
from core.text import Name
from core.views import View
from scheduling.models import BookingStatus, Engineer, PreconditionKind


class PaymentStartOut(View):
    """What a portal needs to take the payment with Stripe.js (confirm the PaymentIntent). The client
    secret is shown to the booking's customers while the payment is still to be made."""

    payment_id: uuid.UUID
    status: str
    payment_intent_id: str | None
    client_secret: str | None
    amount_minor: int
    currency: str


Key = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
Minutes = Annotated[int, msgspec.Meta(ge=0, le=60 * 24 * 30)]
Skill = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_\-]{1,50}$")]
Hhmm = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class ChecklistItem(Input):
    key: Key
    label_en: Name
    label_ru: Name
    kind: PreconditionKind
    required: bool = True
    help: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    choices: list[Name] = msgspec.field(default_factory=list)


class ServiceIn(Input):
    name: Name
    duration_minutes: Annotated[int, msgspec.Meta(gt=0, le=60 * 24)]
    price_minor: MinorUnits
    currency: Currency
    description: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    min_notice_minutes: Minutes = 120
    buffer_before_minutes: Minutes = 0
    buffer_after_minutes: Minutes = 15
    full_refund_hours_before: Annotated[int, msgspec.Meta(ge=0, le=24 * 60)] = 24
    required_skills: list[Skill] = msgspec.field(default_factory=list)
    checklist: list[ChecklistItem] | None = None


class ServicePatch(Input):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    description: Annotated[str, msgspec.Meta(max_length=5000)] | msgspec.UnsetType = msgspec.UNSET
    duration_minutes: Annotated[int, msgspec.Meta(gt=0, le=60 * 24)] | msgspec.UnsetType = msgspec.UNSET
    price_minor: MinorUnits | msgspec.UnsetType = msgspec.UNSET
    currency: Currency | msgspec.UnsetType = msgspec.UNSET
    min_notice_minutes: Minutes | msgspec.UnsetType = msgspec.UNSET
    buffer_before_minutes: Minutes | msgspec.UnsetType = msgspec.UNSET
    buffer_after_minutes: Minutes | msgspec.UnsetType = msgspec.UNSET
    full_refund_hours_before: Annotated[int, msgspec.Meta(ge=0, le=24 * 60)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    required_skills: list[Skill] | msgspec.UnsetType = msgspec.UNSET
    checklist: list[ChecklistItem] | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class ServiceOut(View):
    id: uuid.UUID
    name: str
    description: str
    duration_minutes: int
    price_minor: int
    currency: str
    min_notice_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    full_refund_hours_before: int
    required_skills: list[str]
    checklist: list[dict[str, Any]]  # Any: checklist item JSON
    active: bool


class WorkingHoursIn(Input):
    time_zone: Name
    weekly_hours: Annotated[dict[str, list[tuple[Hhmm, Hhmm]]], msgspec.Meta(description=WEEKLY_HOURS)]
    skills: list[Skill] = msgspec.field(default_factory=list)
    holiday_calendar: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_\-]{1,64}$")] = "default"


class WorkingHoursOut(View):
    engineer_id: uuid.UUID
    time_zone: str
    weekly_hours: Annotated[dict[str, list[list[str]]], msgspec.Meta(description=WEEKLY_HOURS)]
    skills: list[str]
    holiday_calendar: str

    @classmethod
    def from_model(cls, engineer: Engineer) -> WorkingHoursOut:
        return cls.of(engineer, engineer_id=engineer.user_id)


class BusySourceOut(View):
    id: uuid.UUID
    name: str
    url: str | None
    imported_at: datetime
    interval_count: int


class SlotOut(View):
    starts_at: datetime
    ends_at: datetime


class AvailabilityOut(View):
    service_id: uuid.UUID
    time_zone: str
    slots: list[SlotOut]


class BookingIn(Input):
    service_id: uuid.UUID
    starts_at: datetime
    time_zone: Name = "Europe/Moscow"
    funding: Annotated[str, msgspec.Meta(pattern=r"^(payment|contract|support_ticket)$")] = "payment"


class RescheduleIn(Input):
    starts_at: datetime


class NoShowIn(Input):
    party: Annotated[str, msgspec.Meta(pattern=r"^(customer|engineer)$")] = "customer"


class CompleteIn(Input):
    report: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]


class PreconditionsIn(Input):
    values: dict[Key, Any]  # Any: checked against the service's checklist item kinds


class PreconditionOut(View):
    key: str
    label_en: str
    label_ru: str
    kind: str
    required: bool
    provided: bool
    value: Any  # Any: the JSON value; secrets masked
    destroyed: bool


class RevealOut(View):
    """One reveal of the secrets, as the audit trail recorded it."""

    occurred_at: datetime
    actor_id: str | None
    keys: list[str]


class PreconditionsOut(View):
    booking_id: uuid.UUID
    status: BookingStatus
    items: list[PreconditionOut]
    missing_required: list[str]
    # When the assigned engineer may reveal the secrets (one hour before the start until the end), and
    # every reveal so far, from the audit trail: the customer and the engineer see who saw them when.
    reveal_from: datetime | None = None
    reveal_until: datetime | None = None
    reveals: list[RevealOut] = msgspec.field(default_factory=list)


class RevealedOut(View):
    secrets: dict[str, str]


class FeedOut(View):
    id: uuid.UUID
    owner_kind: str
    url: str | msgspec.UnsetType = msgspec.UNSET


class CancellationOut(View):
    """What cancelling now would refund, before the customer confirms: ``full`` or ``none``."""

    booking_id: uuid.UUID
    refund: str
    full_refund_until: datetime  # in full up to this instant (always, when staff cancel or nothing was paid)
    by_staff: bool


class BookingOut(View):
    id: uuid.UUID
    number: str
    service_id: uuid.UUID
    organization_id: uuid.UUID
    engineer_id: uuid.UUID
    status: BookingStatus
    funding: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    hold_expires_at: datetime | None
    price_minor: int
    currency: str
    ics_sequence: int
    cancellation_refund: str | None
    created_at: datetime
    payment: PaymentStartOut | msgspec.UnsetType = msgspec.UNSET
    # For the lists people read (GET /v1/bookings and one booking): what was booked, with whom, and
    # where its money stands (None: not paid by card, e.g. under a contract).
    service_name: str | msgspec.UnsetType = msgspec.UNSET
    engineer_name: str | msgspec.UnsetType = msgspec.UNSET
    payment_status: str | msgspec.UnsetType | None = msgspec.UNSET
