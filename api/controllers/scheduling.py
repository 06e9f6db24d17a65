"""Scheduling over HTTP: catalog, engineers' calendars, availability, bookings."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter, RawBody

from accounts.actor import Actor
from api.dependencies import DB, Ctx, CurrentActor
from api.idempotency import idempotent
from core.errors import FieldProblem, InvalidInput
from scheduling import bookings, busy, catalog, engineers
from scheduling.models import Booking, Engineer, Service
from scheduling.schemas import (
    AvailabilityOut,
    BookingIn,
    BookingOut,
    BusySourceOut,
    ServiceIn,
    ServiceOut,
    ServicePatch,
    SlotOut,
    WorkingHoursIn,
    WorkingHoursOut,
)

SourceName = Annotated[
    str, QueryParameter(pattern=r"^[\w .\-]{1,200}$", description="Name of the calendar source")
]


def service_out(s: Service) -> ServiceOut:
    return ServiceOut(
        id=s.id,
        name=s.name,
        description=s.description,
        duration_minutes=s.duration_minutes,
        price_minor=s.price_minor,
        currency=s.currency,
        min_notice_minutes=s.min_notice_minutes,
        buffer_before_minutes=s.buffer_before_minutes,
        buffer_after_minutes=s.buffer_after_minutes,
        full_refund_hours_before=s.full_refund_hours_before,
        required_skills=s.required_skills,
        checklist=s.checklist,
        active=s.active,
    )


def booking_out(b: Booking) -> BookingOut:
    return BookingOut(
        id=b.id,
        number=f"RS-{b.number}",
        service_id=b.service_id,
        organization_id=b.organization_id,
        engineer_id=b.engineer_id,
        status=b.status,
        funding=b.funding,
        starts_at=b.starts_at,
        ends_at=b.ends_at,
        time_zone=b.time_zone,
        hold_expires_at=b.hold_expires_at,
        price_minor=b.price_minor,
        currency=b.currency,
        created_at=b.created_at,
    )


def hours_out(e: Engineer) -> WorkingHoursOut:
    return WorkingHoursOut(
        engineer_id=e.user_id,
        time_zone=e.time_zone,
        weekly_hours=e.weekly_hours,
        skills=e.skills,
        holiday_calendar=e.holiday_calendar,
    )


def _sees_inactive(request: Request[Any, Any, Any]) -> bool:
    actor: Actor | None = getattr(request.state, "actor", None)
    return actor is not None and actor.is_staff


class ServiceController(Controller):
    path = "/v1/services"
    tags = ["scheduling"]

    @get("/", summary="The service catalog")
    async def list_services(self, request: Request[Any, Any, Any], db: DB) -> list[ServiceOut]:
        return [
            service_out(s) for s in await catalog.list_services(db, include_inactive=_sees_inactive(request))
        ]

    @post("/", summary="Define a service (sales)")
    async def create_service(self, data: JSONBody[ServiceIn], db: DB, ctx: Ctx) -> ServiceOut:
        return service_out(await catalog.create_service(db, data, now=ctx.clock.now()))

    @get("/{service_id:uuid}", summary="One service with its precondition checklist")
    async def get_service(
        self, request: Request[Any, Any, Any], service_id: FromPath[uuid.UUID], db: DB
    ) -> ServiceOut:
        return service_out(
            await catalog.get_service(db, service_id, include_inactive=_sees_inactive(request))
        )

    @patch("/{service_id:uuid}", summary="Change a service (sales)")
    async def update_service(
        self, service_id: FromPath[uuid.UUID], data: JSONBody[ServicePatch], db: DB, ctx: Ctx
    ) -> ServiceOut:
        return service_out(await catalog.update_service(db, service_id, data, now=ctx.clock.now()))


class EngineerCalendarController(Controller):
    path = "/v1/engineers/{engineer_id:uuid}"
    tags = ["scheduling"]

    @get("/working-hours", summary="An engineer's zone, weekly hours and skills")
    async def get_hours(self, engineer_id: FromPath[uuid.UUID], db: DB) -> WorkingHoursOut:
        return hours_out(await engineers.get_engineer(db, engineer_id))

    @put("/working-hours", summary="Set an engineer's zone, weekly hours and skills")
    async def put_hours(
        self,
        engineer_id: FromPath[uuid.UUID],
        data: JSONBody[WorkingHoursIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> WorkingHoursOut:
        return hours_out(await engineers.set_working_hours(db, actor, engineer_id, data, now=ctx.clock.now()))

    @get("/busy-calendars", summary="Imported busy calendars")
    async def list_busy(self, engineer_id: FromPath[uuid.UUID], db: DB) -> list[BusySourceOut]:
        return [
            BusySourceOut(
                id=s.id, name=s.name, url=s.url, imported_at=s.imported_at, interval_count=s.interval_count
            )
            for s in await busy.list_sources(db, engineer_id)
        ]

    @post(
        "/busy-calendars",
        summary="Import busy time from an ICS file (text/calendar body); re-importing a name replaces it",
        request_max_body_size=busy.MAX_ICS_BYTES,
    )
    async def import_busy(
        self,
        engineer_id: FromPath[uuid.UUID],
        body: RawBody,
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        name: SourceName = "upload",
    ) -> BusySourceOut:
        engineer = await engineers.get_engineer(db, engineer_id)
        engineers.require_calendar_editor(actor, engineer_id)
        s = await busy.import_busy_calendar(db, engineer, name=name, content=body, now=ctx.clock.now())
        return BusySourceOut(
            id=s.id, name=s.name, url=s.url, imported_at=s.imported_at, interval_count=s.interval_count
        )


class AvailabilityController(Controller):
    tags = ["scheduling"]

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
        if from_.tzinfo is None or to.tzinfo is None:
            raise InvalidInput(
                "from and to need an offset (RFC 3339).", errors=[FieldProblem("from", "no offset")]
            )
        zone = bookings.zone_of(tz)
        service, starts = await bookings.availability(
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


class BookingController(Controller):
    path = "/v1/bookings"
    tags = ["scheduling"]

    @post("/", summary="Hold a slot (pending payment); Idempotency-Key makes retries safe")
    async def create_booking(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[BookingIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> Response[BookingOut]:
        if data.starts_at.tzinfo is None:
            raise InvalidInput(
                "starts_at needs an offset (RFC 3339).", errors=[FieldProblem("starts_at", "no offset")]
            )

        async def hold() -> Response[BookingOut]:
            booking = await bookings.create_hold(
                db,
                actor,
                service_id=data.service_id,
                starts_at=data.starts_at,
                tz=data.time_zone,
                funding=data.funding,
                policy=ctx.scheduling,
                now=ctx.clock.now(),
            )
            return Response(booking_out(booking), status_code=201)

        return await idempotent(request, db, actor, ctx, hold)

    @get("/{booking_id:uuid}", summary="One booking")
    async def get_booking(self, booking_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB) -> BookingOut:
        return booking_out(await bookings.get_booking(db, actor, booking_id))
