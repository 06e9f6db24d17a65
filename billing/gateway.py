"""The Stripe gateway behind a small interface; every call carries an idempotency key of ours."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import stripe

from billing.errors import PaymentProviderUnavailable


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
        self, *, customer: str, amount: int, currency: str, description: str, idempotency_key: str
    ) -> str: ...


@dataclass
class StripeGateway:
    """Stripe's official SDK (async calls); ``base_url`` points it at localstripe in tests."""

    secret_key: str
    base_url: str | None = None
    # Every outgoing idempotency key, in order: the proof that retries cannot charge twice.
    sent_keys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        bases: Any = {"api": self.base_url} if self.base_url else None  # Any: the SDK's TypedDict
        self._client = stripe.StripeClient(
            self.secret_key, base_addresses=bases, http_client=stripe.HTTPXClient(), max_network_retries=2
        )

    def _options(self, key: str) -> Any:  # Any: the SDK's RequestOptions TypedDict
        self.sent_keys.append(key)
        return {"idempotency_key": key}

    async def ensure_customer(self, *, organization_id: str, name: str, idempotency_key: str) -> str:
        try:
            customer = await self._client.v1.customers.create_async(
                {"name": name, "metadata": {"organization_id": organization_id}},
                self._options(idempotency_key),
            )
        except stripe.StripeError as exc:
            raise PaymentProviderUnavailable(
                f"Stripe refused to create the customer ({type(exc).__name__})."
            ) from exc
        return str(customer.id)

    async def create_intent(
        self, *, amount: int, currency: str, customer: str, metadata: dict[str, str], idempotency_key: str
    ) -> CreatedIntent:
        try:
            intent = await self._client.v1.payment_intents.create_async(
                {"amount": amount, "currency": currency.lower(), "customer": customer, "metadata": metadata},
                self._options(idempotency_key),
            )
        except stripe.StripeError as exc:
            raise PaymentProviderUnavailable(f"Stripe refused the payment ({type(exc).__name__}).") from exc
        return CreatedIntent(
            id=str(intent.id),
            client_secret=str(intent.client_secret),
            status=str(intent.status),
            amount=int(intent.amount),
            currency=str(intent.currency).upper(),
        )

    async def refund(self, *, payment_intent: str, amount: int, idempotency_key: str) -> str:
        try:
            refund = await self._client.v1.refunds.create_async(
                {"payment_intent": payment_intent, "amount": amount}, self._options(idempotency_key)
            )
        except stripe.StripeError as exc:
            raise PaymentProviderUnavailable(f"Stripe refused the refund ({type(exc).__name__}).") from exc
        return str(refund.id)

    async def intent_state(self, payment_intent: str) -> IntentState:
        try:
            intent = await self._client.v1.payment_intents.retrieve_async(payment_intent)
        except stripe.StripeError as exc:
            raise PaymentProviderUnavailable(
                f"Stripe did not return the payment ({type(exc).__name__})."
            ) from exc
        return IntentState(
            id=str(intent.id),
            status=str(intent.status),
            amount=int(intent.amount),
            currency=str(intent.currency).upper(),
        )

    async def create_invoice(
        self, *, customer: str, amount: int, currency: str, description: str, idempotency_key: str
    ) -> str:
        """An invoice sent to the customer for one line (contract fees); each step keyed by our record."""
        try:
            await self._client.v1.invoice_items.create_async(
                {
                    "customer": customer,
                    "amount": amount,
                    "currency": currency.lower(),
                    "description": description,
                },
                self._options(f"{idempotency_key}-item"),
            )
            invoice = await self._client.v1.invoices.create_async(
                {
                    "customer": customer,
                    "collection_method": "send_invoice",
                    "days_until_due": 14,
                    "pending_invoice_items_behavior": "include",
                },
                self._options(idempotency_key),
            )
        except stripe.StripeError as exc:
            raise PaymentProviderUnavailable(f"Stripe refused the invoice ({type(exc).__name__}).") from exc
        return str(invoice.id)
