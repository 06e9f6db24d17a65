"""The vendor's staff over HTTP (admins): who works here, in which role, and who no longer does."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from accounts import (
    EmailTaken,
    Role,
    UserIn,
    UserOut,
    UserPatch,
    create_staff_user,
    list_staff,
    update_staff_user,
)
from api.contract import problems
from api.dependencies import DB, Ctx, CurrentActor
from api.schemas import PageOut
from core.errors import InvalidInput, NotFound, PermissionDenied

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]


class StaffController(Controller):
    path = "/v1/staff"
    tags = ["identity"]

    @problems(InvalidInput, PermissionDenied)
    @get("/", summary="Members of staff (admin), newest first; role narrows to one role")
    async def list_staff(
        self,
        actor: CurrentActor,
        db: DB,
        limit: Limit = 50,
        cursor: FromQuery[str | None] = None,
        role: FromQuery[Role | None] = None,
    ) -> PageOut[UserOut]:
        page = await list_staff(db, actor, role=role, limit=limit, cursor=cursor)
        return PageOut(items=[UserOut.of(u) for u in page.items], next_cursor=page.next_cursor)

    @problems(InvalidInput, PermissionDenied, EmailTaken)
    @post("/", summary="Add a member of staff with a staff role (admin; audited)")
    async def create_staff(self, data: JSONBody[UserIn], actor: CurrentActor, db: DB, ctx: Ctx) -> UserOut:
        return UserOut.of(await create_staff_user(db, actor, data, now=ctx.clock.now()))

    @problems(NotFound, InvalidInput, PermissionDenied)
    @patch(
        "/{user_id:uuid}",
        summary="Change a member of staff: name, phone, staff role, active (admin; audited)",
    )
    async def update_staff(
        self, user_id: FromPath[uuid.UUID], data: JSONBody[UserPatch], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> UserOut:
        return UserOut.of(await update_staff_user(db, actor, user_id, data, now=ctx.clock.now()))
