"""Field problems people can read: every entry of errors[] has a stable machine code, the field's
public path, and a message in the caller's language (Accept-Language: ru or en), made by the API from
what went wrong, never the decoder's words; the title and the detail follow the same language."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from accounts.roles import Role
from api.errors import BY_STATUS, DATABASE_BUSY, DOMAIN_PROBLEMS, MALFORMED
from api.field_messages import describe
from api.problem_details_ru import DETAILS_RU
from contracts.terms import MISSING
from tests.support.helpers import intake
from tests.world import World

RU = {"Accept-Language": "ru"}
DECODER_WORDS = ("Expected `", "Object missing", "Object contains", "Invalid enum", "Invalid RFC3339")


async def _ticket_problem(world: World, body: dict[str, Any], language: str) -> dict[str, Any]:
    _, _, headers = await world.contact()
    response = await world.client.post(
        "/v1/support/tickets", json=body, headers={**headers, "Accept-Language": language}
    )
    assert response.status_code == 422, response.text
    problem: dict[str, Any] = dict(response.json())
    assert not any(word in e["message"] for e in problem["errors"] for word in DECODER_WORDS)
    return problem


def _error(problem: dict[str, Any], field: str) -> dict[str, Any]:
    found = [e for e in problem["errors"] if e["field"] == field]
    assert len(found) == 1, problem["errors"]
    error: dict[str, Any] = found[0]
    return error


@pytest.mark.parametrize(
    ("change", "field", "code", "en", "ru"),
    [
        (
            {"project_name": None},
            "project_name",
            "invalid_type",
            "expected text, not null",
            "ожидается строка, а не null",
        ),
        ({"project_name": ""}, "project_name", "too_short", "must not be empty", "не может быть пустым"),
        (
            {"project_name": "x" * 1000},
            "project_name",
            "too_long",
            "at most 200 characters",
            "не длиннее 200 символов",
        ),
        ({"affected_employees": -1}, "affected_employees", "out_of_range", "at least 0", "не меньше 0"),
        (
            {"affected_employees": "many"},
            "affected_employees",
            "invalid_type",
            "expected a whole number, not text",
            "ожидается целое число, а не строка",
        ),
        (
            {"colour": "red"},
            "colour",
            "unknown_field",
            "not a field of this request",
            "такого поля в запросе нет",
        ),
        (
            {"impact": "a\u0000b"},
            "impact",
            "control_character",
            "contains the control character U+0000",
            "содержит управляющий символ U+0000",
        ),
    ],
)
async def test_each_kind_of_invalid_field_has_a_code_and_a_message_in_both_languages(
    world: World, change: dict[str, Any], field: str, code: str, en: str, ru: str
) -> None:
    body = {**intake(), **change}
    english = _error(await _ticket_problem(world, body, "en"), field)
    russian = _error(await _ticket_problem(world, body, "ru"), field)
    assert (english["code"], english["message"]) == (code, en)
    assert (russian["code"], russian["message"]) == (code, ru)


async def test_a_missing_field_is_required_in_both_languages(world: World) -> None:
    body = intake()
    del body["impact"]
    assert _error(await _ticket_problem(world, body, "en"), "impact") == {
        "field": "impact",
        "source": "body",
        "code": "required",
        "message": "required",
    }
    assert _error(await _ticket_problem(world, body, "ru"), "impact")["message"] == "обязательное поле"


async def test_in_russian_the_title_and_the_detail_are_russian(world: World) -> None:
    problem = await _ticket_problem(world, {**intake(), "project_name": ""}, "ru")
    assert problem["title"] == "Ошибка проверки данных"
    assert problem["detail"].startswith("Данные запроса не прошли проверку")


async def test_a_malformed_date_in_a_query_is_an_invalid_format(world: World) -> None:
    _, headers = await world.staff(Role.ADMIN)
    response = await world.client.get(
        "/v1/availability",
        params={"service_id": "x", "from": "yesterday", "to": "2026-01-14T00:00:00+03:00"},
        headers={**headers, **RU},
    )
    assert response.status_code == 422
    codes = {e["field"]: e["code"] for e in response.json()["errors"]}
    assert codes == {"service_id": "invalid_format", "from": "invalid_format"}


async def test_a_missing_query_parameter_is_required_and_named(world: World) -> None:
    _, headers = await world.staff(Role.ADMIN)
    response = await world.client.get(
        "/v1/availability", params={"service_id": "x", "from": "yesterday"}, headers={**headers, **RU}
    )
    assert response.status_code == 422
    assert {"field": "to", "source": "query", "code": "required", "message": "обязательное поле"} in (
        response.json()["errors"]
    )


async def test_a_domain_problem_is_said_in_the_callers_language(world: World) -> None:
    _, headers = await world.staff(Role.ADMIN)
    first = await world.client.post(
        "/v1/organizations", json={"name": "Acme", "tax_id": "7700"}, headers=headers
    )
    assert first.status_code == 201, first.text
    again = await world.client.post(
        "/v1/organizations", json={"name": "Acme 2", "tax_id": "7700"}, headers={**headers, **RU}
    )
    assert again.status_code in (409, 422)
    error = _error(again.json(), "tax_id")
    assert (error["code"], error["message"]) == ("taken", "уже занято")


async def test_an_unknown_query_parameter_is_named_in_russian(world: World) -> None:
    _, headers = await world.staff(Role.ADMIN)
    response = await world.client.get(
        "/v1/organizations", params={"colour": "red"}, headers={**headers, **RU}
    )
    assert response.status_code == 422
    error = _error(response.json(), "colour")
    assert (error["code"], error["message"], error["source"]) == (
        "not_a_parameter",
        "у этой операции нет такого параметра",
        "query",
    )


def test_every_problem_says_what_it_means_in_russian() -> None:
    kinds = {k.code for k in [*DOMAIN_PROBLEMS.values(), *BY_STATUS.values(), DATABASE_BUSY, MALFORMED]}
    assert sorted(kinds - set(DETAILS_RU)) == []


def test_every_sentence_the_code_writes_has_a_rule() -> None:
    # The literal field messages of the domain and the edge (f-strings with a sample value): none
    # falls through to the generic "invalid".
    root = Path(__file__).resolve().parents[2]
    unknown = []
    for path in root.glob("*/**/*.py"):
        if path.parts[len(root.parts)] not in PARTS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "FieldProblem":
                message = node.args[1] if len(node.args) > 1 else None
                sentence = _sample(message)
                if sentence is not None and describe(sentence).code == "invalid":
                    unknown.append(f"{path.relative_to(root)}:{node.lineno}: {sentence}")
    assert unknown == []


PARTS = {"accounts", "support", "scheduling", "billing", "contracts", "core", "api", "flows", "notifications"}


def _sample(node: ast.expr | None) -> str | None:
    """The sentence a literal or f-string argument makes (each placeholder as ``7``); None otherwise."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "7" for v in node.values)
    if isinstance(node, ast.Name) and node.id == "MISSING":
        return MISSING
    return None
