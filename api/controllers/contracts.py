"""SLA contracts over HTTP: sales draft, activate, amend and terminate; covered customers read theirs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import File, Stream
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.context import AppContext
from api.contract import ATTACHMENT_FORM, problems
from api.controllers.support import attachment_file, receive_attachment
from api.dependencies import DB, Ctx, CurrentActor
from api.revisions import ETAG, IfMatch, expected_revision, with_etag
from api.schemas import PageOut
from api.uploads import receive_streamed, stored_download
from contracts import (
    SLA,
    AmendmentIn,
    ContractIn,
    ContractIncomplete,
    ContractNotDraft,
    ContractNotInForce,
    ContractOut,
    ContractPatch,
    ContractsOverlap,
    DocumentOut,
    IllegalContractTransition,
    NotCovered,
    PriorityChangeIn,
    Report,
    SlaMessageOut,
    SlaTicketIn,
    SlaTicketOut,
    TerminationIn,
    activate_contract,
    amend_contract,
    attach_document,
    breaches_of,
    change_priority,
    contract_out,
    create_draft,
    file_ticket,
    get_document,
    list_contracts,
    list_tickets,
    load_contract,
    load_sla_ticket,
    monthly_report,
    report_csv,
    report_html,
    sla_ticket_out,
    terminate_contract,
    update_draft,
)
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, PreconditionFailed
from core.transactions import end_transaction
from support import (
    AttachmentOut,
    AttachmentRejected,
    IllegalTransition,
    MessageIn,
    TransitionIn,
    add_message,
    get_attachment,
    transition_ticket,
)

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]


class ContractController(Controller):
    path = "/v1/contracts"
    tags = ["SLA contracts"]

    @problems(InvalidInput)
    @get("/", summary="Contracts (staff: all; customers: their organisation's, drafts excepted)")
    async def list_contracts(
        self,
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        limit: Limit = 50,
        cursor: FromQuery[str | None] = None,
        organization_id: FromQuery[uuid.UUID | None] = None,
    ) -> PageOut[ContractOut]:
        page = await list_contracts(db, actor, organization_id=organization_id, limit=limit, cursor=cursor)
        now = ctx.clock.now()
        return PageOut(
            items=[await contract_out(db, c, now=now) for c in page.items], next_cursor=page.next_cursor
        )

    @problems(InvalidInput, Conflict)
    @post("/", summary="Draft a contract (sales)", response_headers=[ETAG])
    async def create_contract(
        self, data: JSONBody[ContractIn], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> Response[ContractOut]:
        now = ctx.clock.now()
        contract = await create_draft(db, actor, data, now=now)
        return with_etag(await contract_out(db, contract, now=now), status_code=201)

    @problems(NotFound)
    @get(
        "/{contract_id:uuid}", summary="A contract: status, terms in force, versions", response_headers=[ETAG]
    )
    async def get_contract(
        self, contract_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> Response[ContractOut]:
        contract = await load_contract(db, actor, contract_id)
        return with_etag(await contract_out(db, contract, now=ctx.clock.now()))

    @problems(NotFound, ContractNotDraft, PreconditionFailed, InvalidInput, Conflict)
    @patch(
        "/{contract_id:uuid}",
        summary="Edit a draft (an active contract answers 409 and is amended instead)",
        response_headers=[ETAG],
    )
    async def update_contract(
        self,
        contract_id: FromPath[uuid.UUID],
        data: JSONBody[ContractPatch],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        if_match: IfMatch = None,
    ) -> Response[ContractOut]:
        now = ctx.clock.now()
        contract = await update_draft(
            db, actor, contract_id, data, now=now, expected_revision=expected_revision(if_match)
        )
        return with_etag(await contract_out(db, contract, now=now))

    @problems(
        NotFound,
        ContractIncomplete,
        ContractsOverlap,
        IllegalContractTransition,
        PreconditionFailed,
        InvalidInput,
    )
    @post(
        "/{contract_id:uuid}/activate",
        summary="Activate a complete draft (no other active contract of the organisation on its days)",
        status_code=200,
        response_headers=[ETAG],
    )
    async def activate_contract(
        self,
        contract_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        if_match: IfMatch = None,
    ) -> Response[ContractOut]:
        now = ctx.clock.now()
        contract = await activate_contract(
            db, actor, contract_id, now=now, expected_revision=expected_revision(if_match)
        )
        return with_etag(await contract_out(db, contract, now=now))

    @problems(NotFound, IllegalContractTransition, InvalidInput)
    @post(
        "/{contract_id:uuid}/terminate",
        summary="Terminate an active contract from a day (today or later) with a reason",
        status_code=200,
        response_headers=[ETAG],
    )
    async def terminate_contract(
        self,
        contract_id: FromPath[uuid.UUID],
        data: JSONBody[TerminationIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> Response[ContractOut]:
        now = ctx.clock.now()
        contract = await terminate_contract(db, actor, contract_id, data, now=now)
        return with_etag(await contract_out(db, contract, now=now))

    @problems(NotFound, IllegalContractTransition, ContractIncomplete, InvalidInput, Conflict)
    @post(
        "/{contract_id:uuid}/amendments",
        summary="Amend an active contract: new terms from a day; history kept",
        response_headers=[ETAG],
    )
    async def amend_contract(
        self,
        contract_id: FromPath[uuid.UUID],
        data: JSONBody[AmendmentIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> Response[ContractOut]:
        now = ctx.clock.now()
        await amend_contract(db, actor, contract_id, data, now=now)
        contract = await load_contract(db, actor, contract_id)
        return with_etag(await contract_out(db, contract, now=now), status_code=201)


class ContractDocumentController(Controller):
    path = "/v1/contracts/{contract_id:uuid}/documents"
    tags = ["SLA contracts"]

    @problems(NotFound, InvalidInput, body=ATTACHMENT_FORM)
    @post(
        "/",
        summary="Attach a document to the agreement (sales; multipart/form-data: file)",
        request_max_body_size=None,
    )
    async def attach(
        self,
        request: Request[Any, Any, Any],
        contract_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> DocumentOut:
        upload, stored, storage = await receive_streamed(request, db, ctx)
        d = await attach_document(
            db,
            actor,
            contract_id,
            filename=upload.filename,
            content_type=upload.content_type,
            stored=stored,
            storage=storage,
            now=ctx.clock.now(),
        )
        return DocumentOut.of(d)

    @problems(NotFound)
    @get(
        "/{document_id:uuid}",
        summary="Download a document of the agreement",
        media_type="application/octet-stream",
    )
    async def download(
        self,
        contract_id: FromPath[uuid.UUID],
        document_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> File:
        d = await get_document(db, actor, contract_id, document_id)
        return stored_download(
            ctx, storage_key=d.storage_key, filename=d.filename, content_type=d.content_type, sha256=d.sha256
        )


REPORT_FORMATS = {
    "text/csv": "The report as CSV (one row per priority and timer, per breach, then sessions and credits)",
    "text/html": "The report as a printable page (save it as PDF from the browser)",
}
Period = Annotated[str, QueryParameter(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="The month, YYYY-MM")]


class ContractReportController(Controller):
    path = "/v1/contracts/{contract_id:uuid}/report"
    tags = ["SLA contracts"]

    @problems(NotFound, InvalidInput)
    @get(
        "/",
        summary="A month's report: timers met and breached per priority, session hours, service credits "
        "(JSON; Accept: text/csv or text/html for people)",
        opt={"alternate_media": REPORT_FORMATS},
    )
    async def report(
        self,
        request: Request[Any, Any, Any],
        contract_id: FromPath[uuid.UUID],
        period: Period,
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> Response[Report]:
        wanted = request.accept.best_match(["application/json", *REPORT_FORMATS], default="application/json")
        if wanted == "text/csv":
            # Streamed: the breaches are read in batches and sent as they come, so the memory a month
            # takes does not grow with its breaches. The request's connection goes back first; the
            # stream reads on a connection of its own, one at a time.
            summary = await monthly_report(
                db, actor, contract_id, period, now=ctx.clock.now(), with_breaches=False
            )
            await end_transaction(db)
            filename = f"sla-report-{summary.number}-{period}.csv"
            return Stream(  # type: ignore[return-value]  # a text body under the same operation
                _streamed_csv(ctx, summary),
                media_type="text/csv",  # Litestar adds the charset of text types
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        found = await monthly_report(db, actor, contract_id, period, now=ctx.clock.now())
        if wanted == "text/html":
            return Response(report_html(found), media_type="text/html")  # type: ignore[arg-type]
        return Response(found)


async def _streamed_csv(ctx: AppContext, summary: Report) -> AsyncIterator[str]:
    async with async_sessionmaker(ctx.read_engine, expire_on_commit=False)() as session:
        async for chunk in report_csv(summary, breaches_of(session, summary.contract_id, summary.period)):
            yield chunk


class SlaTicketController(Controller):
    path = "/v1/contracts/{contract_id:uuid}/tickets"
    tags = ["SLA contracts"]

    @problems(NotFound, ContractNotInForce, NotCovered, InvalidInput)
    @post(
        "/", summary="File an SLA ticket with a priority (users the contract covers)", response_headers=[ETAG]
    )
    async def file_ticket(
        self,
        contract_id: FromPath[uuid.UUID],
        data: JSONBody[SlaTicketIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> Response[SlaTicketOut]:
        now = ctx.clock.now()
        ticket = await file_ticket(db, actor, contract_id, data, now=now)
        _, row = await load_sla_ticket(db, actor, contract_id, ticket.id)
        return with_etag(await sla_ticket_out(db, actor, ticket, row, now=now, detail=True), status_code=201)

    @problems(NotFound, InvalidInput)
    @get("/", summary="The contract's SLA tickets with their timers")
    async def list_tickets(
        self,
        contract_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        limit: Limit = 50,
        cursor: FromQuery[str | None] = None,
    ) -> PageOut[SlaTicketOut]:
        page = await list_tickets(db, actor, contract_id, limit=limit, cursor=cursor)
        now = ctx.clock.now()
        items = []
        for ticket in page.items:
            _, row = await load_sla_ticket(db, actor, contract_id, ticket.id)
            items.append(await sla_ticket_out(db, actor, ticket, row, now=now))
        return PageOut(items=items, next_cursor=page.next_cursor)

    @problems(NotFound)
    @get("/{ticket_id:uuid}", summary="An SLA ticket: timers, messages, timeline", response_headers=[ETAG])
    async def get_ticket(
        self,
        contract_id: FromPath[uuid.UUID],
        ticket_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> Response[SlaTicketOut]:
        ticket, row = await load_sla_ticket(db, actor, contract_id, ticket_id)
        return with_etag(await sla_ticket_out(db, actor, ticket, row, now=ctx.clock.now(), detail=True))

    @problems(NotFound, NotCovered, PermissionDenied, Conflict)
    @post("/{ticket_id:uuid}/messages", summary="Reply on an SLA ticket (covered users, support staff)")
    async def add_message(
        self,
        contract_id: FromPath[uuid.UUID],
        ticket_id: FromPath[uuid.UUID],
        data: JSONBody[MessageIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> SlaMessageOut:
        await load_sla_ticket(db, actor, contract_id, ticket_id)
        m = await add_message(db, actor, ticket_id, data, now=ctx.clock.now(), line=SLA)
        return SlaMessageOut.of(m)

    @problems(NotFound, NotCovered, AttachmentRejected, InvalidInput, body=ATTACHMENT_FORM)
    @post(
        "/{ticket_id:uuid}/attachments",
        summary="Upload a file to an SLA ticket (multipart/form-data: file, kind=device_database|other)",
        request_max_body_size=None,
    )
    async def upload_attachment(
        self,
        request: Request[Any, Any, Any],
        contract_id: FromPath[uuid.UUID],
        ticket_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> AttachmentOut:
        await load_sla_ticket(db, actor, contract_id, ticket_id)
        return AttachmentOut.of(await receive_attachment(request, db, ctx, actor, ticket_id, line=SLA))

    @problems(NotFound)
    @get(
        "/{ticket_id:uuid}/attachments/{attachment_id:uuid}",
        summary="Download an SLA ticket's attachment",
        media_type="application/octet-stream",
    )
    async def download_attachment(
        self,
        contract_id: FromPath[uuid.UUID],
        ticket_id: FromPath[uuid.UUID],
        attachment_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> File:
        await load_sla_ticket(db, actor, contract_id, ticket_id)
        return attachment_file(ctx, await get_attachment(db, actor, ticket_id, attachment_id, line=SLA))

    @problems(NotFound, NotCovered, PreconditionFailed, IllegalTransition, PermissionDenied, InvalidInput)
    @post(
        "/{ticket_id:uuid}/transitions",
        summary="Move an SLA ticket through the shared ticket lifecycle (If-Match)",
        status_code=200,
        response_headers=[ETAG],
    )
    async def transition(
        self,
        contract_id: FromPath[uuid.UUID],
        ticket_id: FromPath[uuid.UUID],
        data: JSONBody[TransitionIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        if_match: IfMatch = None,
    ) -> Response[SlaTicketOut]:
        now = ctx.clock.now()
        await load_sla_ticket(db, actor, contract_id, ticket_id)
        await transition_ticket(
            db, actor, ticket_id, data, now=now, expected_revision=expected_revision(if_match), line=SLA
        )
        ticket, row = await load_sla_ticket(db, actor, contract_id, ticket_id)
        return with_etag(await sla_ticket_out(db, actor, ticket, row, now=now, detail=True))

    @problems(NotFound, PermissionDenied, ContractNotInForce)
    @post(
        "/{ticket_id:uuid}/priority",
        summary="Change an SLA ticket's priority (support staff; running targets restart now)",
        status_code=200,
        response_headers=[ETAG],
    )
    async def change_priority(
        self,
        contract_id: FromPath[uuid.UUID],
        ticket_id: FromPath[uuid.UUID],
        data: JSONBody[PriorityChangeIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> Response[SlaTicketOut]:
        now = ctx.clock.now()
        await change_priority(db, actor, contract_id, ticket_id, data, now=now)
        ticket, row = await load_sla_ticket(db, actor, contract_id, ticket_id)
        return with_etag(await sla_ticket_out(db, actor, ticket, row, now=now, detail=True))
