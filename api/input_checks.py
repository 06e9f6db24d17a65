"""Input checks every operation gets before its handler runs: text that could not be stored the same
way on both databases is refused, naming each field, and a JSON body that is not UTF-8 JSON is a 400.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request
from litestar.exceptions import ClientException
from litestar.openapi.spec import OpenAPI, Operation, Parameter

from core.errors import FieldProblem, InvalidInput, NestingTooDeep
from core.nesting import MAX_JSON_DEPTH, nesting_exceeds
from core.text import first_forbidden, forbidden_in

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


async def check_input_text(request: Request[Any, Any, Any]) -> None:
    """Litestar ``before_request`` hook: refuse query parameters the operation does not document (a typo
    must not silently widen a result), and control characters (but tab and line breaks) and lone
    surrogates in query, path and the parsed body, as a 422 listing every field that has one."""
    known: dict[tuple[str, str], frozenset[str]] = request.app.state.query_parameters
    allowed = known.get((request.method, str(request.scope.get("path_template", ""))))
    problems = [
        FieldProblem(name, "not a parameter of this operation", source="query")
        for name in dict.fromkeys(request.query_params)
        if allowed is not None and name not in allowed
    ]
    problems += [
        FieldProblem(name, f"contains the control character {found}", source="query")
        for name, value in request.query_params.multi_items()
        for found in [first_forbidden(name) or first_forbidden(value)]
        if found is not None
    ]
    problems += [
        FieldProblem(name, f"contains the control character {found}", source="path")
        for name, value in request.path_params.items()
        if isinstance(value, str) and (found := first_forbidden(value)) is not None
    ]
    body: Any = None  # Any: decoded JSON
    if request.method in BODY_METHODS and _parses_a_body(request):
        body = await _decoded_body(request)
        problems += [
            FieldProblem(path or "(body)", f"contains the control character {found}")
            for path, found in forbidden_in(body)
        ]
    if problems:
        raise InvalidInput(
            "Unknown query parameters, or text with control characters; see errors[].", errors=problems
        )
    shape = _body_struct(request) if body is not None else None
    if shape is not None and (problems := list(struct_problems(shape, body))):
        raise InvalidInput("The request body does not match the schema; see errors[].", errors=problems)


def query_parameters(schema: OpenAPI) -> dict[tuple[str, str], frozenset[str]]:
    """The query parameters each operation of the document takes, by (METHOD, path template)."""
    found = {}
    for path, item in (schema.paths or {}).items():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            if isinstance(operation, Operation):
                names = frozenset(
                    p.name
                    for p in operation.parameters or []
                    if isinstance(p, Parameter) and p.param_in == "query"
                )
                found[(method.upper(), path)] = names
    return found


def _body_struct(request: Request[Any, Any, Any]) -> type[msgspec.Struct] | None:
    annotation = request.route_handler.parsed_fn_signature.parameters["data"].annotation
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    return None


def struct_problems(
    shape: type[msgspec.Struct], body: Any, prefix: str = ""
) -> Iterator[FieldProblem]:  # Any: JSON
    """Every field problem of a JSON object against a Struct, not only the first (msgspec stops at
    one): each missing required field, each unknown field, each value of the wrong shape."""
    if not isinstance(body, dict):
        yield FieldProblem(prefix or "(body)", f"expected an object, got {type(body).__name__}")
        return
    try:  # the common case, a valid body, in one conversion; field by field only to list the problems
        msgspec.convert(body, shape, strict=False)
        return
    except msgspec.ValidationError:
        pass
    fields = _fields_by_name(shape)
    for name, field in fields.items():
        if name not in body:
            if field.required:
                yield FieldProblem(prefix + name, "required")
            continue
        try:
            msgspec.convert(body[name], field.type, strict=False)
        except msgspec.ValidationError as exc:
            yield FieldProblem(prefix + name + _at(str(exc)), str(exc).split(" - at ", 1)[0])
    if shape.__struct_config__.forbid_unknown_fields:
        yield from (FieldProblem(prefix + str(key), "unknown field") for key in body if key not in fields)


@functools.cache
def _fields_by_name(shape: type[msgspec.Struct]) -> dict[str, msgspec.structs.FieldInfo]:
    return {f.encode_name: f for f in msgspec.structs.fields(shape)}


def _at(message: str) -> str:
    """The nested path msgspec names in a message (`` - at `$[0].key` ``), as a dotted suffix."""
    if " - at `$" not in message:
        return ""
    path = message.rsplit(" - at `$", 1)[1].rstrip("`")
    return path.replace("[", ".").replace("]", "")


def _parses_a_body(request: Request[Any, Any, Any]) -> bool:
    """Only bodies the operation itself decodes (raw bodies, e.g. Stripe's signed events, are left as
    sent: their handlers verify or normalise them)."""
    return "data" in request.route_handler.parsed_fn_signature.parameters


async def _decoded_body(request: Request[Any, Any, Any]) -> Any:  # Any: decoded JSON or form values
    body = await request.body()
    if not body:
        return None
    media_type = request.content_type[0]
    if media_type != "application/x-www-form-urlencoded" and nesting_exceeds(body):
        raise NestingTooDeep(f"JSON bodies nest at most {MAX_JSON_DEPTH} levels of arrays and objects.")
    try:
        if media_type == "application/x-www-form-urlencoded":
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        if isinstance(exc, msgspec.DecodeError) and (lenient := _with_lone_surrogates(body)) is not None:
            return lenient  # well-formed JSON naming a lone surrogate: the text check names the field
        reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "not valid JSON"
        raise ClientException(f"The request body is {reason}.") from exc


def _with_lone_surrogates(body: bytes) -> Any:  # Any: decoded JSON, or None
    """JSON that msgspec refuses only for escaping a lone surrogate (``"\\ud800"``), decoded by the standard
    library, which keeps it (the nesting was checked already); None when it is not JSON either."""
    try:
        found = json.loads(body)
    except ValueError:
        return None
    surrogates = [c for _, c in forbidden_in(found) if 0xD800 <= int(c.removeprefix("U+"), 16) <= 0xDFFF]
    return found if surrogates else None  # msgspec refused it for something else (NaN, say)
