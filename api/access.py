"""Who may call what: the one table of access rules, and the guard that enforces it.

Every route has an entry keyed by ``"METHOD /path/{template}"``; a route without one is refused
for everyone (and fails the authorization-matrix test). Tenant scoping is not decided here: the
domain answers another organisation's objects with NotFound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import structlog
from litestar.connection import ASGIConnection, Request
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from accounts import (
    COOKIE,
    CSRF_HEADER,
    CUSTOMER_ROLES,
    STAFF_ROLES,
    Actor,
    CsrfTokenInvalid,
    InvalidToken,
    Role,
    Scope,
    actor_from_claims,
    actor_from_external_claims,
    csrf_matches,
    find_browser_session,
    unverified_part,
    verify_access_token,
    verify_jwt,
)
from api.context import AppContext
from api.db import request_session
from core.transactions import SAFE_METHODS, begin_request_transaction, end_transaction

log = structlog.get_logger(__name__)

ALL_ROLES = frozenset(Role)
EXTERNAL_ALGORITHMS = ["RS256", "ES256", "PS256"]


@dataclass(frozen=True, slots=True)
class Rule:
    """Public, or allowed for these user roles and integration clients holding any of these scopes."""

    roles: frozenset[Role] = frozenset()
    scopes: frozenset[Scope] = field(default_factory=frozenset)
    public: bool = False

    def allows(self, actor: Actor | None) -> bool:
        if self.public:
            return True
        if actor is None:
            return False
        if actor.kind == "client":
            return bool(self.scopes & actor.scopes)
        return actor.role in self.roles


def rule(*roles: Role | frozenset[Role], scopes: tuple[Scope, ...] = ()) -> Rule:
    flat: set[Role] = set()
    for item in roles:
        flat |= item if isinstance(item, frozenset) else {item}
    return Rule(roles=frozenset(flat), scopes=frozenset(scopes))


PUBLIC = Rule(public=True)
ADMIN = Role.ADMIN
SALES = Role.SALES
LEAD = Role.SUPPORT_LEAD
ENGINEER = Role.SUPPORT_ENGINEER
CUSTOMER_ADMIN = Role.CUSTOMER_ADMIN
SUPPORT_STAFF = frozenset({Role.SUPPORT_ENGINEER, Role.SUPPORT_LEAD, Role.ADMIN})
ORG_READERS = rule(ALL_ROLES, scopes=(Scope.ORGANIZATIONS_READ,))

RULES: dict[str, Rule] = {
    # operations
    "GET /health": PUBLIC,
    "GET /ready": PUBLIC,
    "GET /metrics": PUBLIC,
    # identity
    "POST /v1/auth/login": PUBLIC,
    "POST /v1/oauth/token": PUBLIC,
    "GET /.well-known/jwks.json": PUBLIC,
    "GET /.well-known/oauth-authorization-server": PUBLIC,
    "GET /v1/me": rule(ALL_ROLES, scopes=tuple(Scope)),
    "GET /v1/organizations": ORG_READERS,
    "POST /v1/organizations": rule(ADMIN, SALES, scopes=(Scope.ORGANIZATIONS_WRITE,)),
    "GET /v1/organizations/{organization_id}": ORG_READERS,
    "PATCH /v1/organizations/{organization_id}": rule(ADMIN, SALES, scopes=(Scope.ORGANIZATIONS_WRITE,)),
    "GET /v1/organizations/{organization_id}/users": rule(
        CUSTOMER_ADMIN, STAFF_ROLES, scopes=(Scope.ORGANIZATIONS_READ,)
    ),
    "POST /v1/organizations/{organization_id}/users": rule(ADMIN, CUSTOMER_ADMIN),
    "GET /v1/organizations/{organization_id}/users/{user_id}": rule(
        CUSTOMER_ROLES, STAFF_ROLES, scopes=(Scope.ORGANIZATIONS_READ,)
    ),
    "PATCH /v1/organizations/{organization_id}/users/{user_id}": rule(ADMIN, CUSTOMER_ROLES),
    "GET /v1/organizations/{organization_id}/purchases": rule(
        CUSTOMER_ADMIN, STAFF_ROLES, scopes=(Scope.ORGANIZATIONS_READ,)
    ),
    "POST /v1/organizations/{organization_id}/purchases": rule(ADMIN, SALES, scopes=(Scope.PURCHASES_WRITE,)),
    "POST /v1/organizations/{organization_id}/purchases/import": rule(
        ADMIN, SALES, scopes=(Scope.PURCHASES_WRITE,)
    ),
    "GET /v1/organizations/{organization_id}/eligibility": ORG_READERS,
    "GET /v1/organizations/{organization_id}/support-contact": ORG_READERS,
    "PUT /v1/organizations/{organization_id}/support-contact": rule(ADMIN, SALES, LEAD, CUSTOMER_ADMIN),
    "GET /v1/integration-clients": rule(ADMIN),
    "POST /v1/integration-clients": rule(ADMIN),
    "POST /v1/integration-clients/{client_id}/deactivate": rule(ADMIN),
    "GET /v1/audit": rule(ADMIN, scopes=(Scope.AUDIT_READ,)),
    "GET /v1/staff": rule(ADMIN),
    "POST /v1/staff": rule(ADMIN),
    "PATCH /v1/staff/{user_id}": rule(ADMIN),
    "GET /v1/outbox/deliveries": rule(ADMIN, LEAD),
    "POST /v1/webhook-subscriptions": rule(ADMIN, scopes=(Scope.WEBHOOKS_MANAGE,)),
    "GET /v1/webhook-subscriptions": rule(ADMIN, scopes=(Scope.WEBHOOKS_MANAGE,)),
    "GET /v1/webhook-subscriptions/{subscription_id}": rule(ADMIN, scopes=(Scope.WEBHOOKS_MANAGE,)),
    "DELETE /v1/webhook-subscriptions/{subscription_id}": rule(ADMIN, scopes=(Scope.WEBHOOKS_MANAGE,)),
    "POST /v1/webhook-subscriptions/{subscription_id}/rotate-secret": rule(
        ADMIN, scopes=(Scope.WEBHOOKS_MANAGE,)
    ),
    "GET /v1/webhook-subscriptions/{subscription_id}/deliveries": rule(
        ADMIN, scopes=(Scope.WEBHOOKS_MANAGE,)
    ),
    "POST /v1/webhook-subscriptions/{subscription_id}/deliveries/{delivery_id}/redeliver": rule(
        ADMIN, scopes=(Scope.WEBHOOKS_MANAGE,)
    ),
    "POST /v1/outbox/deliveries/{delivery_id}/redeliver": rule(ADMIN, LEAD),
    # basic support
    "GET /v1/support/regulation": PUBLIC,
    "GET /v1/support/regulation/versions": PUBLIC,
    "POST /v1/support/regulation": rule(LEAD, ADMIN),
    "GET /v1/support/stats": PUBLIC,
    "GET /v1/kb/articles": PUBLIC,
    "GET /v1/kb/articles/{slug}": PUBLIC,
    "POST /v1/kb/articles": rule(LEAD, ADMIN),
    "PATCH /v1/kb/articles/{slug}": rule(LEAD, ADMIN),
    "DELETE /v1/kb/articles/{slug}": rule(LEAD, ADMIN),
    "POST /v1/support/tickets": rule(CUSTOMER_ROLES),
    "POST /v1/support/tickets/phone": rule(SUPPORT_STAFF),
    "GET /v1/support/tickets": rule(CUSTOMER_ROLES, SUPPORT_STAFF, scopes=(Scope.SUPPORT_READ,)),
    "GET /v1/support/tickets/{ticket_id}": rule(CUSTOMER_ROLES, SUPPORT_STAFF, scopes=(Scope.SUPPORT_READ,)),
    "PATCH /v1/support/tickets/{ticket_id}": rule(CUSTOMER_ROLES),
    "POST /v1/support/tickets/{ticket_id}/messages": rule(CUSTOMER_ROLES, SUPPORT_STAFF),
    "POST /v1/support/tickets/{ticket_id}/attachments": rule(CUSTOMER_ROLES, SUPPORT_STAFF),
    "GET /v1/support/tickets/{ticket_id}/attachments/{attachment_id}": rule(
        CUSTOMER_ROLES, SUPPORT_STAFF, scopes=(Scope.SUPPORT_READ,)
    ),
    "POST /v1/support/tickets/{ticket_id}/transitions": rule(CUSTOMER_ROLES, SUPPORT_STAFF),
    "POST /v1/support/tickets/{ticket_id}/explanation-requests": rule(CUSTOMER_ROLES),
    "POST /v1/support/tickets/{ticket_id}/remote-sessions": rule(SUPPORT_STAFF),
    "GET /v1/support/explanation-requests": rule(LEAD, ADMIN),
    "POST /v1/support/inbound-email": rule(scopes=(Scope.SUPPORT_INBOUND_EMAIL,)),
    # scheduling
    "GET /v1/services": PUBLIC,
    "GET /v1/services/{service_id}": PUBLIC,
    "POST /v1/services": rule(SALES, ADMIN),
    "PATCH /v1/services/{service_id}": rule(SALES, ADMIN),
    "GET /v1/engineers/{engineer_id}/working-hours": rule(STAFF_ROLES),
    "PUT /v1/engineers/{engineer_id}/working-hours": rule(ENGINEER, LEAD, ADMIN),
    "GET /v1/engineers/{engineer_id}/busy-calendars": rule(STAFF_ROLES),
    "POST /v1/engineers/{engineer_id}/busy-calendars": rule(ENGINEER, LEAD, ADMIN),
    "GET /v1/availability": rule(ALL_ROLES, scopes=(Scope.BOOKINGS_READ,)),
    "POST /v1/bookings": rule(CUSTOMER_ROLES),
    "GET /v1/bookings": rule(ALL_ROLES, scopes=(Scope.BOOKINGS_READ,)),
    "GET /v1/bookings/{booking_id}": rule(ALL_ROLES, scopes=(Scope.BOOKINGS_READ,)),
    "POST /v1/bookings/{booking_id}/cancel": rule(CUSTOMER_ROLES, SUPPORT_STAFF),
    "GET /v1/bookings/{booking_id}/cancellation": rule(CUSTOMER_ROLES, SUPPORT_STAFF),
    "POST /v1/bookings/{booking_id}/reschedule": rule(CUSTOMER_ROLES, SUPPORT_STAFF),
    "POST /v1/bookings/{booking_id}/start": rule(ENGINEER, LEAD, ADMIN),
    "POST /v1/bookings/{booking_id}/complete": rule(ENGINEER, LEAD, ADMIN),
    "POST /v1/bookings/{booking_id}/no-show": rule(ENGINEER, LEAD, ADMIN, CUSTOMER_ROLES),
    "GET /v1/bookings/{booking_id}/preconditions": rule(CUSTOMER_ROLES, SUPPORT_STAFF),
    "PUT /v1/bookings/{booking_id}/preconditions": rule(CUSTOMER_ROLES),
    "POST /v1/bookings/{booking_id}/preconditions/reveal": rule(ENGINEER, LEAD),
    "GET /v1/bookings/{booking_id}/invite.ics": rule(CUSTOMER_ROLES, SUPPORT_STAFF),
    "POST /v1/calendar-feeds": rule(CUSTOMER_ROLES, ENGINEER, LEAD),
    "POST /v1/calendar-feeds/{feed_id}/revoke": rule(CUSTOMER_ROLES, ENGINEER, LEAD, ADMIN),
    "GET /v1/calendar-feeds/{feed}": PUBLIC,
    # billing
    "POST /v1/billing/stripe/webhook": PUBLIC,  # authenticated by the Stripe-Signature header
    "POST /v1/payments/{payment_id}/refunds": rule(ADMIN, LEAD),
    "GET /v1/invoices": rule(CUSTOMER_ROLES, ADMIN, SALES, LEAD, scopes=(Scope.BILLING_READ,)),
    "GET /v1/invoices/{invoice_id}": rule(CUSTOMER_ROLES, ADMIN, SALES, LEAD, scopes=(Scope.BILLING_READ,)),
    "POST /v1/invoices": rule(ADMIN),
    "GET /v1/payments": rule(CUSTOMER_ROLES, ADMIN, SALES, LEAD, scopes=(Scope.BILLING_READ,)),
    # calendars
    "GET /v1/contracts": rule(ALL_ROLES, scopes=(Scope.CONTRACTS_READ,)),
    "POST /v1/contracts": rule(SALES, ADMIN),
    "GET /v1/contracts/{contract_id}": rule(ALL_ROLES, scopes=(Scope.CONTRACTS_READ,)),
    "PATCH /v1/contracts/{contract_id}": rule(SALES, ADMIN),
    "POST /v1/contracts/{contract_id}/activate": rule(SALES, ADMIN),
    "POST /v1/contracts/{contract_id}/terminate": rule(SALES, ADMIN),
    "POST /v1/contracts/{contract_id}/amendments": rule(SALES, ADMIN),
    "GET /v1/contracts/{contract_id}/report": rule(ALL_ROLES, scopes=(Scope.CONTRACTS_READ,)),
    "POST /v1/contracts/{contract_id}/documents": rule(SALES, ADMIN),
    "GET /v1/contracts/{contract_id}/documents/{document_id}": rule(
        ALL_ROLES, scopes=(Scope.CONTRACTS_READ,)
    ),
    "POST /v1/contracts/{contract_id}/tickets": rule(CUSTOMER_ROLES),
    "GET /v1/contracts/{contract_id}/tickets": rule(
        CUSTOMER_ROLES, SUPPORT_STAFF, scopes=(Scope.SUPPORT_READ,)
    ),
    "GET /v1/contracts/{contract_id}/tickets/{ticket_id}": rule(
        CUSTOMER_ROLES, SUPPORT_STAFF, scopes=(Scope.SUPPORT_READ,)
    ),
    "POST /v1/contracts/{contract_id}/tickets/{ticket_id}/messages": rule(CUSTOMER_ROLES, SUPPORT_STAFF),
    "POST /v1/contracts/{contract_id}/tickets/{ticket_id}/transitions": rule(CUSTOMER_ROLES, SUPPORT_STAFF),
    "POST /v1/contracts/{contract_id}/tickets/{ticket_id}/priority": rule(SUPPORT_STAFF),
    "POST /v1/contracts/{contract_id}/tickets/{ticket_id}/attachments": rule(CUSTOMER_ROLES, SUPPORT_STAFF),
    "GET /v1/contracts/{contract_id}/tickets/{ticket_id}/attachments/{attachment_id}": rule(
        CUSTOMER_ROLES, SUPPORT_STAFF, scopes=(Scope.SUPPORT_READ,)
    ),
    # the staff queue of both lines
    "GET /v1/queue": rule(SUPPORT_STAFF),
    "GET /v1/queue/events": rule(SUPPORT_STAFF),
    "PUT /v1/queue/{ticket_id}/assignee": rule(SUPPORT_STAFF),
    "GET /v1/calendars/holidays": PUBLIC,  # a published regulation's holidays; staff see every calendar
    "POST /v1/calendars/holidays": rule(LEAD, ADMIN),
    "PUT /v1/calendars/holidays/{day}": rule(LEAD, ADMIN),
    "DELETE /v1/calendars/holidays/{day}": rule(LEAD, ADMIN),
}

SESSION_PATH = "/portal/session"

# Interactive documentation, the schema itself, the portal's and the console's pages and sign-in are
# public (the pages hold no data; every operation they call is judged by its own rule).
PUBLIC_PREFIXES = ("/schema", "/portal", "/console")


def rule_for(method: str, path_template: str) -> Rule | None:
    if found := RULES.get(f"{method} {path_template}"):
        return found
    if path_template.startswith(PUBLIC_PREFIXES):
        return PUBLIC
    return None


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None  # other schemes (Basic on the token endpoint) are not an access token
    if not token.strip():
        raise InvalidToken("Use 'Authorization: Bearer <access token>'.")
    return token.strip()


@dataclass(frozen=True, slots=True)
class _Credentials:
    token: str | None
    cookie: str | None
    external: bool  # a token of the configured OpenID Connect issuer (signing in may link the account)


def _credentials(connection: ASGIConnection[Any, Any, Any, Any], ctx: AppContext) -> _Credentials | None:
    """What the caller presents: a bearer token, else the portal's session cookie; None when neither."""
    token = _bearer(connection)
    cookie = connection.cookies.get(COOKIE) if token is None else None
    if token is None and (not cookie or str(connection.scope["path"]).startswith(SESSION_PATH)):
        return None
    external = token is not None and ctx.external_keys is not None
    external = external and _unverified_issuer(token or "") == ctx.settings.oidc_issuer
    return _Credentials(token, cookie, external)


async def authenticate(
    connection: ASGIConnection[Any, Any, Any, Any],
    ctx: AppContext,
    credentials: _Credentials | None,
    *,
    in_handler_transaction: bool = False,
) -> Actor | None:
    """The caller the credentials name; None when there are none. A state change by cookie must carry
    the session's CSRF token (SameSite alone is not relied on).

    ``in_handler_transaction``: the lookup opens the request's own transaction (on SQLite, a writer's)
    and leaves it open for the handler, instead of a read transaction of its own."""
    if credentials is None:
        return None
    token, cookie, external = credentials.token, credentials.cookie, credentials.external
    method = str(connection.scope.get("method", "GET"))
    session = request_session(
        ctx.alchemy, connection.app.state, connection.scope, read_engine=ctx.read_engine
    )
    # Otherwise authentication only reads, so it does not queue for SQLite's write lock (the handler's
    # transaction does, after it); only an external token may write (the account it signs in is linked).
    writing = method not in SAFE_METHODS and (external or in_handler_transaction)
    await begin_request_transaction(session, method if writing else "GET", is_sqlite=ctx.settings.is_sqlite)
    now = ctx.clock.now()
    if token is None:
        assert cookie is not None
        found = await find_browser_session(session, cookie, now=now)
        if found is None:
            return None  # an ended session is no sign-in: protected operations answer 401
        if method not in SAFE_METHODS and not csrf_matches(found, connection.headers.get(CSRF_HEADER)):
            raise CsrfTokenInvalid(
                f"Send the session's CSRF token (GET {SESSION_PATH}) in the X-CSRF-Token header."
            )
        return found.actor
    if external:
        assert ctx.external_keys is not None
        claims = verify_jwt(
            token,
            ctx.external_keys,
            issuer=ctx.settings.oidc_issuer or "",
            audience=ctx.settings.oidc_audience,
            now=now,
            algorithms=EXTERNAL_ALGORITHMS,
        )
        return await actor_from_external_claims(session, claims, now=now)
    claims = await verify_access_token(session, ctx.token_policy, token, now=now, cache=ctx.key_cache)
    return await actor_from_claims(session, claims)


def _unverified_issuer(token: str) -> str | None:
    """Only to choose which keys verify the token; nothing in it is trusted before verification."""
    issuer = unverified_part(token, 1).get("iss")
    return str(issuer) if issuer is not None else None


async def access_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Authenticate the caller (if a token is sent) and apply the route's rule."""
    ctx: AppContext = connection.app.state.ctx
    method = str(connection.scope.get("method", "GET"))
    found = rule_for(method, str(connection.scope.get("path_template", connection.scope["path"])))
    credentials = _credentials(connection, ctx)
    # A write whose body the operation decodes whole: the body is received first, with no connection
    # held, and the caller is then looked up in the handler's own transaction (one transaction, not a
    # read transaction before it). Writes that stream their bodies, and external tokens (signing in
    # may link the account, committed on its own), keep a short read before the body instead.
    one_transaction = (
        method not in SAFE_METHODS  # so an HTTP request: a websocket has no method
        and credentials is not None
        and not credentials.external
        and "data" in handler.parsed_fn_signature.parameters
    )
    if one_transaction and isinstance(connection, Request):
        await connection.body()  # bounded by the operation's body-size limit
    try:
        actor = await authenticate(connection, ctx, credentials, in_handler_transaction=one_transaction)
    except BaseException:
        if one_transaction:  # hold no writer's transaction while the refusal is answered
            await request_session(ctx.alchemy, connection.app.state, connection.scope).rollback()
        raise
    connection.state.actor = actor
    refused = found is None or not found.allows(actor)
    if method not in SAFE_METHODS and (refused or not one_transaction):
        # Give the connection (and SQLite's write lock) back: the caller is refused, or the body is
        # still to be received (the handler's transaction begins once it is).
        await end_transaction(request_session(ctx.alchemy, connection.app.state, connection.scope))
    if not refused:
        return
    if found is None:
        log.warning("route_without_access_rule", method=method, path=connection.scope["path"])
        raise PermissionDeniedException("This operation has no access rule and is refused.")
    if actor is None:
        raise NotAuthorizedException(
            "This operation needs a bearer access token.",
            headers={"WWW-Authenticate": 'Bearer realm="deskline"'},
        )
    raise PermissionDeniedException("Your role or scopes do not allow this operation.")
