"""What can go wrong with money, in domain words."""

from __future__ import annotations

from core.errors import DesklineError, InvalidInput


class PaymentProviderUnavailable(DesklineError):
    """Stripe did not accept the call; nothing was charged and the request changed nothing."""


class WebhookRejected(InvalidInput):
    """A webhook delivery whose signature, timestamp or body cannot be trusted."""
