"""The Litestar application factory. Building an app has no side effects beyond the app itself."""

from __future__ import annotations

import gc
from datetime import timedelta
from pathlib import Path
from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig, SQLAlchemyInitPlugin
from litestar import Litestar, Response
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, OAuthFlow, OAuthFlows, OpenAPI, SecurityScheme
from litestar.plugins.prometheus import PrometheusController
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncEngine

from accounts import SCOPE_DESCRIPTIONS, VerificationKeyCache
from api.access import access_guard, rule_for
from api.context import AppContext, build_gateway, build_keyring, build_token_policy, load_external_keys
from api.contract import document as document_problems
from api.controllers.admin import AuditController, IntegrationClientController
from api.controllers.auth import AuthController
from api.controllers.billing import BillingController, InvoiceController
from api.controllers.bookings import BookingController, CalendarFeedController
from api.controllers.calendars import HolidayController
from api.controllers.console import CONSOLE_ASSETS, CONSOLE_ASSETS_URL, ConsoleController
from api.controllers.contracts import (
    ContractController,
    ContractDocumentController,
    ContractReportController,
    SlaTicketController,
)
from api.controllers.knowledge import KnowledgeBaseController
from api.controllers.operations import OperationsController
from api.controllers.organizations import OrganizationController
from api.controllers.outbox import OutboxController
from api.controllers.portal import PORTAL_ASSETS, PORTAL_ASSETS_URL, PortalController
from api.controllers.queue import QueueController
from api.controllers.scheduling import AvailabilityController, EngineerCalendarController, ServiceController
from api.controllers.staff import StaffController
from api.controllers.support import RegulationController, SupportOperationsController, TicketController
from api.controllers.webhooks import WebhookSubscriptionController
from api.db import create_alchemy_config, create_engine, db_provider
from api.dependencies import provide_actor, provide_ctx
from api.errors import create_problem_plugin
from api.input_checks import check_input_text, query_parameters
from api.logging import RequestContextMiddleware, configure_logging
from api.metrics import RequestMetrics
from api.settings import Settings
from api.throttle import LoginThrottle
from core.time import Clock, SystemClock
from notifications import document_events
from scheduling import SchedulingPolicy

API_VERSION = "1.0.0"
# The documentation pages load nothing from the internet: pinned Swagger UI and Redoc bundles ship in
# the package (api/static/docs, see its README) and are served from here.
DOCS_ASSETS = Path(__file__).resolve().parent / "static" / "docs"
DOCS_ASSETS_URL = "/schema/assets"
FAVICON = f"<link rel='icon' type='image/png' href='{DOCS_ASSETS_URL}/favicon-32x32.png'>"
BEARER = "BearerJWT"
OAUTH2 = "OAuth2ClientCredentials"

CONTROLLERS: list[Any] = [  # Any: Litestar accepts controllers and handlers alike
    OperationsController,
    AuthController,
    OrganizationController,
    IntegrationClientController,
    StaffController,
    AuditController,
    RegulationController,
    TicketController,
    SupportOperationsController,
    KnowledgeBaseController,
    HolidayController,
    ServiceController,
    EngineerCalendarController,
    AvailabilityController,
    BookingController,
    CalendarFeedController,
    BillingController,
    InvoiceController,
    ContractController,
    SlaTicketController,
    QueueController,
    ContractReportController,
    ContractDocumentController,
    OutboxController,
    WebhookSubscriptionController,
    PortalController,
    ConsoleController,
]


def _openapi_config(settings: Settings) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Deskline API",
        version=API_VERSION,
        description=(
            "Technical support services: free basic support tickets, paid remote-access sessions and SLA "
            "contracts. Errors are RFC 9457 problems with a stable `code`; titles follow Accept-Language "
            "(en, ru). JSON bodies nest at most 32 levels of arrays and objects (deeper: 400 "
            "`nesting_too_deep`); every number has the minimum and maximum its schema states."
        ),
        path="/schema",
        render_plugins=[
            RedocRenderPlugin(
                path=["/", "/redoc"],
                js_url=f"{DOCS_ASSETS_URL}/redoc.standalone.js",
                google_fonts=False,
                favicon=FAVICON,
            ),
            SwaggerRenderPlugin(
                path="/swagger",
                js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
                css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
                standalone_preset_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-standalone-preset.js",
                favicon=FAVICON,
            ),
        ],
        components=Components(
            security_schemes={
                BEARER: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="Access token from POST /v1/auth/login or POST /v1/oauth/token",
                ),
                OAUTH2: SecurityScheme(
                    type="oauth2",
                    description="Integration clients: client credentials grant",
                    flows=OAuthFlows(
                        client_credentials=OAuthFlow(
                            token_url=f"{settings.public_url.rstrip('/')}/v1/oauth/token",
                            scopes={scope.value: text for scope, text in SCOPE_DESCRIPTIONS.items()},
                        )
                    ),
                ),
            }
        ),
    )


# The document depends only on the code and the public URL: built once per process, not per app.
_documents: dict[str, OpenAPI] = {}


def _document(app: Litestar, settings: Settings) -> None:
    plugin = app.plugins.get(OpenAPIPlugin)
    known = _documents.get(settings.public_url)
    if known is None:
        _document_security(app)
        document_problems(app, app.openapi_schema)
        document_events(app.openapi_schema)
        known = _documents[settings.public_url] = app.openapi_schema
    plugin._openapi = known  # Litestar's own lazy cache of the document
    app.state.query_parameters = query_parameters(known)


def _document_security(app: Litestar) -> None:
    """Write each operation's security requirement from the access table (one source of truth)."""
    schema = app.openapi_schema
    for path, item in (schema.paths or {}).items():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            found = rule_for(method.upper(), path)
            if found is None or found.public:
                operation.security = None
                continue
            requirements: list[dict[str, list[str]]] = []
            if found.roles:
                requirements.append({BEARER: []})
            if found.scopes:
                requirements.append({OAUTH2: sorted(s.value for s in found.scopes)})
            operation.security = requirements
            roles = ", ".join(sorted(r.value for r in found.roles)) or "none"
            scopes = ", ".join(sorted(s.value for s in found.scopes)) or "none"
            note = f"**Access**: roles {roles}; integration scopes {scopes}."
            operation.description = f"{operation.description}\n\n{note}" if operation.description else note


async def _nosniff(response: Response[Any]) -> Response[Any]:
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def _dispose_read_engine(app: Litestar) -> None:
    await app.state.ctx.read_engine.dispose()


def _freeze_startup_objects() -> None:
    """Move everything alive after start-up out of the collector's way: full collections then scan only
    what requests allocate, which keeps their pauses out of the latency tail."""
    gc.collect()
    gc.freeze()


class StartupCheckFailed(RuntimeError):
    """A dependency the configuration names does not answer; the message says which and what to do."""


def _check_throttle_store(throttle: LoginThrottle) -> Any:  # Any: Litestar's lifespan hook type
    async def check() -> None:
        if throttle.shared and not await throttle.check():
            raise StartupCheckFailed(
                f"DESKLINE_RATE_LIMIT_STORAGE: {throttle.uri} does not answer; start Redis or point the "
                "variable at a reachable one (memory:// keeps counts per process)."
            )

    return check


def build_context(
    settings: Settings, *, clock: Clock, alchemy: SQLAlchemyAsyncConfig, read_engine: AsyncEngine
) -> AppContext:
    """Everything a request needs that is built once at start (settings, keys, policies, gateways)."""
    return AppContext(
        settings=settings,
        clock=clock,
        keyring=build_keyring(settings),
        token_policy=build_token_policy(settings),
        throttle=LoginThrottle(
            settings.rate_limit_storage,
            per_account=settings.login_limit_per_account,
            per_address=settings.login_limit_per_address,
        ),
        alchemy=alchemy,
        external_keys=load_external_keys(settings),
        key_cache=VerificationKeyCache(timedelta(seconds=60)),
        gateway=build_gateway(settings),
        read_engine=read_engine,
        scheduling=SchedulingPolicy(
            grid=timedelta(minutes=settings.booking_grid_minutes),
            hold=timedelta(minutes=settings.booking_hold_minutes),
        ),
    )


def create_app(settings: Settings, *, clock: Clock | None = None, configure_logs: bool = True) -> Litestar:
    if configure_logs:
        configure_logging(settings)
    engine = create_engine(settings)
    read_engine = create_engine(settings, pool_size=settings.database_read_pool_size)
    alchemy = create_alchemy_config(engine)
    ctx = build_context(settings, clock=clock or SystemClock(), alchemy=alchemy, read_engine=read_engine)
    throttle = ctx.throttle
    app = Litestar(
        route_handlers=[
            *CONTROLLERS,
            PrometheusController,
            create_static_files_router(
                DOCS_ASSETS_URL, [DOCS_ASSETS], include_in_schema=False, name="docs-assets"
            ),
            create_static_files_router(
                PORTAL_ASSETS_URL,
                [PORTAL_ASSETS],
                include_in_schema=False,
                name="portal-assets",
                cache_control=CacheControlHeader(no_cache=True),
                after_request=_nosniff,
            ),
            create_static_files_router(
                CONSOLE_ASSETS_URL,
                [CONSOLE_ASSETS],
                include_in_schema=False,
                name="console-assets",
                cache_control=CacheControlHeader(no_cache=True),
                after_request=_nosniff,
            ),
        ],
        plugins=[SQLAlchemyInitPlugin(config=alchemy), create_problem_plugin()],
        middleware=[RequestMetrics],
        guards=[access_guard],
        before_request=check_input_text,
        dependencies={
            "db": Provide(db_provider(alchemy, is_sqlite=settings.is_sqlite)),
            "ctx": Provide(provide_ctx, sync_to_thread=False),
            "actor": Provide(provide_actor, sync_to_thread=False),
        },
        openapi_config=_openapi_config(settings),
        logging_config=None,
        on_shutdown=[_dispose_read_engine],
        on_startup=[
            _check_throttle_store(throttle),
            *([_freeze_startup_objects] if settings.gc_freeze_on_start else []),
        ],
        request_max_body_size=settings.max_request_body_bytes,
    )
    app.state.ctx = ctx
    app.asgi_handler = RequestContextMiddleware(app.asgi_handler)
    _document(app, settings)
    return app
