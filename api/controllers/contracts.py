"""SLA contracts over HTTP: sales draft, activate, amend and terminate; covered customers read theirs."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Response, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.contract import problems
from api.dependencies import DB, Ctx, CurrentActor
from api.revisions import ETAG, IfMatch, expected_revision, with_etag
from api.schemas import PageOut
from contracts import agreements
from contracts.errors import ContractIncomplete, ContractNotDraft, ContractsOverlap, IllegalContractTransition
from contracts.schemas import AmendmentIn, ContractIn, ContractOut, ContractPatch, TerminationIn
from contracts.views import contract_out
from core.errors import Conflict, InvalidInput, NotFound, PreconditionFailed

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
        page = await agreements.list_contracts(
            db, actor, organization_id=organization_id, limit=limit, cursor=cursor
        )
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
        contract = await agreements.create_draft(db, actor, data, now=now)
        return with_etag(await contract_out(db, contract, now=now), status_code=201)

    @problems(NotFound)
    @get(
        "/{contract_id:uuid}", summary="A contract: status, terms in force, versions", response_headers=[ETAG]
    )
    async def get_contract(
        self, contract_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> Response[ContractOut]:
        contract = await agreements.load_contract(db, actor, contract_id)
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
        contract = await agreements.update_draft(
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
        contract = await agreements.activate(
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
        contract = await agreements.terminate(db, actor, contract_id, data, now=now)
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
        await agreements.amend(db, actor, contract_id, data, now=now)
        contract = await agreements.load_contract(db, actor, contract_id)
        return with_etag(await contract_out(db, contract, now=now), status_code=201)
