"""What can go wrong with money, in domain words."""

from __future__ import annotations

from typing import Any

from core.errors import Conflict, DesklineError, InvalidInput


class PaymentProviderUnavailable(DesklineError):
    """Stripe did not complete the call. ``reached``: Stripe may have received it (it timed out after
    sending, or Stripe answered with an error); ``definitive``: Stripe refused it for good."""

    def __init__(
        self, detail: str, *, reached: bool = True, definitive: bool = False, **context: Any
    ) -> None:
        super().__init__(detail, **context)
        self.reached = reached
        self.definitive = definitive


class WebhookRejected(InvalidInput):
    """A webhook delivery whose signature, timestamp or body cannot be trusted."""


class PaymentRefused(Conflict):
    """Stripe refused the operation for good (e.g. the charge was already refunded there)."""
