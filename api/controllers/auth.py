"""Login, the OAuth 2.0 token endpoint, published keys and server metadata, and ``/v1/me``."""

from __future__ import annotations

from typing import Any

import msgspec
from authlib.oauth2.rfc6749 import errors as oauth_errors
from authlib.oauth2.rfc6749.util import extract_basic_authorization, scope_to_list
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from litestar import Controller, Request, get, post
from litestar.params import JSONBody, URLEncodedBody

from accounts import (
    SCOPE_DESCRIPTIONS,
    InvalidCredentials,
    InvalidToken,
    LoginIn,
    LoginThrottled,
    MeOut,
    OrganizationOut,
    ThrottleUnavailable,
    TokenOut,
    User,
    UserOut,
    client_credentials,
    get_organization,
    password_login,
    refresh_tokens,
    support_contact,
    verification_keys,
)
from api.contract import problems
from api.dependencies import DB, Ctx, CurrentActor, client_address
from api.problems import Problem, ProblemKind
from core.errors import InvalidInput, NotFound

GRANT_TYPES = ["client_credentials", "refresh_token"]


class TokenRequest(msgspec.Struct, kw_only=True):
    """RFC 6749 token request parameters (form-encoded)."""

    grant_type: str = ""
    scope: str | None = None
    refresh_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


def _oauth_kind(error: type[oauth_errors.OAuth2Error], status: int = 400) -> ProblemKind:
    code = str(error.error)
    return ProblemKind(status, f"oauth_{code}", f"OAuth error: {code}", f"Ошибка OAuth: {code}")


# The RFC 6749 errors the token endpoint answers, each a problem of its own.
OAUTH_KINDS = {
    error.error: _oauth_kind(error, 401 if error is oauth_errors.InvalidClientError else 400)
    for error in (
        oauth_errors.InvalidRequestError,
        oauth_errors.InvalidClientError,
        oauth_errors.InvalidGrantError,
        oauth_errors.UnsupportedGrantTypeError,
        oauth_errors.InvalidScopeError,
    )
}


def oauth_problem(error: oauth_errors.OAuth2Error, description: str) -> Problem:
    """An RFC 6749 §5.2 error body (``error``, ``error_description``) that is also an RFC 9457 problem."""
    code = str(error.error)
    kind = OAUTH_KINDS[code]
    headers = {"WWW-Authenticate": 'Basic realm="deskline"'} if kind.status == 401 else None
    return Problem(
        kind, description, headers=headers, extra={"error": code, "error_description": description}
    )


class AuthController(Controller):
    tags = ["identity"]

    @problems(InvalidCredentials, LoginThrottled, ThrottleUnavailable)
    @post("/v1/auth/login", summary="Log in with e-mail and password", status_code=200)
    async def login(
        self, request: Request[Any, Any, Any], data: JSONBody[LoginIn], db: DB, ctx: Ctx
    ) -> TokenOut:
        pair = await ctx.throttle.attempt(
            account=data.email,
            address=client_address(request),
            login=lambda: password_login(
                db,
                ctx.keyring,
                ctx.token_policy,
                email=data.email,
                password=data.password,
                now=ctx.clock.now(),
            ),
        )
        return TokenOut(
            access_token=pair.access.token,
            expires_in=pair.access.expires_in,
            refresh_token=pair.refresh_token,
        )

    @problems(kinds=OAUTH_KINDS.values())
    @post(
        "/v1/oauth/token",
        summary="OAuth 2.0 token endpoint (client_credentials, refresh_token)",
        status_code=200,
    )
    async def token(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[TokenRequest],
        db: DB,
        ctx: Ctx,
    ) -> TokenOut:
        now = ctx.clock.now()
        if data.grant_type == "refresh_token":
            if not data.refresh_token:
                raise oauth_problem(oauth_errors.InvalidRequestError(), "refresh_token is required.")
            try:
                pair = await refresh_tokens(
                    db, ctx.keyring, ctx.token_policy, token=data.refresh_token, now=now
                )
            except InvalidToken as exc:
                raise _keeping_side_effects(
                    exc, oauth_problem(oauth_errors.InvalidGrantError(), exc.detail)
                ) from exc
            return TokenOut(
                access_token=pair.access.token,
                expires_in=pair.access.expires_in,
                refresh_token=pair.refresh_token,
            )
        if data.grant_type == "client_credentials":
            client_id, client_secret = extract_basic_authorization(request.headers)
            client_id, client_secret = client_id or data.client_id, client_secret or data.client_secret
            if not client_id or not client_secret:
                raise oauth_problem(oauth_errors.InvalidClientError(), "Client authentication is required.")
            try:
                access = await client_credentials(
                    db,
                    ctx.keyring,
                    ctx.token_policy,
                    client_id=client_id,
                    client_secret=client_secret,
                    requested_scopes=scope_to_list(data.scope) if data.scope else None,
                    now=now,
                )
            except InvalidCredentials as exc:
                raise oauth_problem(oauth_errors.InvalidClientError(), exc.detail) from exc
            except InvalidInput as exc:
                raise oauth_problem(oauth_errors.InvalidScopeError(), exc.detail) from exc
            return TokenOut(
                access_token=access.token,
                expires_in=access.expires_in,
                scope=access.scope,
            )
        if not data.grant_type:
            raise oauth_problem(oauth_errors.InvalidRequestError(), "grant_type is required.")
        raise oauth_problem(
            oauth_errors.UnsupportedGrantTypeError(data.grant_type),
            f"Supported grant types: {', '.join(GRANT_TYPES)}.",
        )

    @get(
        "/.well-known/jwks.json",
        summary="Public keys that verify access tokens",
        media_type="application/json",
    )
    async def jwks(self, db: DB, ctx: Ctx) -> dict[str, Any]:  # Any: JWK members
        keys = await verification_keys(db, now=ctx.clock.now(), grace=ctx.token_policy.verify_grace)
        return dict(keys.as_dict(private=False))

    @get(
        "/.well-known/oauth-authorization-server",
        summary="OAuth 2.0 authorization server metadata (RFC 8414)",
    )
    async def metadata(self, ctx: Ctx) -> dict[str, Any]:  # Any: metadata members
        base = ctx.settings.public_url.rstrip("/")
        metadata = AuthorizationServerMetadata(
            {
                "issuer": ctx.token_policy.issuer,
                "token_endpoint": f"{base}/v1/oauth/token",
                "jwks_uri": f"{base}/.well-known/jwks.json",
                "grant_types_supported": GRANT_TYPES,
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": [scope.value for scope in SCOPE_DESCRIPTIONS],
                "response_types_supported": ["token"],
                "service_documentation": f"{base}/schema",
            }
        )
        metadata.validate()
        return dict(metadata)

    @problems(NotFound)
    @get("/v1/me", summary="The caller: roles, scopes, organization, designated-contact status")
    async def me(self, actor: CurrentActor, db: DB) -> MeOut:
        user = await db.get(User, actor.id) if actor.kind == "user" else None
        organization = None
        is_contact = False
        if actor.organization_id is not None:
            org = await get_organization(db, actor, actor.organization_id)
            contact = await support_contact(db, org.id)
            is_contact = contact is not None and contact[1].id == actor.id
            organization = OrganizationOut.of(org)
        return MeOut(
            kind=actor.kind,
            id=actor.id,
            roles=[actor.role.value] if actor.role else [],
            scopes=sorted(actor.scopes),
            organization=organization,
            user=UserOut.of(user) if user else None,
            is_support_contact=is_contact,
        )


def _keeping_side_effects(cause: InvalidToken, problem: Problem) -> Problem:
    """The family revocation after refresh-token reuse must be committed even though we refuse."""
    problem.commit_before_raising = cause.commit_before_raising  # type: ignore[attr-defined]
    return problem
