"""The rules a contract's terms obey: each field on its own (checked on every save, drafts included)
and all of them together (checked before a contract takes effect: activation and amendments)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from contracts.schemas import Priority, Terms
from core.business_time import from_weekly_hours
from core.errors import FieldProblem

MISSING = "required before the contract takes effect"
# Every field a contract in force needs (``regulation`` is optional: the responsibilities may say all).
REQUIRED = (
    "coverage",
    "calendar",
    "priorities",
    "included_session_minutes",
    "overage",
    "monthly_fee_minor",
    "currency",
    "service_credits",
    "responsibilities",
)


def problems_of(terms: Terms, *, complete: bool, prefix: str = "terms") -> list[FieldProblem]:
    """Every rule the terms break; with ``complete``, also every required field that is missing."""
    problems: list[FieldProblem] = []
    if complete:
        problems += [
            FieldProblem(f"{prefix}.{name}", MISSING) for name in REQUIRED if getattr(terms, name) is None
        ]
    if terms.coverage is not None:
        coverage = terms.coverage
        if coverage.kind == "named" and not coverage.user_ids:
            problems.append(FieldProblem(f"{prefix}.coverage.user_ids", "a named coverage names its users"))
        if coverage.kind != "named" and coverage.user_ids:
            problems.append(FieldProblem(f"{prefix}.coverage.user_ids", "only a named coverage lists users"))
        if coverage.kind == "seats" and coverage.max_users is None:
            problems.append(FieldProblem(f"{prefix}.coverage.max_users", "seats coverage needs max_users"))
        if coverage.kind != "seats" and coverage.max_users is not None:
            problems.append(FieldProblem(f"{prefix}.coverage.max_users", "only seats coverage has max_users"))
    if terms.calendar is not None:
        try:
            ZoneInfo(terms.calendar.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(FieldProblem(f"{prefix}.calendar.time_zone", "unknown IANA time zone"))
        else:
            try:
                from_weekly_hours(terms.calendar.time_zone, terms.calendar.weekly_hours)
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                problems.append(FieldProblem(f"{prefix}.calendar.weekly_hours", str(exc)))
    if terms.priorities is not None:
        if complete:
            problems += [
                FieldProblem(f"{prefix}.priorities.{p.value}", MISSING)
                for p in Priority
                if p not in terms.priorities
            ]
        for priority, target in terms.priorities.items():
            if target.resolution_minutes < target.first_response_minutes:
                problems.append(
                    FieldProblem(
                        f"{prefix}.priorities.{priority.value}.resolution_minutes",
                        "the resolution target cannot be shorter than the first-response target",
                    )
                )
    if terms.overage is not None:
        overage = terms.overage
        if overage.mode == "charge" and overage.rate_minor_per_hour is None:
            problems.append(FieldProblem(f"{prefix}.overage.rate_minor_per_hour", "charging needs a rate"))
        if overage.mode == "refuse" and overage.rate_minor_per_hour is not None:
            problems.append(FieldProblem(f"{prefix}.overage.rate_minor_per_hour", "refusing has no rate"))
    return problems


def merged(base: Terms, changes: Terms) -> Terms:
    """``base`` with every field ``changes`` gives replacing its own."""
    given = {k: v for k, v in msgspec.structs.asdict(changes).items() if v is not None}
    return msgspec.structs.replace(base, **given)


def stored(terms: Terms) -> dict[str, Any]:  # Any: the JSON document kept on the version row
    return {k: v for k, v in msgspec.to_builtins(terms).items() if v is not None}


def loaded(document: dict[str, Any]) -> Terms:  # Any: the JSON document kept on the version row
    return msgspec.convert(document, Terms)
