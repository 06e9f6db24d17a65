"""The one table that maps every error to a status, a problem code and its titles (en/ru)."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import structlog
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsPlugin
from sqlalchemy import exc as sa_exc

from accounts import (
    CsrfTokenInvalid,
    DuplicatePurchase,
    EmailTaken,
    InvalidCredentials,
    InvalidSupportContact,
    InvalidToken,
    LoginThrottled,
    NoSupportContact,
    NotEligible,
    NotSupportContact,
    PurchaseImportFailed,
    ThrottleUnavailable,
)
from api.problems import Problem, ProblemKind
from billing import PaymentProviderUnavailable, PaymentRefused, WebhookRejected
from contracts import (
    ContractIncomplete,
    ContractNotDraft,
    ContractNotInForce,
    ContractsOverlap,
    IllegalContractTransition,
    IncludedHoursExhausted,
    NotCovered,
)
from core import errors as core_errors
from core import idempotency, urls
from scheduling import CalendarImportFailed, IllegalBookingTransition, SlotNotOffered, SlotTaken
from support import AttachmentRejected, ExplanationTooEarly, IllegalTransition, InboundEmailRejected

log = structlog.get_logger(__name__)

MALFORMED = ProblemKind(400, "malformed_request", "Malformed request", "Некорректный запрос")
UNAUTHENTICATED = ProblemKind(401, "not_authenticated", "Authentication required", "Требуется аутентификация")
FORBIDDEN = ProblemKind(403, "forbidden", "Not allowed", "Действие запрещено")
NOT_FOUND = ProblemKind(404, "not_found", "Not found", "Не найдено")
METHOD_NOT_ALLOWED = ProblemKind(405, "method_not_allowed", "Method not allowed", "Метод не поддерживается")
CONFLICT = ProblemKind(409, "conflict", "Conflict with the current state", "Конфликт с текущим состоянием")
PRECONDITION_FAILED = ProblemKind(412, "precondition_failed", "The object has changed", "Объект был изменён")
BODY_TOO_LARGE = ProblemKind(413, "body_too_large", "Request body too large", "Слишком большой запрос")
UNSUPPORTED_MEDIA = ProblemKind(
    415, "unsupported_media_type", "Unsupported content type", "Неподдерживаемый тип содержимого"
)
VALIDATION = ProblemKind(422, "validation_failed", "Validation failed", "Ошибка проверки данных")
TOO_MANY = ProblemKind(429, "too_many_requests", "Too many requests", "Слишком много запросов")
INTERNAL = ProblemKind(500, "internal_error", "Internal server error", "Внутренняя ошибка сервера")
UNAVAILABLE = ProblemKind(503, "service_unavailable", "Service unavailable", "Сервис недоступен")
DATABASE_BUSY = ProblemKind(503, "database_busy", "The database is busy", "База данных перегружена")
BUSY_RETRY_AFTER_SECONDS = 2

BY_STATUS = {
    kind.status: kind
    for kind in (
        MALFORMED,
        UNAUTHENTICATED,
        FORBIDDEN,
        NOT_FOUND,
        METHOD_NOT_ALLOWED,
        CONFLICT,
        PRECONDITION_FAILED,
        BODY_TOO_LARGE,
        UNSUPPORTED_MEDIA,
        VALIDATION,
        TOO_MANY,
        INTERNAL,
        UNAVAILABLE,
    )
}

# Domain errors, most specific first is not needed: lookup walks each error's MRO.
DOMAIN_PROBLEMS: dict[type[core_errors.DesklineError], ProblemKind] = {
    core_errors.NotFound: NOT_FOUND,
    core_errors.Conflict: CONFLICT,
    core_errors.InvalidInput: VALIDATION,
    core_errors.PermissionDenied: FORBIDDEN,
    core_errors.PreconditionFailed: PRECONDITION_FAILED,
    core_errors.MalformedInput: MALFORMED,
    core_errors.NestingTooDeep: ProblemKind(
        400, "nesting_too_deep", "The JSON nests too deeply", "Слишком глубокая вложенность JSON"
    ),
    idempotency.KeyReused: ProblemKind(
        422,
        "idempotency_key_reused",
        "Idempotency key used for another request",
        "Ключ идемпотентности использован для другого запроса",
    ),
    idempotency.RequestInFlight: ProblemKind(
        409, "request_in_flight", "The same request is still being processed", "Тот же запрос ещё выполняется"
    ),
    SlotTaken: ProblemKind(409, "slot_taken", "The slot is not free", "Это время уже занято"),
    SlotNotOffered: ProblemKind(
        422, "slot_not_offered", "That start time is not offered", "Это время начала недоступно"
    ),
    IllegalBookingTransition: ProblemKind(
        409,
        "illegal_booking_transition",
        "Not allowed for this booking now",
        "Для этой записи сейчас недопустимо",
    ),
    CalendarImportFailed: ProblemKind(
        422,
        "calendar_import_failed",
        "The calendar cannot be imported",
        "Календарь не может быть импортирован",
    ),
    PaymentProviderUnavailable: ProblemKind(
        503,
        "payment_provider_unavailable",
        "The payment provider is unavailable",
        "Платёжная система недоступна",
    ),
    PaymentRefused: ProblemKind(
        409, "payment_refused", "The payment provider refused", "Платёжная система отказала"
    ),
    WebhookRejected: ProblemKind(400, "webhook_rejected", "Webhook rejected", "Вебхук отклонён"),
    InvalidCredentials: ProblemKind(
        401, "invalid_credentials", "Invalid credentials", "Неверные учётные данные"
    ),
    InvalidToken: ProblemKind(401, "invalid_token", "Invalid token", "Недействительный токен"),
    CsrfTokenInvalid: ProblemKind(
        403, "csrf_token_invalid", "The request lacks the session's CSRF token", "Нет CSRF-токена сессии"
    ),
    LoginThrottled: ProblemKind(
        429, "login_throttled", "Too many login attempts", "Слишком много попыток входа"
    ),
    ThrottleUnavailable: ProblemKind(
        503, "login_unavailable", "Login is unavailable for a moment", "Вход временно недоступен"
    ),
    EmailTaken: ProblemKind(409, "email_taken", "E-mail already registered", "Адрес уже зарегистрирован"),
    DuplicatePurchase: ProblemKind(
        409, "duplicate_purchase", "Purchase already recorded", "Покупка уже зарегистрирована"
    ),
    PurchaseImportFailed: ProblemKind(
        422, "purchase_import_failed", "Purchase file rejected", "Файл покупок отклонён"
    ),
    InvalidSupportContact: ProblemKind(
        422,
        "invalid_support_contact",
        "This user cannot be the support contact",
        "Этот пользователь не может быть контактным лицом поддержки",
    ),
    NoSupportContact: ProblemKind(
        403,
        "support_contact_missing",
        "No designated support contact",
        "Не назначено контактное лицо поддержки",
    ),
    NotSupportContact: ProblemKind(
        403,
        "not_support_contact",
        "Only the designated support contact may do this",
        "Это может сделать только назначенное контактное лицо поддержки",
    ),
    IllegalTransition: ProblemKind(
        409, "illegal_transition", "This status change is not allowed", "Такая смена статуса недопустима"
    ),
    ExplanationTooEarly: ProblemKind(
        409,
        "explanation_too_early",
        "The response deadline has not passed",
        "Срок первого ответа ещё не истёк",
    ),
    AttachmentRejected: ProblemKind(
        422, "attachment_rejected", "The file was not accepted", "Файл не принят"
    ),
    InboundEmailRejected: ProblemKind(
        422, "inbound_email_rejected", "The e-mail cannot be accepted", "Письмо не может быть принято"
    ),
    ContractNotDraft: ProblemKind(
        409,
        "contract_not_draft",
        "An active contract is amended, not edited",
        "Действующий договор не редактируется, а дополняется",
    ),
    ContractsOverlap: ProblemKind(
        409,
        "contracts_overlap",
        "Another contract is active on these days",
        "На эти дни уже действует другой договор",
    ),
    ContractIncomplete: ProblemKind(
        422, "contract_incomplete", "The contract is not complete", "Договор заполнен не полностью"
    ),
    IllegalContractTransition: ProblemKind(
        409,
        "illegal_contract_transition",
        "Not allowed for this contract now",
        "Для этого договора сейчас недопустимо",
    ),
    ContractNotInForce: ProblemKind(
        409, "contract_not_in_force", "The contract is not in force", "Договор не действует"
    ),
    IncludedHoursExhausted: ProblemKind(
        409,
        "included_hours_exhausted",
        "The contract's included hours are used up",
        "Включённые в договор часы исчерпаны",
    ),
    urls.UnsafeUrl: ProblemKind(422, "unsafe_url", "The URL is not accepted", "Адрес не принят"),
    NotCovered: ProblemKind(
        403, "not_covered", "Not covered by the contract", "Договор не распространяется на вас"
    ),
    NotEligible: ProblemKind(
        403, "not_eligible", "Not eligible for basic support", "Нет права на базовую поддержку"
    ),
}


def kind_of(error: type[core_errors.DesklineError]) -> ProblemKind:
    """The problem an error of this class becomes (its closest mapped ancestor decides)."""
    return next((DOMAIN_PROBLEMS[c] for c in error.__mro__ if c in DOMAIN_PROBLEMS), INTERNAL)


def domain_problem(exc: core_errors.DesklineError) -> Problem:
    kind = kind_of(type(exc))
    errors = [{"field": p.field, "message": p.message, "source": p.source} for p in exc.errors]
    headers = {k: str(v) for k, v in exc.context.pop("headers", {}).items()}
    return Problem(kind, exc.detail, errors=errors, headers=headers or None, extra=exc.context)


def http_problem(exc: HTTPException) -> Problem:
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, ValidationException) and exc.status_code == 400:
        return _validation_problem(exc)
    kind = _kind_for_http(exc)
    generic = not exc.detail or exc.detail.lower() in {
        kind.title_en.lower(),
        HTTPStatus(kind.status).phrase.lower(),
    }
    detail = _default_detail(kind) if generic else exc.detail
    return Problem(kind, detail, headers=exc.headers)


def _kind_for_http(exc: HTTPException) -> ProblemKind:
    if isinstance(exc, NotFoundException):
        return NOT_FOUND
    if isinstance(exc, MethodNotAllowedException):
        return METHOD_NOT_ALLOWED
    if isinstance(exc, NotAuthorizedException):
        return UNAUTHENTICATED
    if isinstance(exc, PermissionDeniedException):
        return FORBIDDEN
    if isinstance(exc, TooManyRequestsException):
        return TOO_MANY
    if isinstance(exc, ClientException) and exc.status_code == 400:
        return MALFORMED
    return BY_STATUS.get(exc.status_code, INTERNAL if exc.status_code >= 500 else MALFORMED)


def _default_detail(kind: ProblemKind) -> str:
    return {
        404: "No resource exists at this address.",
        405: "This resource does not accept that method.",
        413: "The request body is larger than this endpoint accepts.",
        415: "This endpoint does not accept that content type.",
        500: "The server failed to handle the request; it has been logged.",
    }.get(kind.status, kind.title_en)


def _validation_problem(exc: ValidationException) -> Problem:
    extra: Any = exc.extra  # Any: Litestar hands over a list of {message, key, source} dicts
    errors: list[dict[str, str]] = []
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            message = str(item.get("message", ""))
            errors.append(
                {
                    "field": _field_of(message) or str(item.get("key") or ""),
                    "message": str(item.get("message", "")),
                    "source": str(getattr(item.get("source"), "value", item.get("source")) or "body"),
                }
            )
    detail = exc.detail or "The request does not match the expected schema."
    if missing := re.match(r"Missing required (query|header|path|cookie) parameter '([^']+)'", detail):
        # Litestar says so in its detail only: name the parameter in errors[] like any other field.
        errors.append({"field": missing.group(2), "message": "required", "source": missing.group(1)})
        detail = f"The {missing.group(1)} parameter {missing.group(2)} is required; see errors[]."
    if detail.startswith("Validation failed for"):
        detail = "The request does not match the expected schema; see errors[]."
    return Problem(VALIDATION, detail, errors=errors)


def _field_of(message: str) -> str | None:
    """The JSON path msgspec names in a message (``... - at `$.a.b` `` or ``field `a` ``), dotted."""
    if (found := re.search(r"at `\$\.?([^`]*)`", message)) and found.group(1):
        prefix = found.group(1)
        named = re.search(r"field `([^`]+)`", message)
        return f"{prefix}.{named.group(1)}" if named else prefix
    if named := re.search(r"field `([^`]+)`", message):
        return named.group(1)
    return None


def unexpected_problem(exc: Exception) -> Problem:
    if _database_busy(exc):
        # Load, not a bug: every pooled connection is in use, SQLite's write lock stayed taken (by
        # another process) past the busy timeout, or PostgreSQL broke a deadlock by giving up this
        # transaction. The client may retry shortly.
        log.warning("database_busy", exc_type=type(exc).__name__)
        return Problem(
            DATABASE_BUSY,
            "The database is busy; retry shortly.",
            headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
        )
    log.exception("unhandled_exception", exc_type=type(exc).__name__)
    return Problem(INTERNAL, _default_detail(INTERNAL))


# PostgreSQL gave up one transaction so that others could go on: a deadlock it broke, a serialisation
# failure, a lock not available. Nothing of the transaction was kept; the same request may succeed.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001", "55P03"})


def _database_busy(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.TimeoutError):  # QueuePool limit reached: no connection within the timeout
        return True
    if isinstance(exc, sa_exc.DBAPIError) and getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return isinstance(exc, sa_exc.OperationalError) and "database is locked" in str(exc.orig)


def create_problem_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_to_problem_detail_map={
                HTTPException: http_problem,
                core_errors.DesklineError: domain_problem,
                Exception: unexpected_problem,
            },
        )
    )
