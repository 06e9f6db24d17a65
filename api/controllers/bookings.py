"""Bookings over HTTP: holds with payment, lifecycle, preconditions, invites and calendar feeds."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from accounts import Actor, belongs_to
from api.contract import problems
from api.controllers.scheduling import require_offset
from api.dependencies import DB, Ctx, CurrentActor
from api.idempotency import IdempotencyKey, checked_key, claim_key, replay
from api.schemas import PageOut
from billing import (
    PaymentProviderUnavailable,
    payment_of_booking,
    payment_states,
    payment_view,
    refund_cancelled_booking,
)
from contracts import ContractNotInForce, IncludedHoursExhausted, NotCovered
from core import idempotency
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.idempotency import KeyReused, RequestInFlight
from flows import hold_with_payment, settle_refunds
from scheduling import (
    Booking,
    BookingIn,
    BookingOut,
    BookingStatus,
    CancellationOut,
    CompleteIn,
    FeedOut,
    IllegalBookingTransition,
    InviteParty,
    NoShowIn,
    PreconditionOut,
    PreconditionsIn,
    PreconditionsOut,
    RescheduleIn,
    RevealedOut,
    RevealOut,
    SlotNotOffered,
    SlotTaken,
    booking_out,
    cancel_booking,
    cancellation_terms,
    complete_booking,
    create_feed,
    effective_status,
    feed_bookings,
    feed_ics,
    get_booking,
    invite_ics,
    list_bookings,
    mark_no_show,
    names_of,
    provide_preconditions,
    reschedule_booking,
    reveal_preconditions,
    reveals_of,
    revoke_feed,
    session_invite,
    session_invites,
    start_session,
    view_preconditions,
)


class BookingController(Controller):
    path = "/v1/bookings"
    tags = ["scheduling"]

    @problems(
        PermissionDenied,
        NotFound,
        InvalidInput,
        SlotNotOffered,
        SlotTaken,
        PaymentProviderUnavailable,
        RequestInFlight,
        KeyReused,
        ContractNotInForce,
        NotCovered,
        IncludedHoursExhausted,
    )
    @post(
        "/",
        summary="Hold a slot (pending payment), or book under an SLA contract (funding=contract: confirmed "
        "while the month's included minutes last); Idempotency-Key makes retries safe",
    )
    async def create_booking(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[BookingIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[BookingOut]:
        require_offset(data.starts_at, "starts_at")
        # The slot is held first; then the edge asks billing for the payment (scheduling knows no
        # billing), with no transaction open while Stripe answers.
        claim: idempotency.Claim | None = None
        if (key := checked_key(idempotency_key)) is not None:
            claimed = await claim_key(request, db, actor, ctx, key)
            if isinstance(claimed, idempotency.StoredResponse):
                return replay(claimed)
            claim = claimed
        body = await hold_with_payment(db, actor, data, out=ctx.outside(), policy=ctx.scheduling, claim=claim)
        return Response(body, status_code=201)

    @problems(InvalidInput)
    @get("/", summary="Bookings (customers: their organization's; engineers: their sessions)")
    async def list_bookings(
        self,
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> PageOut[BookingOut]:
        page = await list_bookings(db, actor, limit=limit, cursor=cursor)
        now = ctx.clock.now()
        items = await _described(db, list(page.items), [booking_out(b, now) for b in page.items])
        return PageOut(items=items, next_cursor=page.next_cursor)

    @problems(NotFound)
    @get(
        "/{booking_id:uuid}",
        summary="One booking, with its payment (and, to its customer while unpaid, the client secret)",
    )
    async def get_booking(
        self, booking_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> BookingOut:
        booking = await get_booking(db, actor, booking_id)
        payment = await payment_of_booking(db, booking.id)
        shown = None
        if payment is not None:
            shown = payment_view(payment, ctx.keyring, with_secret=belongs_to(actor, booking.organization_id))
        (described,) = await _described(db, [booking], [booking_out(booking, ctx.clock.now(), shown)])
        return described

    @problems(NotFound, PermissionDenied, IllegalBookingTransition)
    @get(
        "/{booking_id:uuid}/cancellation",
        summary="What cancelling now would refund (the policy's answer, asked before cancelling)",
    )
    async def cancellation(
        self, booking_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> CancellationOut:
        booking, terms = await cancellation_terms(db, actor, booking_id, now=ctx.clock.now())
        return CancellationOut(
            booking_id=booking.id,
            refund=terms.refund,
            full_refund_until=terms.full_refund_until,
            by_staff=terms.by_staff,
        )

    @problems(NotFound, PermissionDenied, IllegalBookingTransition)
    @post(
        "/{booking_id:uuid}/cancel",
        summary="Cancel; the service's policy decides the refund",
        status_code=200,
    )
    async def cancel(
        self, booking_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> BookingOut:
        now = ctx.clock.now()
        booking = await cancel_booking(db, actor, booking_id, now=now)
        # The policy decided the refund; billing owes it and Stripe makes it after the commit.
        owed = await refund_cancelled_booking(db, actor, booking, now=now)
        body = booking_out(booking, now)
        if owed is not None:
            await settle_refunds(db, ctx.outside(), [owed.id])
        return body

    @problems(NotFound, PermissionDenied, IllegalBookingTransition, InvalidInput, SlotNotOffered, SlotTaken)
    @post(
        "/{booking_id:uuid}/reschedule",
        summary="Move to another free slot (same guarantees)",
        status_code=200,
    )
    async def reschedule(
        self,
        booking_id: FromPath[uuid.UUID],
        data: JSONBody[RescheduleIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> BookingOut:
        require_offset(data.starts_at, "starts_at")
        now = ctx.clock.now()
        moved = await reschedule_booking(
            db, actor, booking_id, starts_at=data.starts_at, policy=ctx.scheduling, now=now
        )
        return booking_out(moved, now)

    @problems(NotFound, PermissionDenied, IllegalBookingTransition)
    @post("/{booking_id:uuid}/start", summary="The assigned engineer starts the session", status_code=200)
    async def start(
        self, booking_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> BookingOut:
        now = ctx.clock.now()
        return booking_out(await start_session(db, actor, booking_id, now=now), now)

    @problems(NotFound, PermissionDenied, IllegalBookingTransition)
    @post(
        "/{booking_id:uuid}/complete",
        summary="The engineer completes the session with a report",
        status_code=200,
    )
    async def complete(
        self,
        booking_id: FromPath[uuid.UUID],
        data: JSONBody[CompleteIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> BookingOut:
        now = ctx.clock.now()
        return booking_out(await complete_booking(db, actor, booking_id, data.report, now=now), now)

    @problems(NotFound, PermissionDenied, IllegalBookingTransition)
    @post(
        "/{booking_id:uuid}/no-show",
        summary="Record a no-show: party=customer (engineer waited) or engineer (full refund)",
        status_code=200,
    )
    async def no_show(
        self,
        booking_id: FromPath[uuid.UUID],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
        data: JSONBody[NoShowIn | None] = None,
    ) -> BookingOut:
        now = ctx.clock.now()
        party = data.party if data else "customer"
        booking = await mark_no_show(db, actor, booking_id, party=party, now=now)
        owed = await refund_cancelled_booking(db, actor, booking, now=now) if party == "engineer" else None
        body = booking_out(booking, now)
        if owed is not None:
            await settle_refunds(db, ctx.outside(), [owed.id])
        return body

    @problems(NotFound)
    @get("/{booking_id:uuid}/preconditions", summary="The checklist with what is provided (secrets masked)")
    async def get_preconditions(
        self, booking_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> PreconditionsOut:
        return await _preconditions_out(db, actor, booking_id, ctx)

    @problems(NotFound, PermissionDenied, IllegalBookingTransition, InvalidInput)
    @put(
        "/{booking_id:uuid}/preconditions",
        summary="Provide access preconditions (validated against the checklist)",
    )
    async def put_preconditions(
        self,
        booking_id: FromPath[uuid.UUID],
        data: JSONBody[PreconditionsIn],
        actor: CurrentActor,
        db: DB,
        ctx: Ctx,
    ) -> PreconditionsOut:
        await provide_preconditions(db, actor, booking_id, data.values, ctx.keyring, now=ctx.clock.now())
        return await _preconditions_out(db, actor, booking_id, ctx)

    @problems(NotFound, PermissionDenied, IllegalBookingTransition)
    @post(
        "/{booking_id:uuid}/preconditions/reveal",
        summary="The assigned engineer reveals secrets (audited)",
        status_code=200,
    )
    async def reveal(
        self, booking_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> RevealedOut:
        revealed = await reveal_preconditions(
            db, actor, booking_id, ctx.keyring, now=ctx.clock.now(), retention=_retention(ctx)
        )
        return RevealedOut(secrets=revealed)

    @problems(NotFound, IllegalBookingTransition)
    @get(
        "/{booking_id:uuid}/invite.ics",
        summary="The session invite (METHOD:REQUEST, or CANCEL)",
        media_type="text/calendar",
    )
    async def invite(
        self, booking_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> Response[bytes]:
        booking = await get_booking(db, actor, booking_id)
        if booking.status == BookingStatus.PENDING_PAYMENT:
            raise IllegalBookingTransition("The invite is available once the booking is confirmed (paid).")
        invite = await session_invite(db, booking, _organizer(ctx))
        body = invite_ics(invite, now=ctx.clock.now())
        return Response(
            body,
            media_type="text/calendar",
            headers={"Content-Disposition": f'attachment; filename="RS-{booking.number}.ics"'},
        )


def _retention(ctx: Ctx) -> timedelta:
    return timedelta(days=ctx.settings.precondition_secret_retention_days)


def _organizer(ctx: Ctx) -> InviteParty:
    return InviteParty(email=ctx.settings.smtp_from, name="Deskline support")


async def _preconditions_out(db: DB, actor: Actor, booking_id: uuid.UUID, ctx: Ctx) -> PreconditionsOut:
    now = ctx.clock.now()
    booking, items = await view_preconditions(db, actor, booking_id, now=now, retention=_retention(ctx))
    reveal_from, reveal_until, reveals = await reveals_of(db, booking)
    return PreconditionsOut(
        booking_id=booking_id,
        status=effective_status(booking, now),
        items=[PreconditionOut.of(i) for i in items],
        missing_required=[i.key for i in items if i.required and not i.provided],
        reveal_from=reveal_from,
        reveal_until=reveal_until,
        reveals=[RevealOut.of(r, keys=list(r.data.get("keys", []))) for r in reveals],
    )


class CalendarFeedController(Controller):
    path = "/v1/calendar-feeds"
    tags = ["scheduling"]

    @problems(Conflict, PermissionDenied)
    @post("/", summary="Create my personal ICS feed (engineer: my sessions; customer: my organization's)")
    async def create_feed(self, actor: CurrentActor, db: DB, ctx: Ctx) -> FeedOut:
        feed, token = await create_feed(db, actor, now=ctx.clock.now())
        url = f"{ctx.settings.public_url.rstrip('/')}/v1/calendar-feeds/{token}.ics"
        return FeedOut(id=feed.id, owner_kind=feed.owner_kind, url=url)

    @problems(NotFound)
    @post(
        "/{feed_id:uuid}/revoke", summary="Revoke a feed: its address stops working at once", status_code=200
    )
    async def revoke_feed(
        self, feed_id: FromPath[uuid.UUID], actor: CurrentActor, db: DB, ctx: Ctx
    ) -> FeedOut:
        feed = await revoke_feed(db, actor, feed_id, now=ctx.clock.now())
        return FeedOut(id=feed.id, owner_kind=feed.owner_kind)

    @problems(NotFound)
    @get(
        "/{feed:str}",
        summary="The feed itself (the token in the address is the credential)",
        media_type="text/calendar",
    )
    async def get_feed(self, feed: FromPath[str], db: DB, ctx: Ctx) -> Response[bytes]:
        if not feed.endswith(".ics"):
            raise NotFound("Calendar feeds end in .ics.")
        now = ctx.clock.now()
        name, found = await feed_bookings(db, feed.removesuffix(".ics"), now=now)
        invites = await session_invites(db, found, _organizer(ctx))
        return Response(feed_ics(invites, name=name, now=now), media_type="text/calendar")


async def _described(db: DB, bookings: list[Booking], shown: list[BookingOut]) -> list[BookingOut]:
    """The booking views with what people read in a list: the service, the engineer, the payment."""
    names = await names_of(db, bookings)
    states = await payment_states(db, [b.id for b in bookings])
    return [
        msgspec.structs.replace(
            out,
            service_name=names[b.id][0],
            engineer_name=names[b.id][1],
            payment_status=states.get(b.id),
        )
        for b, out in zip(bookings, shown, strict=True)
    ]
