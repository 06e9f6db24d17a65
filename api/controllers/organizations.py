"""Organisations, their users and purchases, eligibility, and the designated support contact."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from accounts import (
    DuplicatePurchase,
    EligibilityOut,
    EmailTaken,
    InvalidSupportContact,
    OrganizationIn,
    OrganizationOut,
    OrganizationPatch,
    PurchaseImportFailed,
    PurchaseImportOut,
    PurchaseIn,
    PurchaseOut,
    SupportContactIn,
    SupportContactOut,
    UserIn,
    UserOut,
    UserPatch,
    create_organization,
    create_user,
    designate_support_contact,
    eligibility_of,
    get_organization,
    get_user,
    import_purchases_csv,
    list_organizations,
    list_purchases,
    list_users,
    record_purchase,
    support_contact,
    update_organization,
    update_user,
)
from api.contract import PURCHASES_CSV, problems
from api.dependencies import DB, Ctx, CurrentActor
from api.schemas import PageOut
from api.uploads import document_body
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]
Cursor = Annotated[str | None, QueryParameter(description="next_cursor of the previous page")]
MAX_CSV_BYTES = 5 * 1024 * 1024


class OrganizationController(Controller):
    path = "/v1/organizations"
    tags = ["organizations"]

    @problems(InvalidInput)
    @get("/", summary="List organizations (customers see their own)")
    async def list_organizations(
        self,
        actor: CurrentActor,
        db: DB,
        limit: Limit = 50,
        cursor: Cursor = None,
        name: FromQuery[str | None] = None,
    ) -> PageOut[OrganizationOut]:
        page = await list_organizations(db, actor, limit=limit, cursor=cursor, name=name)
        return PageOut(items=[OrganizationOut.of(o) for o in page.items], next_cursor=page.next_cursor)

    @problems(InvalidInput, Conflict)
    @post("/", summary="Create an organization")
    async def create_organization(
        self, data: JSONBody[OrganizationIn], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> OrganizationOut:
        return OrganizationOut.of(await create_organization(db, actor, data, now=ctx.clock.now()))

    @problems(NotFound)
    @get("/{organization_id:uuid}", summary="Get an organization")
    async def get_organization(
        self, organization_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB
    ) -> OrganizationOut:
        org = await get_organization(db, actor, organization_id)
        return OrganizationOut.of(
            org, support_contact=SupportContactOut.from_model(await support_contact(db, org.id))
        )

    @problems(NotFound, InvalidInput, Conflict)
    @patch("/{organization_id:uuid}", summary="Change an organization")
    async def update_organization(
        self,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[OrganizationPatch],
        actor: CurrentActor,
        db: DB,
    ) -> OrganizationOut:
        org = await update_organization(db, actor, organization_id, data)
        return OrganizationOut.of(
            org, support_contact=SupportContactOut.from_model(await support_contact(db, org.id))
        )

    @problems(NotFound, InvalidInput)
    @get("/{organization_id:uuid}/users", summary="List the organization's users")
    async def list_users(
        self,
        organization_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        db: DB,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> PageOut[UserOut]:
        page = await list_users(db, actor, organization_id, limit=limit, cursor=cursor)
        return PageOut(items=[UserOut.of(u) for u in page.items], next_cursor=page.next_cursor)

    @problems(NotFound, PermissionDenied, InvalidInput, EmailTaken)
    @post("/{organization_id:uuid}/users", summary="Add a user to the organization")
    async def create_user(
        self,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[UserIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> UserOut:
        return UserOut.of(await create_user(db, actor, organization_id, data, now=ctx.clock.now()))

    @problems(NotFound)
    @get("/{organization_id:uuid}/users/{user_id:uuid}", summary="Get one user of the organization")
    async def get_user(
        self, organization_id: FromPath[uuid.UUID], user_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB
    ) -> UserOut:
        return UserOut.of(await get_user(db, actor, organization_id, user_id))

    @problems(NotFound, PermissionDenied, InvalidInput)
    @patch(
        "/{organization_id:uuid}/users/{user_id:uuid}", summary="Change a user (name, phone, role, active)"
    )
    async def update_user(
        self,
        organization_id: FromPath[uuid.UUID],
        user_id: FromPath[uuid.UUID],
        data: JSONBody[UserPatch],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> UserOut:
        user = await update_user(db, actor, organization_id, user_id, data, now=ctx.clock.now())
        return UserOut.of(user)

    @problems(NotFound, InvalidInput)
    @get("/{organization_id:uuid}/purchases", summary="List the organization's purchase records")
    async def list_purchases(
        self,
        organization_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        db: DB,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> PageOut[PurchaseOut]:
        page = await list_purchases(db, actor, organization_id, limit=limit, cursor=cursor)
        return PageOut(items=[PurchaseOut.of(p) for p in page.items], next_cursor=page.next_cursor)

    @problems(NotFound, InvalidInput, DuplicatePurchase)
    @post("/{organization_id:uuid}/purchases", summary="Record one purchase")
    async def record_purchase(
        self,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[PurchaseIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> PurchaseOut:
        purchase = await record_purchase(db, actor, organization_id, data, now=ctx.clock.now())
        return PurchaseOut.of(purchase)

    @problems(NotFound, PurchaseImportFailed, DuplicatePurchase, body=PURCHASES_CSV)
    @post(
        "/{organization_id:uuid}/purchases/import",
        summary="Record purchases in bulk from CSV (all or nothing)",
        description="Send the file as the raw `text/csv` body (or as the `file` part of a form). Columns: "
        "product,purchased_on,channel,partner_name,reference. Any bad row rejects the file, "
        "with every problem listed in errors[] by line. `preview=true` checks the file the same way and "
        "answers what importing it would record, storing nothing.",
        request_max_body_size=MAX_CSV_BYTES,
    )
    async def import_purchases(
        self,
        organization_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        request: Request[Any, Any, Any],
        preview: Annotated[
            bool, QueryParameter(description="Check the file and answer what it would record; store nothing")
        ] = False,
    ) -> PurchaseImportOut:
        try:
            text = (await document_body(request)).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PurchaseImportFailed("The file must be UTF-8 encoded CSV.") from exc
        rows = await import_purchases_csv(
            db, actor, organization_id, text, now=ctx.clock.now(), preview=preview
        )
        return PurchaseImportOut(
            imported=0 if preview else len(rows), preview=preview, items=[PurchaseOut.of(p) for p in rows]
        )

    @problems(NotFound)
    @get(
        "/{organization_id:uuid}/eligibility", summary="May the organization use free basic support, and why"
    )
    async def get_eligibility(
        self, organization_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB
    ) -> EligibilityOut:
        await get_organization(db, actor, organization_id)
        verdict = await eligibility_of(db, organization_id)
        return EligibilityOut(
            organization_id=organization_id,
            eligible=verdict.eligible,
            reason=verdict.reason,
            purchase=PurchaseOut.of(verdict.purchase) if verdict.purchase else None,
            support_contact=SupportContactOut.from_model(await support_contact(db, organization_id)),
        )

    @problems(NotFound)
    @get("/{organization_id:uuid}/support-contact", summary="The designated support contact")
    async def get_support_contact(
        self, organization_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB
    ) -> SupportContactOut:
        await get_organization(db, actor, organization_id)
        contact = SupportContactOut.from_model(await support_contact(db, organization_id))
        if contact is None:
            raise NotFound(
                "No designated support contact is named yet; a customer admin names one with "
                f"PUT /v1/organizations/{organization_id}/support-contact."
            )
        return contact

    @problems(NotFound, PermissionDenied, InvalidSupportContact)
    @put("/{organization_id:uuid}/support-contact", summary="Name the one designated support contact")
    async def put_support_contact(
        self,
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[SupportContactIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> SupportContactOut:
        found = await designate_support_contact(db, actor, organization_id, data.user_id, now=ctx.clock.now())
        contact = SupportContactOut.from_model(found)
        assert contact is not None
        return contact
