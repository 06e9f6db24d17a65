"""Input built to break the reader or the database is refused at the edge, on every operation: JSON
nested deeper than any document of ours (400 before anything decodes it) and integers beyond what the
field documents (422 naming the field; the column never sees them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col

from accounts.models import Organization, User
from accounts.roles import CUSTOMER_ROLES, Role
from api.access import rule_for
from api.cli import OPENAPI_PATH
from billing.models import WebhookEvent
from core.nesting import MAX_JSON_DEPTH, nesting_exceeds
from scheduling.models import Service
from tests.billing.helpers import signed
from tests.world import World

DOCUMENT = json.loads(OPENAPI_PATH.read_text())
SCHEMAS = DOCUMENT["components"]["schemas"]
DEEP = b"[" * 5000 + b"]" * 5000


def _operations(media_type: str) -> list[tuple[str, str, dict[str, Any]]]:  # Any: OpenAPI JSON
    return [
        (method.upper(), path, operation)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if media_type in operation.get("requestBody", {}).get("content", {})
    ]


def _filled(path: str, operation: dict[str, Any]) -> str:  # Any: OpenAPI JSON
    """The path with a value of the right shape for each parameter (nothing exists at it)."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            continue
        schema = parameter.get("schema", {})
        value = {"uuid": str(uuid.uuid4()), "date": "2027-01-04"}.get(schema.get("format", ""), "x")
        path = path.replace("{" + parameter["name"] + "}", value)
    return path


async def _caller_for(world: World, method: str, path: str) -> dict[str, str]:
    """Headers of a caller the operation lets through to reading its input: an admin, else a user of a
    role it allows, else an integration client with a scope it allows."""
    found = rule_for(method, path)
    assert found is not None
    if found.public or Role.ADMIN in found.roles:
        _, headers = await world.staff(Role.ADMIN)
        return headers
    if found.roles:
        role = sorted(found.roles)[0]
        organization = await world.organization() if role in CUSTOMER_ROLES else None
        return await world.headers(await world.user(role, organization))
    client, _ = await world.integration(*found.scopes)
    return await world.headers(client)


def test_nesting_is_measured_without_decoding() -> None:
    assert not nesting_exceeds(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert nesting_exceeds(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    assert nesting_exceeds(b'{"a":' * 100 + b"1" + b"}" * 100)
    # brackets inside strings are text, escaped quotes included; siblings do not add depth
    assert not nesting_exceeds(json.dumps({"text": "[" * 1000 + '\\"[[['}).encode())
    assert not nesting_exceeds(json.dumps([[1]] * 1000).encode())


STRIPE_WEBHOOK = "/v1/billing/stripe/webhook"  # a signed raw body: its own test below


async def test_deep_nesting_is_refused_on_every_json_operation(world: World) -> None:
    refused = []
    for method, path, operation in _operations("application/json"):
        if path == STRIPE_WEBHOOK:
            continue
        headers = await _caller_for(world, method, path)
        response = await world.client.request(
            method,
            _filled(path, operation),
            content=DEEP,
            headers={**headers, "content-type": "application/json"},
        )
        if response.status_code != 400 or response.json().get("code") != "nesting_too_deep":
            refused.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
    assert not refused, "\n".join(refused)


async def test_a_signed_stripe_event_nested_deeply_is_rejected_unread(world: World) -> None:
    body, headers = signed(world, "payment_intent.succeeded", {"id": "pi_1"})
    deep = body.replace(b'{"id": "pi_1"}', b"[" * 5000 + b"]" * 5000)
    secret = world.ctx.settings.stripe_webhook_secret.encode()
    timestamp = headers["Stripe-Signature"].split(",")[0].removeprefix("t=")
    signature = hmac.new(secret, f"{timestamp}.".encode() + deep, hashlib.sha256).hexdigest()
    response = await world.client.post(
        STRIPE_WEBHOOK,
        content=deep,
        headers={**headers, "Stripe-Signature": f"t={timestamp},v1={signature}"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "webhook_rejected"
    async with world.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 0


async def test_deep_nesting_in_the_anonymous_login_changes_nothing(world: World) -> None:
    response = await world.client.post(
        "/v1/auth/login", content=DEEP, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "nesting_too_deep"
    assert str(MAX_JSON_DEPTH) in response.json()["detail"]
    async with world.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


async def test_a_document_at_the_depth_limit_is_read(world: World) -> None:
    _, admin = await world.staff(Role.ADMIN)
    nested: Any = "x"  # Any: a JSON value being built
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    response = await world.client.post("/v1/organizations", json={"name": nested}, headers=admin)
    assert response.status_code == 422  # read, and refused for its shape
    assert response.json()["code"] == "validation_failed"


@pytest.mark.parametrize("part", [0, 1])
async def test_a_bearer_token_nested_deeply_is_an_invalid_token(world: World, part: int) -> None:
    deep = base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).decode().rstrip("=")
    normal = base64.urlsafe_b64encode(b'{"alg":"ES256"}').decode().rstrip("=")
    token = ".".join([deep, normal, "c2ln"] if part == 0 else [normal, deep, "c2ln"])
    response = await world.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:  # Any: OpenAPI JSON
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _bounded_integers(
    schema: dict[str, Any], path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], int]]:  # Any: OpenAPI JSON
    """(field path, maximum) of every integer an object (and the objects in it) documents."""
    schema = _resolved(schema)
    options = [_resolved(o) for o in schema.get("oneOf", schema.get("anyOf", [schema]))]
    if any(o.get("type") == "integer" for o in options) and "maximum" in schema:
        yield path, int(schema["maximum"])
    for option in options:
        for name, field in option.get("properties", {}).items():
            yield from _bounded_integers(field, (*path, name))


def _nested(path: tuple[str, ...], value: int) -> dict[str, Any]:  # Any: a JSON body
    body: Any = value
    for name in reversed(path):
        body = {name: body}
    return dict(body)


def _unbounded(
    schema: dict[str, Any], where: str, seen: frozenset[str] = frozenset(), *, bounded: bool = False
) -> Iterator[str]:  # Any: OpenAPI JSON
    """Every number in a request schema with no maximum or no minimum (bounds on a union hold for the
    numbers in it)."""
    bounded = bounded or (
        bool({"maximum", "exclusiveMaximum"} & schema.keys())
        and bool({"minimum", "exclusiveMinimum"} & schema.keys())
    )
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name not in seen:
            yield from _unbounded(SCHEMAS[name], where, seen | {name}, bounded=bounded)
        return
    if schema.get("type") in {"integer", "number"} and not bounded:
        yield where
    for option in schema.get("oneOf", schema.get("anyOf", [])):
        yield from _unbounded(option, where, seen, bounded=bounded)
    for name, field in schema.get("properties", {}).items():
        yield from _unbounded(field, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _unbounded(schema[key], f"{where}[]", seen)


def test_the_document_bounds_every_number_a_request_carries() -> None:
    found: list[str] = []
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                found += _unbounded(parameter["schema"], f"{method.upper()} {path} ?{parameter['name']}")
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                found += _unbounded(content.get("schema", {}), f"{method.upper()} {path} {media_type}")
    assert not found, "numbers without a documented minimum and maximum:\n" + "\n".join(found)


async def test_an_integer_beyond_its_maximum_is_a_422_naming_it_on_every_operation(world: World) -> None:
    wrong = []
    for method, path, operation in _operations("application/json"):
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        for field, maximum in _bounded_integers(schema):
            headers = await _caller_for(world, method, path)
            for value in (maximum + 1, 10**30):
                response = await world.client.request(
                    method, _filled(path, operation), json=_nested(field, value), headers=headers
                )
                named = {e["field"] for e in response.json().get("errors", [])}
                if response.status_code != 422 or ".".join(field) not in named:
                    wrong.append(f"{method} {path} {'.'.join(field)}={value}: {response.text[:300]}")
    assert not wrong, "\n".join(wrong)


async def test_a_price_beyond_bigint_changes_no_service(world: World) -> None:
    _, sales = await world.staff(Role.SALES)
    body = {"name": "Remote", "duration_minutes": 60, "price_minor": 10**30, "currency": "RUB"}
    response = await world.client.post("/v1/services", json=body, headers=sales)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert [e["field"] for e in response.json()["errors"]] == ["price_minor"]
    service = await world.service()
    response = await world.client.patch(
        f"/v1/services/{service.id}", json={"price_minor": 2**63}, headers=sales
    )
    assert response.status_code == 422
    async with world.session() as session:
        assert (
            await session.scalar(sa.select(col(Service.price_minor)).where(col(Service.id) == service.id))
            == 500_000
        )
        assert await session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0


def _every_operation() -> list[tuple[str, str, dict[str, Any]]]:  # Any: OpenAPI JSON
    methods = {"get", "post", "put", "patch", "delete"}
    return [
        (method.upper(), path, operation)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in methods
    ]


async def test_an_unknown_query_parameter_is_refused_naming_it_on_every_operation(world: World) -> None:
    wrong = []
    for method, path, operation in _every_operation():
        headers = await _caller_for(world, method, path)
        response = await world.client.request(
            method, _filled(path, operation), params={"bookingid": "x"}, headers=headers
        )
        errors = response.json().get("errors", []) if response.status_code == 422 else []
        if ("bookingid", "query") not in {(e["field"], e["source"]) for e in errors}:
            wrong.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
    assert not wrong, "\n".join(wrong)


async def test_a_misspelt_filter_widens_no_list(world: World) -> None:
    _, admin = await world.staff(Role.ADMIN)
    await world.organization()
    response = await world.client.get("/v1/organizations", params={"nmae": "Romashka"}, headers=admin)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert response.json()["errors"] == [
        {
            "field": "nmae",
            "code": "not_a_parameter",
            "message": "not a parameter of this operation",
            "source": "query",
        }
    ]
