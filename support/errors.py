"""What can go wrong in basic support, in domain words."""

from __future__ import annotations

from core.errors import Conflict, InvalidInput


class IllegalTransition(Conflict):
    """The ticket's lifecycle does not allow this move from its current state (or not for this caller)."""


class ExplanationTooEarly(Conflict):
    """The first-response deadline has not passed yet (or was met)."""


class AttachmentRejected(InvalidInput):
    """Empty, too large, or otherwise unacceptable file."""


class InboundEmailRejected(InvalidInput):
    """A forwarded e-mail that cannot become a ticket or a message."""


class UnknownSender(InboundEmailRejected):
    """No active user has the sender's address. The reply that tells the sender why (written to the
    outbox) must survive the refusal."""

    commit_before_raising = True
