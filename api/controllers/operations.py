"""Liveness and readiness."""

from __future__ import annotations

import sqlalchemy as sa
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.types import Scope
from sqlalchemy.exc import SQLAlchemyError

from api.db import request_session
from api.dependencies import Ctx
from api.schemas import HealthOut


class OperationsController(Controller):
    tags = ["operations"]
    include_in_schema = True

    @get("/health", summary="Liveness: the process answers")
    async def health(self) -> HealthOut:
        return HealthOut(status="ok")

    @get("/ready", summary="Readiness: the database answers (503 when it does not)")
    async def ready(self, state: State, scope: Scope) -> Response[HealthOut]:
        ctx: Ctx = state.ctx
        # The request's own session (the read pool): a caller's token may already have opened it.
        session = request_session(ctx.alchemy, state, scope, read_engine=ctx.read_engine)
        try:
            await session.execute(sa.text("SELECT 1"))
            await session.rollback()
        except (SQLAlchemyError, OSError):
            return Response(HealthOut(status="unavailable", database="unreachable"), status_code=503)
        return Response(HealthOut(status="ok", database="ok"))
