"""Billing: money through Stripe. Checkout for holds (prepare, start, record, abandon), payments and
refunds, monthly invoices, Stripe's signed webhooks and reconciliation, the gateway with its circuit
breaker, and the events the line raises. It knows bookings only by id and nothing of tickets.

This module is the part's public surface: the other parts import from ``billing`` only, never from
its modules (an import contract in pyproject.toml holds that)."""

from billing.breaker import CircuitBreaker, CircuitState
from billing.checkout import (
    PaymentPlan,
    abandon_checkout,
    forget_customers,
    payment_of_booking,
    payment_view,
    plan_of,
    prepare_checkout,
    record_payment,
    start_checkout,
)
from billing.errors import PaymentProviderUnavailable, PaymentRefused, WebhookRejected
from billing.gateway import PaymentGateway, StripeGateway, StripeLimits
from billing.invoices import (
    ChargeLine,
    get_invoice,
    invoice_csv,
    issue_invoice,
    lines_of,
    list_invoices,
    pending_plans,
    record_invoice,
    record_issue,
    recorded_for,
)
from billing.models import Invoice, InvoiceStatus, Payment, RefundStatus
from billing.notices import InvoiceIssued
from billing.payments import list_payments, payment_states, refunds_of
from billing.reconcile import compare_with_stripe, our_payments
from billing.refunds import (
    locked_payment,
    order_for,
    pending_refunds,
    record_failure,
    record_sent,
    refund_cancelled_booking,
    refund_payment,
    refund_with_payment,
    send_refund,
)
from billing.schemas import (
    InvoiceLineOut,
    InvoiceOut,
    InvoiceRunIn,
    PaymentOut,
    RefundIn,
    RefundOut,
    WebhookAck,
)
from billing.webhooks import receive_stripe_event, verify_stripe_signature

__all__ = [
    "ChargeLine",
    "CircuitBreaker",
    "CircuitState",
    "Invoice",
    "InvoiceIssued",
    "InvoiceLineOut",
    "InvoiceOut",
    "InvoiceRunIn",
    "InvoiceStatus",
    "Payment",
    "PaymentGateway",
    "PaymentOut",
    "PaymentPlan",
    "PaymentProviderUnavailable",
    "PaymentRefused",
    "RefundIn",
    "RefundOut",
    "RefundStatus",
    "StripeGateway",
    "StripeLimits",
    "WebhookAck",
    "WebhookRejected",
    "abandon_checkout",
    "compare_with_stripe",
    "forget_customers",
    "get_invoice",
    "invoice_csv",
    "issue_invoice",
    "lines_of",
    "list_invoices",
    "list_payments",
    "locked_payment",
    "order_for",
    "our_payments",
    "payment_of_booking",
    "payment_states",
    "payment_view",
    "pending_plans",
    "pending_refunds",
    "plan_of",
    "prepare_checkout",
    "receive_stripe_event",
    "record_failure",
    "record_invoice",
    "record_issue",
    "record_payment",
    "record_sent",
    "recorded_for",
    "refund_cancelled_booking",
    "refund_payment",
    "refund_with_payment",
    "refunds_of",
    "send_refund",
    "start_checkout",
    "verify_stripe_signature",
]
