"""Basic support over HTTP: regulation, tickets, messages, attachments, explanations, stats, e-mail."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import File

from accounts import Actor, NoSupportContact, NotEligible, NotSupportContact
from api.contract import ATTACHMENT_FORM, RFC822, problems
from api.controllers.scheduling import require_offset
from api.dependencies import DB, Ctx, CurrentActor, provide_actor, provide_ctx
from api.idempotency import IdempotencyKey, idempotent
from api.revisions import ETAG, IfMatch, expected_revision, with_etag
from api.schemas import PageOut
from api.uploads import document_body, receive_streamed, storage_of, stored_download
from core.errors import Conflict, FieldProblem, InvalidInput, NotFound, PermissionDenied, PreconditionFailed
from core.idempotency import KeyReused, RequestInFlight
from scheduling import BookingOut, SlotNotOffered, SlotTaken, booking_out, create_support_session
from support import (
    BASIC,
    Attachment,
    AttachmentKind,
    AttachmentOut,
    AttachmentRejected,
    ExplanationIn,
    ExplanationOut,
    ExplanationTooEarly,
    IllegalTransition,
    InboundEmailRejected,
    MessageIn,
    MessageOut,
    MonthStatsOut,
    PhoneTicketIn,
    RegulationIn,
    RegulationOut,
    SessionProposalIn,
    StatsOut,
    TicketIn,
    TicketOut,
    TicketPatch,
    TicketStatus,
    TicketSummaryOut,
    TransitionIn,
    add_message,
    attach_file,
    create_phone_ticket,
    create_ticket,
    current_regulation,
    filed_ticket_view,
    get_attachment,
    list_explanations,
    list_tickets,
    load_ticket,
    monthly_stats,
    publish_regulation,
    receive_email,
    record_session_proposal,
    regulation_versions,
    request_explanation,
    ticket_detail,
    ticket_summaries,
    transition_ticket,
    update_intake,
)

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]
MONTH = QueryParameter(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
OptionalMonth = Annotated[
    str | None, QueryParameter(name="from", pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
]
INBOUND_EMAIL_MAX_BYTES = 50 * 1024 * 1024


async def receive_attachment(
    request: Request[Any, Any, Any],
    db: DB,
    ctx: Ctx,
    actor: Actor,
    ticket_id: uuid.UUID,
    *,
    line: str = BASIC,
) -> Attachment:
    """A multipart upload (``file``, ``kind``) streamed to storage with no transaction open, then
    attached to the ticket of ``line`` in the request's transaction."""
    upload, stored, storage = await receive_streamed(request, db, ctx)
    try:
        kind = AttachmentKind(upload.fields.get("kind", "other"))
    except ValueError as exc:
        storage.delete(stored.key)
        raise InvalidInput(
            "kind must be device_database or other.", errors=[FieldProblem("kind", "unknown")]
        ) from exc
    return await attach_file(
        db,
        actor,
        ticket_id,
        kind=kind,
        filename=upload.filename,
        content_type=upload.content_type,
        stored=stored,
        storage=storage,
        now=ctx.clock.now(),
        line=line,
    )


def attachment_file(ctx: Ctx, a: Attachment) -> File:
    """A stored attachment as a download, with its digest."""
    return stored_download(
        ctx, storage_key=a.storage_key, filename=a.filename, content_type=a.content_type, sha256=a.sha256
    )


class RegulationController(Controller):
    path = "/v1/support/regulation"
    tags = ["basic support"]

    @problems()
    @get("/", summary="The support regulation in force (public)")
    async def get_regulation(self, db: DB, ctx: Ctx) -> RegulationOut:
        return RegulationOut.from_model(await current_regulation(db, now=ctx.clock.now(), store=False))

    @problems(InvalidInput)
    @get("/versions", summary="Every published version of the regulation, newest first (public)")
    async def list_versions(
        self, db: DB, limit: Limit = 50, cursor: FromQuery[str | None] = None
    ) -> PageOut[RegulationOut]:
        page = await regulation_versions(db, limit=limit, cursor=cursor)
        return PageOut(items=[RegulationOut.from_model(r) for r in page.items], next_cursor=page.next_cursor)

    @problems(InvalidInput, Conflict)
    @post("/", summary="Publish a new version of the regulation")
    async def publish(
        self, data: JSONBody[RegulationIn], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> RegulationOut:
        fields = {
            "time_zone": data.time_zone,
            "weekly_hours": {day: [list(span) for span in spans] for day, spans in data.weekly_hours.items()},
            "holiday_calendar": data.holiday_calendar,
            "first_response_minutes": data.first_response_minutes,
            "update_interval_minutes": data.update_interval_minutes,
            "required_items": data.required_items,
            "attachment_retention_days": data.attachment_retention_days,
            "text": data.text,
        }
        return RegulationOut.from_model(await publish_regulation(db, actor, now=ctx.clock.now(), **fields))


class TicketController(Controller):
    path = "/v1/support/tickets"
    tags = ["basic support"]

    @problems(NotEligible, NoSupportContact, NotSupportContact, Conflict, RequestInFlight, KeyReused)
    @post("/", summary="File a free ticket (designated support contact only)", response_headers=[ETAG])
    async def create_ticket(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[TicketIn],
        db: DB,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TicketOut]:
        # The busiest write takes its caller and context from the request rather than as dependencies:
        # Litestar resolves several dependencies of one level as a task each (~3 % of a filing's CPU).
        actor, ctx = provide_actor(request), provide_ctx(request.app.state)
        now = ctx.clock.now()

        async def file() -> Response[TicketOut]:
            filed = await create_ticket(db, actor, data, now=now)
            return with_etag(filed_ticket_view(actor, filed, now=now), status_code=201)

        return await idempotent(request, db, actor, ctx, file, key=idempotency_key)

    @problems(NotEligible, NoSupportContact, NotFound, Conflict)
    @post(
        "/phone",
        summary="Enter a ticket the designated contact phoned in (support staff; filed as the contact's)",
        response_headers=[ETAG],
    )
    async def enter_phone_ticket(
        self, data: JSONBody[PhoneTicketIn], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> Response[TicketOut]:
        now = ctx.clock.now()
        filed = await create_phone_ticket(db, actor, data.organization_id, data.ticket, now=now)
        return with_etag(filed_ticket_view(actor, filed, now=now), status_code=201)

    @problems(InvalidInput)
    @get("/", summary="List tickets (customers: their organization's)")
    async def list_tickets(
        self,
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        limit: Limit = 50,
        cursor: FromQuery[str | None] = None,
        status: FromQuery[TicketStatus | None] = None,
        organization_id: FromQuery[uuid.UUID | None] = None,
    ) -> PageOut[TicketSummaryOut]:
        page = await list_tickets(
            db, actor, limit=limit, cursor=cursor, status=status, organization_id=organization_id
        )
        now = ctx.clock.now()
        return PageOut(items=await ticket_summaries(db, page.items, now=now), next_cursor=page.next_cursor)

    @problems(NotFound)
    @get(
        "/{ticket_id:uuid}",
        summary="A ticket with its clock, messages, attachments and explanations",
        response_headers=[ETAG],
    )
    async def get_ticket(
        self, ticket_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> Response[TicketOut]:
        ticket = await load_ticket(db, actor, ticket_id)
        return with_etag(await ticket_detail(db, actor, ticket, now=ctx.clock.now()))

    @problems(NotFound, NotSupportContact, PreconditionFailed, Conflict, InvalidInput)
    @patch(
        "/{ticket_id:uuid}",
        summary="Complete the intake or declare an item impossible to provide (If-Match)",
        response_headers=[ETAG],
    )
    async def update_ticket(
        self,
        ticket_id: FromPath[uuid.UUID],
        data: JSONBody[TicketPatch],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        if_match: IfMatch = None,
    ) -> Response[TicketOut]:
        now = ctx.clock.now()
        ticket = await update_intake(
            db, actor, ticket_id, data, now=now, expected_revision=expected_revision(if_match)
        )
        return with_etag(await ticket_detail(db, actor, ticket, now=now))

    @problems(NotFound, NotSupportContact, PermissionDenied, Conflict)
    @post(
        "/{ticket_id:uuid}/messages",
        summary="Reply on a ticket (staff may add internal notes and cite articles)",
    )
    async def add_message(
        self, ticket_id: FromPath[uuid.UUID], data: JSONBody[MessageIn], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> MessageOut:
        m = await add_message(db, actor, ticket_id, data, now=ctx.clock.now())
        return MessageOut.of(m)

    @problems(NotFound, NotSupportContact, AttachmentRejected, InvalidInput, body=ATTACHMENT_FORM)
    @post(
        "/{ticket_id:uuid}/attachments",
        summary="Upload a file (multipart/form-data: file, kind=device_database|other)",
        request_max_body_size=None,
    )
    async def upload_attachment(
        self,
        request: Request[Any, Any, Any],
        ticket_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> AttachmentOut:
        return AttachmentOut.of(await receive_attachment(request, db, ctx, actor, ticket_id))

    @problems(NotFound)
    @get(
        "/{ticket_id:uuid}/attachments/{attachment_id:uuid}",
        summary="Download an attachment",
        media_type="application/octet-stream",
    )
    async def download_attachment(
        self,
        ticket_id: FromPath[uuid.UUID],
        attachment_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> File:
        return attachment_file(ctx, await get_attachment(db, actor, ticket_id, attachment_id))

    @problems(
        NotFound, NotSupportContact, PreconditionFailed, IllegalTransition, PermissionDenied, InvalidInput
    )
    @post(
        "/{ticket_id:uuid}/transitions",
        summary="Move the ticket through its lifecycle (If-Match)",
        status_code=200,
        response_headers=[ETAG],
    )
    async def transition(
        self,
        ticket_id: FromPath[uuid.UUID],
        data: JSONBody[TransitionIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        if_match: IfMatch = None,
    ) -> Response[TicketOut]:
        now = ctx.clock.now()
        ticket = await transition_ticket(
            db, actor, ticket_id, data, now=now, expected_revision=expected_revision(if_match)
        )
        return with_etag(await ticket_detail(db, actor, ticket, now=now))

    @problems(NotFound, InvalidInput, SlotNotOffered, SlotTaken)
    @post(
        "/{ticket_id:uuid}/remote-sessions",
        summary="Support proposes a free remote session for this ticket (confirmed at once, no charge)",
    )
    async def propose_session(
        self,
        ticket_id: FromPath[uuid.UUID],
        data: JSONBody[SessionProposalIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> BookingOut:
        require_offset(data.starts_at, "starts_at")
        now = ctx.clock.now()
        ticket = await load_ticket(db, actor, ticket_id, for_update=True)
        booking = await create_support_session(
            db,
            organization_id=ticket.organization_id,
            booked_by=ticket.filed_by,
            service_id=data.service_id,
            starts_at=data.starts_at,
            tz=data.time_zone,
            policy=ctx.scheduling,
            now=now,
        )
        await record_session_proposal(
            db,
            actor,
            ticket,
            booking_id=booking.id,
            starts_at=booking.starts_at,
            message=data.message,
            now=now,
        )
        return booking_out(booking, now)

    @problems(NotFound, NotSupportContact, ExplanationTooEarly)
    @post("/{ticket_id:uuid}/explanation-requests", summary="Ask why the first response is late")
    async def request_explanation(
        self,
        ticket_id: FromPath[uuid.UUID],
        data: JSONBody[ExplanationIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> ExplanationOut:
        return ExplanationOut.of(
            await request_explanation(db, actor, ticket_id, data.reason, now=ctx.clock.now())
        )


class SupportOperationsController(Controller):
    tags = ["basic support"]

    @problems(InvalidInput)
    @get("/v1/support/explanation-requests", summary="Explanation requests for the support lead")
    async def list_explanations(
        self, db: DB, limit: Limit = 50, cursor: FromQuery[str | None] = None
    ) -> PageOut[ExplanationOut]:
        page = await list_explanations(db, limit=limit, cursor=cursor)
        return PageOut(items=[ExplanationOut.of(e) for e in page.items], next_cursor=page.next_cursor)

    @problems(InvalidInput)
    @get(
        "/v1/support/stats",
        summary="Public statistics per month: answered within the regulation, response times",
    )
    async def get_stats(
        self, db: DB, ctx: Ctx, from_: OptionalMonth = None, to: Annotated[str | None, MONTH] = None
    ) -> StatsOut:
        today = ctx.clock.now().date()
        last = to or today.strftime("%Y-%m")
        first = from_ or date(today.year - 1, today.month, 1).strftime("%Y-%m")
        if first > last:
            raise InvalidInput("from must not be after to.", errors=[FieldProblem("from", "after to")])
        rows = await monthly_stats(db, first_month=first, last_month=last, now=ctx.clock.now())
        return StatsOut(
            months=[
                MonthStatsOut.of(
                    r,
                    answered_within_regulation_share=r.within_share,
                    paused_for_missing_information_share=r.paused_share,
                )
                for r in rows
            ]
        )

    @problems(
        InboundEmailRejected,
        NotEligible,
        NoSupportContact,
        NotSupportContact,
        NotFound,
        Conflict,
        body=RFC822,
    )
    @post(
        "/v1/support/inbound-email",
        summary="A forwarded RFC 822 e-mail becomes a ticket (201) or a message on the ticket it quotes",
        request_max_body_size=INBOUND_EMAIL_MAX_BYTES,
        responses={
            200: ResponseSpec(data_container=TicketOut, description="A message added to the quoted ticket")
        },
    )
    async def inbound_email(
        self,
        request: Request[Any, Any, Any],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TicketOut]:
        now = ctx.clock.now()
        body = await document_body(request)

        async def receive() -> Response[TicketOut]:
            result = await receive_email(
                db,
                body,
                storage=storage_of(ctx),
                max_attachment_bytes=ctx.settings.attachment_max_bytes,
                now=now,
            )
            view = await ticket_detail(db, actor, result.ticket, now=now)
            return Response(view, status_code=201 if result.created else 200)

        # A gateway that retries a delivery sends the same key: one ticket, the first answer again.
        return await idempotent(request, db, actor, ctx, receive, key=idempotency_key)
