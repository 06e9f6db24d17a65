"""The documents the outbox delivers: each webhook-able event of the catalog, published in the OpenAPI
document's ``webhooks`` section (what an integration receives), with its typed document in ``data``
(checked against what the outbox really writes: tests/notifications/test_event_documents.py)."""

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

from notifications.catalog import ENTRIES

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
    published = [entry for entry in ENTRIES if entry.webhook]
    _, components = msgspec.json.schema_components([entry.event for entry in published], ref_template=REF)
    known = schema.components if isinstance(schema.components, Components) else Components()
    known.schemas = {**(known.schemas or {}), **{name: _schema(raw) for name, raw in components.items()}}  # type: ignore[misc]
    schema.components = known
    webhooks: dict[str, PathItem | Reference] = {}
    for entry in published:
        event_type, document = entry.type, entry.event
        envelope = Schema(
            type=OpenAPIType.OBJECT,
            required=["id", "type", "version", "timestamp", "data"],
            properties={
                "id": Schema(type=OpenAPIType.STRING, description="The event's id"),
                "type": Schema(type=OpenAPIType.STRING, const=event_type),
                "version": Schema(type=OpenAPIType.INTEGER, const=document.version),
                "timestamp": Schema(type=OpenAPIType.STRING, format="date-time"),  # type: ignore[arg-type]
                "data": Reference(ref=REF.format(name=document.__name__)),
                "time_zone": Schema(
                    type=OpenAPIType.STRING,
                    description="The organisation's IANA time zone: every instant in data (…_at) is an "
                    "RFC 3339 instant at this zone's offset",
                ),
            },
        )
        webhooks[event_type] = PathItem(
            post=Operation(
                summary=f"{event_type} (version {document.version})",
                description=f"To {entry.to}: {entry.when}. Signed per Standard Webhooks: webhook-id, "
                "webhook-timestamp, webhook-signature.",
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
