"""Holiday calendars over HTTP: ICS import (e.g. a national production calendar) and single edits."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from accounts import Actor
from api.contract import HOLIDAY_ICS, problems
from api.dependencies import DB, Ctx
from api.uploads import document_body
from core.errors import InvalidInput, NotFound
from core.holidays import (
    MAX_ICS_BYTES,
    HolidayDate,
    import_holidays,
    list_holidays,
    parse_holiday_ics,
    remove_holiday,
)
from core.text import Name
from support import HolidayOut, names_holiday_calendar

CalendarKey = Annotated[
    str, QueryParameter(pattern=r"^[a-z0-9_\-]{1,64}$", description="Holiday calendar name")
]


class HolidayIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name


class HolidayController(Controller):
    path = "/v1/calendars/holidays"
    tags = ["calendars"]

    @problems(NotFound)
    @get(
        "/",
        summary="Holidays of a calendar (public for the calendars published regulations use; staff: any)",
    )
    async def list_holidays(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        calendar: CalendarKey = "default",
        year: Annotated[int | None, QueryParameter(ge=1, le=9998, description="Only this year")] = None,
    ) -> list[HolidayOut]:
        actor: Actor | None = getattr(request.state, "actor", None)
        if not (actor is not None and actor.is_staff) and not await names_holiday_calendar(db, calendar):
            raise NotFound("No published holiday calendar has this name.")
        return [HolidayOut.from_model(h) for h in await list_holidays(db, calendar, year=year)]

    @problems(InvalidInput, body=HOLIDAY_ICS)
    @post(
        "/",
        summary="Import holidays from an ICS file (text/calendar body)",
        request_max_body_size=MAX_ICS_BYTES,
    )
    async def import_ics(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        ctx: Ctx,
        calendar: CalendarKey = "default",
        replace: FromQuery[bool] = False,
    ) -> list[HolidayOut]:
        parsed = parse_holiday_ics(await document_body(request))
        rows = await import_holidays(db, calendar, parsed, source="ics", now=ctx.clock.now(), replace=replace)
        return [HolidayOut.from_model(h) for h in rows]

    @problems(InvalidInput)
    @put("/{day:date}", summary="Add or rename one holiday")
    async def put_holiday(
        self,
        day: FromPath[date],
        data: JSONBody[HolidayIn],
        db: DB,
        ctx: Ctx,
        calendar: CalendarKey = "default",
    ) -> list[HolidayOut]:
        await remove_holiday(db, calendar, day)
        rows = await import_holidays(
            db, calendar, [HolidayDate(day, data.name)], source="manual", now=ctx.clock.now()
        )
        return [HolidayOut.from_model(h) for h in rows if h.day == day]

    @problems(NotFound)
    @delete("/{day:date}", summary="Remove one holiday", status_code=204)
    async def delete_holiday(self, day: FromPath[date], db: DB, calendar: CalendarKey = "default") -> None:
        if not await remove_holiday(db, calendar, day):
            raise NotFound("That date is not a holiday of this calendar.")
