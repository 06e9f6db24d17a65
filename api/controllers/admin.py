"""Admin: integration clients and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from accounts import (
    AuditEventOut,
    AuditFilter,
    IntegrationClientIn,
    IntegrationClientOut,
    create_client,
    deactivate_client,
    list_clients,
    list_events,
)
from api.contract import problems
from api.dependencies import DB, Ctx, CurrentActor
from api.schemas import PageOut
from core.errors import InvalidInput, NotFound

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]


class IntegrationClientController(Controller):
    path = "/v1/integration-clients"
    tags = ["integration clients"]

    @problems(InvalidInput)
    @get("/", summary="List integration clients")
    async def list_clients(
        self, db: DB, limit: Limit = 50, cursor: FromQuery[str | None] = None
    ) -> PageOut[IntegrationClientOut]:
        page = await list_clients(db, limit=limit, cursor=cursor)
        return PageOut(
            items=[IntegrationClientOut.from_model(c) for c in page.items], next_cursor=page.next_cursor
        )

    @problems(InvalidInput)
    @post("/", summary="Register an integration client (the secret is shown once)")
    async def create_client(
        self, data: JSONBody[IntegrationClientIn], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> IntegrationClientOut:
        client, secret = await create_client(
            db, actor, name=data.name, scopes=data.scopes, now=ctx.clock.now()
        )
        return IntegrationClientOut.from_model(client, secret)

    @problems(NotFound)
    @post(
        "/{client_id:uuid}/deactivate",
        summary="Deactivate a client: its tokens stop working at once",
        status_code=200,
    )
    async def deactivate_client(
        self, client_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> IntegrationClientOut:
        return IntegrationClientOut.from_model(
            await deactivate_client(db, actor, client_id, now=ctx.clock.now())
        )


class AuditController(Controller):
    path = "/v1/audit"
    tags = ["audit"]

    @problems(InvalidInput)
    @get("/", summary="The audit log, newest first")
    async def list_audit(
        self,
        db: DB,
        limit: Limit = 50,
        cursor: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        subject_type: FromQuery[str | None] = None,
        subject_id: FromQuery[str | None] = None,
        organization_id: FromQuery[uuid.UUID | None] = None,
        actor_id: FromQuery[str | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
    ) -> PageOut[AuditEventOut]:
        flt = AuditFilter(
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            organization_id=organization_id,
            actor_id=actor_id,
            since=since,
            until=until,
        )
        page = await list_events(db, flt, limit=limit, cursor=cursor)
        return PageOut(items=[AuditEventOut.of(e) for e in page.items], next_cursor=page.next_cursor)
