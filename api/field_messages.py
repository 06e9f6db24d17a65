"""Field problems people can read: each one gets a stable machine ``code`` and a message in English and
Russian, produced here from what went wrong, never the decoder's own words.

A field problem reaches the edge as an English sentence: msgspec's (``Expected `str` of length >= 1``)
when a body or parameter does not decode, or a domain module's (``taken``, ``off the grid``). Each
rule below recognises one kind of sentence and says its code and how to say it in both languages;
integrators switch on ``code``, people read ``message``. A sentence no rule knows keeps its English
words under the code ``invalid`` (and a Russian lead-in); a test holds every sentence the code base
writes to a rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# The codes an integrator may meet in errors[].code (the OpenAPI document lists them).
CODES = (
    "required",
    "unknown_field",
    "not_a_parameter",
    "invalid_type",
    "too_short",
    "too_long",
    "out_of_range",
    "invalid_format",
    "not_allowed",
    "control_character",
    "taken",
    "unknown_reference",
    "invalid",
)

TYPES_RU = {
    "str": "строка",
    "int": "целое число",
    "float": "число",
    "bool": "true или false",
    "object": "объект",
    "array": "список",
    "null": "null",
    "datetime": "дата и время",
    "date": "дата",
    "uuid": "идентификатор (UUID)",
}
TYPES_EN = {"str": "text", "int": "a whole number", "float": "a number", "bool": "true or false"}


def _type_ru(name: str) -> str:
    return " или ".join(TYPES_RU.get(part.strip(), part.strip()) for part in name.split("|"))


def _type_en(name: str) -> str:
    return " or ".join(TYPES_EN.get(part.strip(), part.strip()) for part in name.split("|"))


@dataclass(frozen=True)
class Said:
    code: str
    en: str
    ru: str


Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], Said]]


def _rule(pattern: str, say: Callable[[re.Match[str]], Said]) -> Rule:
    return re.compile(pattern), say


def _fixed(code: str, en: str, ru: str) -> Callable[[re.Match[str]], Said]:
    return lambda m: Said(code, en.format(**m.groupdict()), ru.format(**m.groupdict()))


RULES: tuple[Rule, ...] = (
    # The decoder's words (msgspec), as Litestar and our own checks hand them over.
    _rule(
        r"^Object missing required field `(?P<f>[^`]+)`$", _fixed("required", "required", "обязательное поле")
    ),
    _rule(r"^(required|Missing required .*)$", _fixed("required", "required", "обязательное поле")),
    _rule(
        r"^(unknown field|Object contains unknown field `[^`]+`)$",
        _fixed("unknown_field", "not a field of this request", "такого поля в запросе нет"),
    ),
    _rule(
        r"^not a parameter of this operation$",
        _fixed(
            "not_a_parameter", "not a parameter of this operation", "у этой операции нет такого параметра"
        ),
    ),
    _rule(
        r"^Expected `(?P<t>str|array|object)` of length >= (?P<n>\d+)$",
        lambda m: Said(
            "too_short",
            "must not be empty" if m["n"] == "1" else f"at least {m['n']} {_units_en(m['t'])}",
            "не может быть пустым" if m["n"] == "1" else f"не короче {m['n']} {_units_ru(m['t'])}",
        ),
    ),
    _rule(
        r"^Expected `(?P<t>str|array|object)` of length <= (?P<n>\d+)$",
        lambda m: Said(
            "too_long", f"at most {m['n']} {_units_en(m['t'])}", f"не длиннее {m['n']} {_units_ru(m['t'])}"
        ),
    ),
    _rule(
        r"^Expected `(?:int|float)` >= (?P<n>[-\d.]+)$",
        _fixed("out_of_range", "at least {n}", "не меньше {n}"),
    ),
    _rule(
        r"^Expected `(?:int|float)` > (?P<n>[-\d.]+)$", _fixed("out_of_range", "more than {n}", "больше {n}")
    ),
    _rule(
        r"^Expected `(?:int|float)` <= (?P<n>[-\d.]+)$",
        _fixed("out_of_range", "at most {n}", "не больше {n}"),
    ),
    _rule(
        r"^Expected `(?:int|float)` < (?P<n>[-\d.]+)$", _fixed("out_of_range", "less than {n}", "меньше {n}")
    ),
    _rule(
        r"^Expected `(?:int|float)` that is a multiple of (?P<n>[\d.]+)$",
        _fixed("out_of_range", "a multiple of {n}", "кратно {n}"),
    ),
    _rule(
        r"^Expected `(?P<t>[^`]+)`, got `(?P<g>[^`]+)`$",
        lambda m: Said(
            "invalid_type",
            f"expected {_type_en(m['t'])}, not {_type_en(m['g'])}",
            f"ожидается {_type_ru(m['t'])}, а не {_type_ru(m['g'])}",
        ),
    ),
    _rule(
        r"^Expected `str` matching regex .*$",
        _fixed("invalid_format", "not in the expected format", "не в ожидаемом формате"),
    ),
    _rule(
        r"^Invalid RFC3339 encoded datetime$",
        _fixed(
            "invalid_format",
            "a date and time with its offset, e.g. 2026-03-02T09:00:00+03:00",
            "дата и время со смещением, например 2026-03-02T09:00:00+03:00",
        ),
    ),
    _rule(
        r"^Invalid RFC3339 encoded date$",
        _fixed("invalid_format", "a date, e.g. 2026-03-02", "дата, например 2026-03-02"),
    ),
    _rule(
        r"^Invalid RFC3339 encoded time$",
        _fixed("invalid_format", "a time, e.g. 09:00", "время, например 09:00"),
    ),
    _rule(r"^Invalid UUID$", _fixed("invalid_format", "not an identifier (UUID)", "не идентификатор (UUID)")),
    _rule(
        r"^Invalid enum value (?P<v>.*)$",
        _fixed("not_allowed", "{v} is not one of the allowed values", "{v} — недопустимое значение"),
    ),
    _rule(
        r"^contains the control character (?P<c>.+)$",
        _fixed(
            "control_character",
            "contains the control character {c}",
            "содержит управляющий символ {c}",
        ),
    ),
    # The domain's words.
    _rule(r"^(taken|already recorded)$", _fixed("taken", "already taken", "уже занято")),
    _rule(
        r"^duplicates line (?P<n>\d+)$",
        _fixed("taken", "the same as line {n}", "повторяет строку {n}"),
    ),
    _rule(r"^duplicate key$", _fixed("taken", "a key used twice", "ключ повторяется")),
    _rule(
        r"^unknown (?:organisation|organization)$",
        _fixed("unknown_reference", "no such organisation", "такой организации нет"),
    ),
    _rule(
        r"^unknown cursor$",
        _fixed("unknown_reference", "not a cursor of this list", "курсор не от этого списка"),
    ),
    _rule(
        r"^unknown article (?P<v>.+)$",
        _fixed("unknown_reference", "no published article {v}", "нет опубликованной статьи {v}"),
    ),
    _rule(
        r"^unknown scope (?P<v>.+)$", _fixed("unknown_reference", "no scope {v}", "нет области доступа {v}")
    ),
    _rule(r"^unknown: (?P<v>.+)$", _fixed("unknown_reference", "unknown: {v}", "неизвестно: {v}")),
    _rule(
        r"^not an active member of support staff$",
        _fixed(
            "unknown_reference", "not an active member of support staff", "не действующий сотрудник поддержки"
        ),
    ),
    _rule(
        r"^unknown intake item (?P<v>.+)$",
        _fixed("unknown_reference", "no intake item {v}", "нет такого пункта заявки: {v}"),
    ),
    _rule(
        r"^unknown column (?P<v>.+)$", _fixed("not_allowed", "unknown column {v}", "неизвестный столбец {v}")
    ),
    _rule(r"^missing column (?P<v>.+)$", _fixed("required", "missing column {v}", "нет столбца {v}")),
    _rule(r"^unknown$", _fixed("not_allowed", "not one of the allowed values", "недопустимое значение")),
    _rule(
        r"^unknown IANA time zone(?:, e\.g\. Europe/Moscow)?$|^unknown zone$",
        _fixed(
            "invalid_format",
            "not a time zone (IANA name, e.g. Europe/Moscow)",
            "не часовой пояс (имя IANA, например Europe/Moscow)",
        ),
    ),
    _rule(
        r"^no offset$",
        _fixed("invalid_format", "needs its offset, e.g. +03:00", "нужно смещение, например +03:00"),
    ),
    _rule(
        r"^must be (?P<a>\d+)\.\.(?P<b>\d+)$|^must be between (?P<c>\d+) and (?P<d>\d+)$",
        lambda m: Said(
            "out_of_range",
            f"from {m['a'] or m['c']} to {m['b'] or m['d']}",
            f"от {m['a'] or m['c']} до {m['b'] or m['d']}",
        ),
    ),
    _rule(
        r"^(out of range|outside the allowed range)$",
        _fixed("out_of_range", "out of the allowed range", "вне допустимого диапазона"),
    ),
    _rule(
        r"^at least (?P<n>\d+) characters$",
        _fixed("too_short", "at least {n} characters", "не короче {n} символов"),
    ),
    _rule(r"^before starts_on$", _fixed("out_of_range", "before the start date", "раньше даты начала")),
    _rule(r"^after to$", _fixed("out_of_range", "after the end of the window", "позже конца периода")),
    _rule(r"^in the past$", _fixed("out_of_range", "in the past", "в прошлом")),
    _rule(r"^in the future$", _fixed("out_of_range", "in the future", "в будущем")),
    _rule(r"^not ended yet$", _fixed("out_of_range", "not ended yet", "ещё не закончился")),
    _rule(
        r"^too far from starts_on$",
        _fixed("out_of_range", "too far from the start date", "слишком далеко от даты начала"),
    ),
    _rule(
        r"^invalid window$",
        _fixed("out_of_range", "the window is empty or too long", "период пуст или слишком длинный"),
    ),
    _rule(r"^off the grid$", _fixed("not_allowed", "not on the booking grid", "не по сетке записи")),
    _rule(r"^outside working hours$", _fixed("not_allowed", "outside working hours", "вне рабочего времени")),
    _rule(
        r"^too soon or in the past$",
        _fixed("out_of_range", "too soon or in the past", "слишком скоро или в прошлом"),
    ),
    _rule(
        r"^outside the contract(?: or in the past)?$",
        _fixed("out_of_range", "outside the contract's term", "вне срока договора"),
    ),
    _rule(
        r"^inside an invoiced period$",
        _fixed("out_of_range", "inside a period already invoiced", "внутри уже выставленного периода"),
    ),
    _rule(
        r"^not a month from 2000 to 2999$",
        _fixed("out_of_range", "a month from 2000-01 to 2999-12", "месяц с 2000-01 по 2999-12"),
    ),
    _rule(
        r"^not available to this caller$",
        _fixed("not_allowed", "not available to you", "вам недоступно"),
    ),
    _rule(
        r"^not granted to this client$",
        _fixed("not_allowed", "not granted to this client", "не выдано этому клиенту"),
    ),
    _rule(
        r"^must be customer_user or customer_admin$",
        _fixed("not_allowed", "customer_user or customer_admin", "customer_user или customer_admin"),
    ),
    _rule(
        r"^must be a staff role$",
        _fixed(
            "not_allowed",
            "a staff role (engineer, lead, sales, admin)",
            "роль сотрудника (инженер, руководитель, продажи, администратор)",
        ),
    ),
    _rule(
        r"^required for customer roles$",
        _fixed("required", "required for customer roles", "обязательно для ролей клиента"),
    ),
    _rule(
        r"^required when channel is partner$",
        _fixed(
            "required", "required when bought through a partner", "обязательно при покупке через партнёра"
        ),
    ),
    _rule(
        r"^must be empty when channel is direct$",
        _fixed("not_allowed", "must be empty for a direct purchase", "должно быть пустым при прямой покупке"),
    ),
    _rule(
        r"^not a missing intake item$",
        _fixed("not_allowed", "not a missing intake item", "этот пункт заявки не отсутствует"),
    ),
    _rule(
        r"^not on this service's checklist$",
        _fixed("unknown_reference", "not on this service's checklist", "нет в списке этой услуги"),
    ),
    _rule(
        r"^a choice item needs choices$",
        _fixed("required", "a choice item needs its choices", "у пункта с выбором нужны варианты"),
    ),
    _rule(
        r"^only choice items have choices$",
        _fixed("not_allowed", "only a choice item has choices", "варианты бывают только у пункта с выбором"),
    ),
    _rule(
        r"^expected an object, got (?P<t>\w+)$",
        lambda m: Said(
            "invalid_type",
            f"expected an object, not {_type_en(m['t'])}",
            f"ожидается объект, а не {_type_ru(m['t'])}",
        ),
    ),
    _rule(
        r"^(?P<u>.+) is not a user of the organisation$",
        _fixed(
            "unknown_reference",
            "{u} is not a user of the organisation",
            "{u} — не пользователь этой организации",
        ),
    ),
    _rule(
        r"^required before the contract takes effect$",
        _fixed(
            "required",
            "required before the contract takes effect",
            "обязательно до вступления договора в силу",
        ),
    ),
    _rule(
        r"^a named coverage names its users$",
        _fixed(
            "required",
            "a named coverage names its users",
            "при поимённом покрытии нужен список пользователей",
        ),
    ),
    _rule(
        r"^only a named coverage lists users$",
        _fixed(
            "not_allowed",
            "only a named coverage lists users",
            "список пользователей бывает только при поимённом покрытии",
        ),
    ),
    _rule(
        r"^seats coverage needs max_users$",
        _fixed("required", "coverage by seats needs max_users", "при покрытии по числу мест нужен max_users"),
    ),
    _rule(
        r"^only seats coverage has max_users$",
        _fixed(
            "not_allowed",
            "only coverage by seats has max_users",
            "max_users бывает только при покрытии по числу мест",
        ),
    ),
    _rule(
        r"^charging needs a rate$",
        _fixed("required", "charging for overage needs a rate", "для оплаты сверх лимита нужна ставка"),
    ),
    _rule(
        r"^refusing has no rate$",
        _fixed("not_allowed", "refusing overage has no rate", "при отказе сверх лимита ставки нет"),
    ),
    _rule(
        r"^the resolution target cannot be shorter than the first-response target$",
        _fixed(
            "out_of_range",
            "the resolution target cannot be shorter than the first-response target",
            "срок решения не может быть короче срока первого ответа",
        ),
    ),
    _rule(
        r"^more values than columns$",
        _fixed("invalid_format", "more values than columns", "значений больше, чем столбцов"),
    ),
    _rule(
        r"^1-255 printable characters$",
        _fixed("invalid_format", "1 to 255 printable characters", "от 1 до 255 печатных символов"),
    ),
)


def _units_en(kind: str) -> str:
    return {"str": "characters", "array": "items", "object": "fields"}[kind]


def _units_ru(kind: str) -> str:
    return {"str": "символов", "array": "элементов", "object": "полей"}[kind]


def describe(message: str) -> Said:
    """The code and both messages of one field problem's English sentence."""
    for pattern, say in RULES:
        if found := pattern.match(message):
            return say(found)
    return Said("invalid", message, f"недопустимое значение ({message})")
