"""The documents the outbox delivers, version 1: one struct per event type, published in the OpenAPI
document's ``webhooks`` section (what an integration receives) and checked against what the outbox
really writes (tests/notifications/test_event_documents.py)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    PathItem,
    Reference,
    RequestBody,
    Schema,
)


class Event(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class TicketFacts(Event):
    ticket_id: str
    number: str  # DL-1042, SLA-1001
    line: str  # basic | sla
    subject: str
    status: str


class TicketReceived(TicketFacts):
    channel: str
    missing: list[str]
    first_response_due_at: str | None


class TicketMessage(TicketFacts):
    message: str


class FirstResponseDeadline(TicketFacts):
    first_response_due_at: str


class ExplanationRequested(TicketFacts):
    reason: str


class BookingFacts(Event):
    booking_id: str
    number: str  # RS-1001
    status: str
    funding: str
    starts_at: str
    ends_at: str
    time_zone: str


class BookingReminder(BookingFacts):
    hours_before: int


class BookingCancelled(BookingFacts):
    refund: str | None


class BookingHeld(BookingFacts):
    hold_expires_at: str
    amount_minor: int
    currency: str


class BookingRefunded(BookingFacts):
    refund_id: str
    amount_minor: int
    currency: str
    reason: str


class ContractBreach(Event):
    contract_id: str
    contract_number: str
    ticket_id: str
    ticket_number: str
    timer: str  # first_response | update | resolution
    priority: str
    due_at: str
    ended_at: str
    breach_minutes: int


class ContractReportReady(Event):
    contract_id: str
    number: str
    period: str  # YYYY-MM
    breaches: int
    credit_minor: int
    currency: str
    report_path: str


class ContractActivated(Event):
    contract_id: str
    number: str
    starts_on: str
    ends_on: str


class InvoiceIssued(Event):
    invoice_id: str
    number: str
    period: str
    total_minor: int
    currency: str


EVENT_DOCUMENTS: dict[str, type[Event]] = {
    "ticket.received": TicketReceived,
    "ticket.answered": TicketMessage,
    "ticket.waiting_for_customer": TicketMessage,
    "ticket.explanation_requested": ExplanationRequested,
    "ticket.first_response_due_soon": FirstResponseDeadline,
    "ticket.first_response_breached": FirstResponseDeadline,
    "booking.held": BookingHeld,
    "booking.confirmed": BookingFacts,
    "booking.rescheduled": BookingFacts,
    "booking.reminder": BookingReminder,
    "booking.cancelled": BookingCancelled,
    "booking.refunded": BookingRefunded,
    "contract.activated": ContractActivated,
    "contract.breach": ContractBreach,
    "contract.report_ready": ContractReportReady,
    "invoice.issued": InvoiceIssued,
}
REF = "#/components/schemas/{name}"


def _schema(raw: dict[str, Any]) -> Schema | Reference:  # Any: a JSON Schema document from msgspec
    if "$ref" in raw:
        return Reference(ref=raw["$ref"])
    if "anyOf" in raw:
        return Schema(one_of=[_schema(option) for option in raw["anyOf"]])
    kind = raw.get("type")
    if kind == "object":
        return Schema(
            type=OpenAPIType.OBJECT,
            properties={name: _schema(value) for name, value in raw.get("properties", {}).items()},
            required=raw.get("required"),
            additional_properties=False,
        )
    if kind == "array":
        return Schema(type=OpenAPIType.ARRAY, items=_schema(raw["items"]))
    return Schema(type=OpenAPIType(kind) if kind else None)


def document_events(schema: OpenAPI) -> None:
    """Every event type as a webhook: the signed envelope with its document in ``data``."""
    _, components = msgspec.json.schema_components(list(EVENT_DOCUMENTS.values()), ref_template=REF)
    known = schema.components if isinstance(schema.components, Components) else Components()
    known.schemas = {**(known.schemas or {}), **{name: _schema(raw) for name, raw in components.items()}}  # type: ignore[misc]
    schema.components = known
    webhooks: dict[str, PathItem | Reference] = {}
    for event_type, document in EVENT_DOCUMENTS.items():
        envelope = Schema(
            type=OpenAPIType.OBJECT,
            required=["id", "type", "version", "timestamp", "data"],
            properties={
                "id": Schema(type=OpenAPIType.STRING, description="The event's id"),
                "type": Schema(type=OpenAPIType.STRING, const=event_type),
                "version": Schema(type=OpenAPIType.INTEGER, const=1),
                "timestamp": Schema(type=OpenAPIType.STRING, format="date-time"),  # type: ignore[arg-type]
                "data": Reference(ref=REF.format(name=document.__name__)),
            },
        )
        webhooks[event_type] = PathItem(
            post=Operation(
                summary=f"{event_type} (version 1)",
                description="Signed per Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature.",
                request_body=RequestBody(
                    content={"application/json": OpenAPIMediaType(schema=envelope)}, required=True
                ),
                responses={
                    "2XX": OpenAPIResponse(
                        description="Received; any other answer is retried, 410 ends the subscription"
                    )
                },
            )
        )
    schema.webhooks = webhooks
