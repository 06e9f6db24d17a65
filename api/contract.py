"""The OpenAPI document tells the truth: every operation lists each problem it can answer, with one
problem schema and the exact ``code`` values, generated from the same table that produces them
(api/errors.py), so the two cannot drift.

What an operation can answer is derived from what it is: a bearer token sent to any operation is
verified (401 invalid_token); a protected one refuses the anonymous (401) and the wrong role (403), and
a state change from a signed-in browser without its CSRF token (403 csrf_token_invalid);
one that takes a body can get a malformed (400), oversized (413) or invalid (422) one; one with
parameters an invalid one (422); one with a path id an unknown id (404); one that reads the database
a busy one (503). What only the domain knows is declared on the handler with ``@problems(...)``:
the domain errors it may raise. A test wraps every test app and fails any response whose status or
code the document does not list for that operation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
import msgspec.inspect
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.routes import HTTPRoute

from accounts import CsrfTokenInvalid, InvalidToken
from api.access import rule_for
from api.errors import (
    BODY_TOO_LARGE,
    DATABASE_BUSY,
    FORBIDDEN,
    MALFORMED,
    NOT_FOUND,
    PRECONDITION_FAILED,
    UNAUTHENTICATED,
    VALIDATION,
    kind_of,
)
from api.field_messages import CODES
from api.problems import PROBLEM_TYPE_BASE, ProblemKind
from core import idempotency
from core.errors import DesklineError, NestingTooDeep
from core.transactions import SAFE_METHODS

PROBLEM_MEDIA_TYPE = "application/problem+json"
FORM = "multipart/form-data"
PROBLEM = "Problem"
INVALID_TOKEN = kind_of(InvalidToken)
CSRF_REFUSED = kind_of(CsrfTokenInvalid)
IN_FLIGHT = kind_of(idempotency.RequestInFlight)
KEY_REUSED = kind_of(idempotency.KeyReused)
NESTING_TOO_DEEP = kind_of(NestingTooDeep)
NO_DATABASE = frozenset({"/health", "/metrics", "/.well-known/oauth-authorization-server"})
RETRY_AFTER = {409, 429, 503}
H = TypeVar("H", bound=HTTPRouteHandler)


@dataclass(frozen=True, slots=True)
class RawBody:
    """A body the handler reads itself (not JSON it decodes): its media type and shape, documented."""

    media_type: str
    schema: Schema
    description: str
    required: bool = True
    # The same document may come as the ``file`` part of a multipart/form-data body instead (clients
    # generated from the document handle forms, not every raw media type).
    as_form_file: bool = False

    def content(self) -> dict[str, OpenAPIMediaType]:
        found = {self.media_type: OpenAPIMediaType(schema=self.schema)}
        if self.as_form_file:
            found[FORM] = OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.OBJECT,
                    required=["file"],
                    properties={
                        "file": Schema(
                            type=OpenAPIType.STRING,
                            format=OpenAPIFormat.BINARY,
                            description=f"The same document as a file part ({self.media_type})",
                        )
                    },
                )
            )
        return found


@dataclass(frozen=True, slots=True)
class Declared:
    errors: tuple[type[DesklineError], ...] = ()
    body: RawBody | None = None
    extra_kinds: tuple[ProblemKind, ...] = field(default=())


def problems(
    *errors: type[DesklineError], body: RawBody | None = None, kinds: Iterable[ProblemKind] = ()
) -> Callable[[H], H]:
    """Declare the domain errors a handler may raise (and a raw body it reads), for the document."""

    def declare(handler: H) -> H:
        handler.opt["contract"] = Declared(tuple(errors), body, tuple(kinds))
        return handler

    return declare


def _declared(handler: HTTPRouteHandler) -> Declared:
    found = handler.opt.get("contract")
    return found if isinstance(found, Declared) else Declared()


def operation_kinds(
    handler: HTTPRouteHandler, method: str, path: str, operation: Operation
) -> set[ProblemKind]:
    """Every problem the operation can answer: derived from its shape, plus what it declares."""
    declared = _declared(handler)
    # A bearer token is verified anywhere; a query parameter the operation does not take is refused.
    kinds: set[ProblemKind] = {INVALID_TOKEN, VALIDATION}
    found = rule_for(method, path)
    if found is not None and not found.public:
        kinds |= {UNAUTHENTICATED, FORBIDDEN}
        if method.upper() not in SAFE_METHODS:  # a signed-in browser must send its CSRF token
            kinds.add(CSRF_REFUSED)
    parameters = [p for p in operation.parameters or [] if not isinstance(p, Reference)]
    takes_body = operation.request_body is not None or declared.body is not None
    if takes_body:
        kinds |= {MALFORMED, BODY_TOO_LARGE, VALIDATION}
    if _takes_json(operation, declared):
        kinds.add(NESTING_TOO_DEEP)
    if parameters:
        kinds.add(VALIDATION)
    if any(p.param_in == "path" for p in parameters):
        kinds.add(NOT_FOUND)
    names = {p.name.lower() for p in parameters if p.param_in == "header"}
    if "idempotency-key" in names:
        kinds |= {IN_FLIGHT, KEY_REUSED, VALIDATION}
    if "if-match" in names:
        kinds.add(PRECONDITION_FAILED)
    if path not in NO_DATABASE:
        kinds.add(DATABASE_BUSY)
    kinds |= {kind_of(error) for error in declared.errors}
    kinds |= set(declared.extra_kinds)
    return kinds


def _takes_json(operation: Operation, declared: Declared) -> bool:
    """The operation decodes a JSON body (its nesting is checked before it is decoded); a raw body
    declared with ``@problems(body=...)`` is the handler's to verify, Stripe's signed events included."""
    if declared.body is not None:
        return False
    body = operation.request_body
    return isinstance(body, RequestBody) and "application/json" in (body.content or {})


def document(app: Litestar, schema: OpenAPI) -> None:
    """Write every operation's problem responses (and raw request bodies) into the document."""
    _metrics_are_file(schema)
    components = schema.components if isinstance(schema.components, Components) else Components()
    components.schemas = {**(components.schemas or {}), **_problem_schemas()}
    schema.components = components
    _restore_zero_bounds(app, components)
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        item = (schema.paths or {}).get(route.path_format or "/")
        if item is None:
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if not isinstance(operation, Operation):
                    continue
                declared = _declared(handler)
                if declared.body is not None:
                    operation.request_body = RequestBody(
                        content=declared.body.content(),
                        description=declared.body.description,
                        required=declared.body.required,
                    )
                kinds = operation_kinds(handler, method, route.path_format or "/", operation)
                _write_responses(operation, kinds)
                _write_alternates(operation, handler.opt.get("alternate_media", {}))
                _headers_are_strings(operation)


def _restore_zero_bounds(app: Litestar, components: Components) -> None:
    """Litestar leaves out a bound of zero (``ge=0``, ``gt=0``) on a field whose type is a union
    (``int | None``, ``int | UnsetType``): it tests the bound for truth. Put back what msgspec's own
    type information of every request body says, so the document states each number's minimum."""
    seen: set[type] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None:
                for member in _members(msgspec.inspect.type_info(data.annotation)):
                    _restore_struct(member, components, seen)


NUMBER_TYPES = (msgspec.inspect.IntType, msgspec.inspect.FloatType)


NUMBER_TYPES = (msgspec.inspect.IntType, msgspec.inspect.FloatType)


def _members(info: msgspec.inspect.Type) -> list[msgspec.inspect.Type]:
    """The types a (possibly annotated, optional or collection) type is made of."""
    if isinstance(info, msgspec.inspect.Metadata):
        return _members(info.type)
    if isinstance(info, msgspec.inspect.UnionType):
        return [m for t in info.types for m in _members(t)]
    if isinstance(info, msgspec.inspect.ListType | msgspec.inspect.DictType):
        return _members(info.item_type if isinstance(info, msgspec.inspect.ListType) else info.value_type)
    return [info]


def _restore_struct(info: msgspec.inspect.Type, components: Components, seen: set[type]) -> None:
    if not isinstance(info, msgspec.inspect.StructType) or info.cls in seen:
        return
    seen.add(info.cls)
    found = (components.schemas or {}).get(info.cls.__name__)
    properties = (found.properties or {}) if isinstance(found, Schema) else {}
    for field_info in info.fields:
        prop = properties.get(field_info.encode_name)
        for member in _members(field_info.type):
            if isinstance(prop, Schema) and isinstance(member, NUMBER_TYPES):
                if member.ge == 0 and prop.minimum is None:
                    prop.minimum = 0
                if member.gt == 0 and prop.exclusive_minimum is None:
                    prop.exclusive_minimum = 0
            _restore_struct(member, components, seen)


def _metrics_are_file(schema: OpenAPI) -> None:
    """The Prometheus controller says JSON; it serves the text exposition format."""
    item = (schema.paths or {}).get("/metrics")
    operation = getattr(item, "get", None)
    if isinstance(operation, Operation):
        operation.responses = {
            "200": OpenAPIResponse(
                description="Metrics in the Prometheus text exposition format",
                content={"text/plain": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
            )
        }


def _headers_are_strings(operation: Operation) -> None:
    """Litestar writes a documented response header (``ETag``) with no schema, which OpenAPI 3.1 requires
    (a header has a schema or a content): each header without one is a string."""
    for response in (operation.responses or {}).values():
        for header in (response.headers or {}).values() if isinstance(response, OpenAPIResponse) else ():
            if isinstance(header, OpenAPIHeader) and header.schema is None and header.content is None:
                header.schema = Schema(type=OpenAPIType.STRING)


def _write_alternates(operation: Operation, alternates: dict[str, str]) -> None:
    """Other media types the success answer comes in (chosen by Accept), beside the JSON one."""
    success = (operation.responses or {}).get("200")
    if not alternates or not isinstance(success, OpenAPIResponse):
        return
    content = dict(success.content or {})
    for media_type, description in alternates.items():
        content[media_type] = OpenAPIMediaType(
            schema=Schema(type=OpenAPIType.STRING, description=description)
        )
    success.content = content


def _write_responses(operation: Operation, kinds: set[ProblemKind]) -> None:
    responses = {
        code: response
        for code, response in (operation.responses or {}).items()
        if not (code.isdigit() and int(code) >= 400)  # Litestar's own 400 describes a body we never send
    }
    by_status: dict[int, list[ProblemKind]] = defaultdict(list)
    for kind in kinds:
        by_status[kind.status].append(kind)
    for status, found in sorted(by_status.items()):
        found.sort(key=lambda k: k.code)
        codes = [k.code for k in found]
        headers: dict[str, OpenAPIHeader | Reference] = {
            "Content-Language": OpenAPIHeader(
                schema=Schema(type=OpenAPIType.STRING, enum=["en", "ru"]),
                description="The language of the title (Accept-Language)",
            )
        }
        if status in RETRY_AFTER:
            headers["Retry-After"] = OpenAPIHeader(
                schema=Schema(type=OpenAPIType.STRING), description="Seconds to wait before retrying"
            )
        responses[str(status)] = OpenAPIResponse(
            description="; ".join(f"`{k.code}`: {k.title_en}" for k in found),
            content={
                PROBLEM_MEDIA_TYPE: OpenAPIMediaType(
                    schema=Schema(
                        all_of=[
                            Reference(ref=f"#/components/schemas/{PROBLEM}"),
                            Schema(
                                type=OpenAPIType.OBJECT,
                                properties={
                                    "code": Schema(type=OpenAPIType.STRING, enum=codes),
                                    "status": Schema(type=OpenAPIType.INTEGER, enum=[status]),
                                },
                            ),
                        ]
                    )
                )
            },
            headers=headers,
        )
    operation.responses = responses


def _problem_schemas() -> dict[str, Schema]:
    string = Schema(type=OpenAPIType.STRING)
    return {
        PROBLEM: Schema(
            type=OpenAPIType.OBJECT,
            description=(
                "An RFC 9457 problem. `code` is stable and machine-readable; `title`, `detail` and each "
                "field's `message` follow Accept-Language (en, ru); `errors` lists every invalid field "
                "with a stable `code`. Some codes add fields of their own (e.g. `next_free_slots` for "
                "slot_taken, `refundable_minor`, `current_revision`)."
            ),
            required=["type", "title", "status", "detail", "code"],
            properties={
                "type": Schema(type=OpenAPIType.STRING, description=f"{PROBLEM_TYPE_BASE}<code>"),
                "title": string,
                "status": Schema(type=OpenAPIType.INTEGER),
                "detail": string,
                "code": string,
                "errors": Schema(
                    type=OpenAPIType.ARRAY,
                    items=Schema(
                        type=OpenAPIType.OBJECT,
                        required=["field", "code", "message", "source"],
                        properties={
                            "field": Schema(type=OpenAPIType.STRING, description="Public name, dotted path"),
                            "code": Schema(
                                type=OpenAPIType.STRING,
                                enum=list(CODES),
                                description="What is wrong with the field, stable: switch on this",
                            ),
                            "message": Schema(
                                type=OpenAPIType.STRING,
                                description="What is wrong, for people, in the language of Accept-Language",
                            ),
                            "source": Schema(
                                type=OpenAPIType.STRING, enum=["body", "query", "path", "header", "cookie"]
                            ),
                        },
                    ),
                ),
            },
        )
    }


def documented(schema: dict[str, Any]) -> dict[tuple[str, str], dict[int, set[str] | None]]:  # Any: JSON
    """For each (METHOD, path template): status → problem codes documented (None: not a problem)."""
    found: dict[tuple[str, str], dict[int, set[str] | None]] = {}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            statuses: dict[int, set[str] | None] = {}
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                problem = content.get(PROBLEM_MEDIA_TYPE)
                if problem is None:
                    statuses[int(status)] = None
                    continue
                enum = problem["schema"]["allOf"][1]["properties"]["code"]["enum"]
                statuses[int(status)] = set(enum)
            found[(method.upper(), path)] = statuses
    return found


def _file(description: str) -> Schema:
    """A whole document as the body: its bytes, in the operation's media type."""
    return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description=description)


STRIPE_EVENT = RawBody(
    "application/json",
    Schema(
        type=OpenAPIType.OBJECT,
        required=["id", "type", "data"],
        properties={
            "id": Schema(type=OpenAPIType.STRING),
            "type": Schema(type=OpenAPIType.STRING),
            "data": Schema(type=OpenAPIType.OBJECT, properties={"object": Schema(type=OpenAPIType.OBJECT)}),
        },
    ),
    "A Stripe event exactly as Stripe sent it, verified by the Stripe-Signature header",
)
HOLIDAY_ICS = RawBody(
    "text/calendar",
    _file("An iCalendar (RFC 5545) file; every all-day event marks holidays"),
    "The holiday calendar to import (raw, or as the file part of a form)",
    as_form_file=True,
)
BUSY_ICS = RawBody(
    "text/calendar",
    _file("An iCalendar (RFC 5545) file; its events are busy time (empty when ?url= is given)"),
    "The engineer's busy calendar (raw, or as the file part of a form)",
    required=False,
    as_form_file=True,
)
PURCHASES_CSV = RawBody(
    "text/csv",
    _file("UTF-8 CSV with the header product,purchased_on,channel,partner_name,reference"),
    "Purchase records, all or nothing (raw, or as the file part of a form)",
    as_form_file=True,
)
RFC822 = RawBody(
    "message/rfc822",
    _file("The e-mail as received, headers and body"),
    "A forwarded e-mail (raw, or as the file part of a form)",
    as_form_file=True,
)
ATTACHMENT_FORM = RawBody(
    "multipart/form-data",
    Schema(
        type=OpenAPIType.OBJECT,
        required=["file"],
        properties={
            "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY),
            "kind": Schema(type=OpenAPIType.STRING, enum=["device_database", "other"]),
        },
    ),
    "One file (streamed to storage) and its kind",
)
