"""Liveness and readiness."""

from __future__ import annotations

import sqlalchemy as sa
from litestar import Controller, Response, get
from litestar.datastructures import State
from sqlalchemy.exc import SQLAlchemyError

from api.dependencies import Ctx
from api.schemas import HealthOut


class OperationsController(Controller):
    tags = ["operations"]
    include_in_schema = True

    @get("/health", summary="Liveness: the process answers")
    async def health(self) -> HealthOut:
        return HealthOut(status="ok")

    @get("/ready", summary="Readiness: the database answers (503 when it does not)")
    async def ready(self, state: State) -> Response[HealthOut]:
        ctx: Ctx = state.ctx
        try:
            async with ctx.alchemy.get_engine().connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except (SQLAlchemyError, OSError):
            return Response(HealthOut(status="unavailable", database="unreachable"), status_code=503)
        return Response(HealthOut(status="ok", database="ok"))
