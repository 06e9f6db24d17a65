"""Scheduling over HTTP: catalog, engineers' calendars, availability, bookings."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from accounts import Actor
from api.contract import BUSY_ICS, problems
from api.dependencies import DB, Ctx, CurrentActor
from api.uploads import document_body
from core.errors import FieldProblem, InvalidInput, NotFound, PermissionDenied
from core.transactions import begin_request_transaction, end_transaction
from scheduling import (
    MAX_ICS_BYTES,
    AvailabilityOut,
    BusySourceOut,
    CalendarImportFailed,
    FetchPolicy,
    ServiceIn,
    ServiceOut,
    ServicePatch,
    SlotOut,
    WorkingHoursIn,
    WorkingHoursOut,
    availability_of,
    create_service,
    fetch_ics,
    get_engineer,
    get_service,
    import_busy_calendar,
    list_services,
    list_sources,
    require_calendar_editor,
    set_working_hours,
    update_service,
    zone_of,
)

SourceName = Annotated[
    str, QueryParameter(pattern=r"^[\w .\-]{1,200}$", description="Name of the calendar source")
]


def require_offset(moment: datetime, field: str) -> None:
    """Instants must say which offset they are in (RFC 3339); a naive time is ambiguous."""
    if moment.tzinfo is None:
        raise InvalidInput(f"{field} needs an offset (RFC 3339).", errors=[FieldProblem(field, "no offset")])


def _sees_inactive(request: Request[Any, Any, Any]) -> bool:
    actor: Actor | None = getattr(request.state, "actor", None)
    return actor is not None and actor.is_staff


class ServiceController(Controller):
    path = "/v1/services"
    tags = ["scheduling"]

    @get("/", summary="The service catalog")
    async def list_services(self, request: Request[Any, Any, Any], db: DB) -> list[ServiceOut]:
        return [ServiceOut.of(s) for s in await list_services(db, include_inactive=_sees_inactive(request))]

    @problems(InvalidInput)
    @post("/", summary="Define a service (sales)")
    async def create_service(self, data: JSONBody[ServiceIn], db: DB, ctx: Ctx) -> ServiceOut:
        return ServiceOut.of(await create_service(db, data, now=ctx.clock.now()))

    @problems(NotFound)
    @get("/{service_id:uuid}", summary="One service with its precondition checklist")
    async def get_service(
        self, request: Request[Any, Any, Any], service_id: FromPath[uuid.UUID], db: DB
    ) -> ServiceOut:
        return ServiceOut.of(await get_service(db, service_id, include_inactive=_sees_inactive(request)))

    @problems(NotFound, InvalidInput)
    @patch("/{service_id:uuid}", summary="Change a service (sales)")
    async def update_service(
        self, service_id: FromPath[uuid.UUID], data: JSONBody[ServicePatch], db: DB, ctx: Ctx
    ) -> ServiceOut:
        return ServiceOut.of(await update_service(db, service_id, data, now=ctx.clock.now()))


class EngineerCalendarController(Controller):
    path = "/v1/engineers/{engineer_id:uuid}"
    tags = ["scheduling"]

    @problems(NotFound)
    @get("/working-hours", summary="An engineer's zone, weekly hours and skills")
    async def get_hours(self, engineer_id: FromPath[uuid.UUID], db: DB) -> WorkingHoursOut:
        return WorkingHoursOut.from_model(await get_engineer(db, engineer_id))

    @problems(NotFound, PermissionDenied, InvalidInput)
    @put("/working-hours", summary="Set an engineer's zone, weekly hours and skills")
    async def put_hours(
        self,
        engineer_id: FromPath[uuid.UUID],
        data: JSONBody[WorkingHoursIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> WorkingHoursOut:
        return WorkingHoursOut.from_model(
            await set_working_hours(db, actor, engineer_id, data, now=ctx.clock.now())
        )

    @problems(NotFound)
    @get("/busy-calendars", summary="Imported busy calendars")
    async def list_busy(self, engineer_id: FromPath[uuid.UUID], db: DB) -> list[BusySourceOut]:
        return [BusySourceOut.of(s) for s in await list_sources(db, engineer_id)]

    @problems(NotFound, PermissionDenied, CalendarImportFailed, body=BUSY_ICS)
    @post(
        "/busy-calendars",
        summary="Import busy time: an ICS file as the text/calendar body, or ?url= to fetch one; "
        "re-importing a name replaces it",
        request_max_body_size=MAX_ICS_BYTES,
    )
    async def import_busy(
        self,
        engineer_id: FromPath[uuid.UUID],
        request: Request[Any, Any, Any],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        name: SourceName = "upload",
        url: Annotated[
            str | None, QueryParameter(max_length=2000, description="http(s) URL of an ICS feed")
        ] = None,
    ) -> BusySourceOut:
        engineer = await get_engineer(db, engineer_id)
        require_calendar_editor(actor, engineer_id)
        content = await document_body(request)
        if url:
            await end_transaction(db)  # nothing held while the calendar's server answers
            content = await fetch_ics(url, _fetch_policy(ctx))
            await begin_request_transaction(db, "POST", is_sqlite=ctx.settings.is_sqlite)
            engineer = await get_engineer(db, engineer_id)
        s = await import_busy_calendar(db, engineer, name=name, content=content, now=ctx.clock.now(), url=url)
        return BusySourceOut.of(s)


def _fetch_policy(ctx: Ctx) -> FetchPolicy:
    return ctx.settings.ics_url_policy


class AvailabilityController(Controller):
    tags = ["scheduling"]

    @problems(NotFound, InvalidInput)
    @get("/v1/availability", summary="Free start times for a service in the caller's time zone")
    async def get_availability(
        self,
        db: DB,
        ctx: Ctx,
        service_id: FromQuery[uuid.UUID],
        from_: Annotated[datetime, QueryParameter(name="from", description="RFC 3339 with offset")],
        to: FromQuery[datetime],
        tz: FromQuery[str] = "Europe/Moscow",
    ) -> AvailabilityOut:
        require_offset(from_, "from")
        require_offset(to, "to")
        zone = zone_of(tz)
        service, starts = await availability_of(
            db, service_id, from_, to, tz=tz, policy=ctx.scheduling, now=ctx.clock.now()
        )
        length = service.duration_minutes
        return AvailabilityOut(
            service_id=service.id,
            time_zone=tz,
            slots=[
                SlotOut(
                    starts_at=s.astimezone(zone), ends_at=(s + timedelta(minutes=length)).astimezone(zone)
                )
                for s in starts
            ],
        )
