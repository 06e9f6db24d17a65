"""The Stripe gateway behind a small interface; every call carries an idempotency key of ours.

Every call is bounded (connect and read timeouts, one retry on a network error by default, and a total
that includes the retry) and is made by callers with no transaction open. A circuit breaker
(billing/breaker.py) refuses calls at once while Stripe is not answering. A failure says whether
Stripe may have received the request (``reached``): a refused connection (or the open breaker) means
it certainly did not; a timeout after sending, or an answer, means it may have acted (the idempotency
key then makes a retry safe).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import httpx
import stripe

from billing.breaker import CircuitBreaker
from billing.errors import PaymentProviderUnavailable

T = TypeVar("T")
RETRY_AFTER_SECONDS = 5
# Errors Stripe answers for good (a retry with the same request gets the same answer).
DEFINITIVE = (
    stripe.InvalidRequestError,
    stripe.CardError,
    stripe.IdempotencyError,
    stripe.AuthenticationError,
    stripe.PermissionError,
)
# Failures that happen before a request leaves this process: Stripe never saw it.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

_reached: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar("stripe_reached", default=None)


class _TrackingHTTPXClient(stripe.HTTPXClient):
    """The SDK's httpx client, noting for the current call whether any attempt may have reached Stripe."""

    async def request_async(  # type: ignore[no-untyped-def]  # the SDK's signature is untyped
        self, method, url, headers, post_data=None
    ):
        seen = _reached.get()
        try:
            answer = await super().request_async(method, url, headers, post_data)
        except stripe.APIConnectionError as exc:
            if seen is not None and not isinstance(exc.__cause__, NOT_SENT):
                seen.append(True)
            raise
        if seen is not None:
            seen.append(True)
        return answer


@dataclass(frozen=True, slots=True)
class StripeLimits:
    """How long any Stripe call may take: connecting, each read, retries on network errors, and in all
    (the retry included): a call is abandoned at ``total_seconds`` whatever its steps take."""

    connect_seconds: float = 2.0
    read_seconds: float = 4.0
    max_network_retries: int = 1
    total_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class IntentState:
    id: str
    status: str
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class CreatedIntent:
    id: str
    client_secret: str
    status: str
    amount: int
    currency: str


class PaymentGateway(Protocol):
    async def ensure_customer(self, *, organization_id: str, name: str, idempotency_key: str) -> str: ...

    async def create_intent(
        self, *, amount: int, currency: str, customer: str, metadata: dict[str, str], idempotency_key: str
    ) -> CreatedIntent: ...

    async def refund(self, *, payment_intent: str, amount: int, idempotency_key: str) -> str: ...

    async def intent_state(self, payment_intent: str) -> IntentState: ...

    async def create_invoice(
        self,
        *,
        customer: str,
        currency: str,
        lines: list[tuple[str, int]],
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> str: ...


@dataclass
class StripeGateway:
    """Stripe's official SDK (async calls); ``base_url`` points it at localstripe in tests."""

    secret_key: str
    base_url: str | None = None
    limits: StripeLimits = field(default_factory=StripeLimits)
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    # Every outgoing idempotency key, in order: the proof that retries cannot charge twice.
    sent_keys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        bases: Any = {"api": self.base_url} if self.base_url else None  # Any: the SDK's TypedDict
        timeout = httpx.Timeout(self.limits.read_seconds, connect=self.limits.connect_seconds)
        self._client = stripe.StripeClient(
            self.secret_key,
            base_addresses=bases,
            http_client=_TrackingHTTPXClient(timeout=timeout),
            max_network_retries=self.limits.max_network_retries,
        )

    def _options(self, key: str) -> Any:  # Any: the SDK's RequestOptions TypedDict
        self.sent_keys.append(key)
        return {"idempotency_key": key}

    async def _call(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        wait = self.breaker.refusal()
        if wait is not None:
            retry_after = math.ceil(wait)
            raise PaymentProviderUnavailable(
                f"Stripe is not answering: calls to it are paused for {retry_after} s (circuit open).",
                reached=False,
                headers={"Retry-After": retry_after},
            )
        token = _reached.set([])
        try:
            async with asyncio.timeout(self.limits.total_seconds):
                result = await call()
        except TimeoutError as exc:
            self.breaker.failed()
            raise PaymentProviderUnavailable(
                f"Stripe did not {what} within {self.limits.total_seconds:g} s.",
                reached=True,  # the request may have left: the idempotency key makes a retry safe
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            ) from exc
        except stripe.StripeError as exc:
            definitive = isinstance(exc, DEFINITIVE)
            (self.breaker.succeeded if definitive else self.breaker.failed)()  # a refusal is an answer
            reached = bool(_reached.get()) or not isinstance(exc, stripe.APIConnectionError)
            raise PaymentProviderUnavailable(
                f"Stripe did not {what} ({type(exc).__name__}).",
                reached=reached,
                definitive=definitive,
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            ) from exc
        except BaseException:  # cancelled: no verdict on Stripe, but a probe must not stay taken
            self.breaker.failed()
            raise
        finally:
            _reached.reset(token)
        self.breaker.succeeded()
        return result

    async def ensure_customer(self, *, organization_id: str, name: str, idempotency_key: str) -> str:
        customer = await self._call(
            "create the customer",
            lambda: self._client.v1.customers.create_async(
                {"name": name, "metadata": {"organization_id": organization_id}},
                self._options(idempotency_key),
            ),
        )
        return str(customer.id)

    async def create_intent(
        self, *, amount: int, currency: str, customer: str, metadata: dict[str, str], idempotency_key: str
    ) -> CreatedIntent:
        intent = await self._call(
            "create the payment",
            lambda: self._client.v1.payment_intents.create_async(
                {"amount": amount, "currency": currency.lower(), "customer": customer, "metadata": metadata},
                self._options(idempotency_key),
            ),
        )
        return CreatedIntent(
            id=str(intent.id),
            client_secret=str(intent.client_secret),
            status=str(intent.status),
            amount=int(intent.amount),
            currency=str(intent.currency).upper(),
        )

    async def refund(self, *, payment_intent: str, amount: int, idempotency_key: str) -> str:
        refund = await self._call(
            "make the refund",
            lambda: self._client.v1.refunds.create_async(
                {"payment_intent": payment_intent, "amount": amount}, self._options(idempotency_key)
            ),
        )
        return str(refund.id)

    async def intent_state(self, payment_intent: str) -> IntentState:
        intent = await self._call(
            "return the payment", lambda: self._client.v1.payment_intents.retrieve_async(payment_intent)
        )
        return IntentState(
            id=str(intent.id),
            status=str(intent.status),
            amount=int(intent.amount),
            currency=str(intent.currency).upper(),
        )

    async def create_invoice(
        self,
        *,
        customer: str,
        currency: str,
        lines: list[tuple[str, int]],
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> str:
        """A finalised invoice sent to the customer with exactly ``lines`` (description, amount; credits
        are negative): the invoice, then each line on it, then finalising and sending, each step keyed by
        our record, so a retry after any failure continues where it stopped."""
        invoice = await self._call(
            "create the invoice",
            lambda: self._client.v1.invoices.create_async(
                {
                    "customer": customer,
                    "collection_method": "send_invoice",
                    "days_until_due": 14,
                    "pending_invoice_items_behavior": "exclude",
                    "currency": currency.lower(),
                    "metadata": metadata,
                },
                self._options(idempotency_key),
            ),
        )
        invoice_id = str(invoice.id)
        for position, (description, amount) in enumerate(lines, start=1):
            params: Any = {  # Any: the SDK's TypedDict
                "customer": customer,
                "invoice": invoice_id,
                "amount": amount,
                "currency": currency.lower(),
                "description": description,
            }
            options = self._options(f"{idempotency_key}-line-{position}")
            await self._call(
                "add the invoice line",
                functools.partial(self._client.v1.invoice_items.create_async, params, options),
            )
        await self._call(
            "finalise the invoice",
            lambda: self._client.v1.invoices.finalize_invoice_async(
                invoice_id, None, self._options(f"{idempotency_key}-finalize")
            ),
        )
        await self._call(
            "send the invoice",
            lambda: self._client.v1.invoices.send_invoice_async(
                invoice_id, None, self._options(f"{idempotency_key}-send")
            ),
        )
        return invoice_id
