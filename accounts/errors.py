"""What can go wrong with identities, organisations and eligibility, in domain words."""

from __future__ import annotations

from core.errors import Conflict, DesklineError, InvalidInput, PermissionDenied


class InvalidCredentials(DesklineError):
    """Login or client authentication failed; deliberately says not which part was wrong."""


class InvalidToken(DesklineError):
    """A bearer or refresh token that is expired, forged, revoked or unknown."""


class CsrfTokenInvalid(DesklineError):
    """A state change from a signed-in browser without its session's CSRF token."""


class LoginThrottled(DesklineError):
    """Too many login attempts for this account or from this address."""


class ThrottleUnavailable(DesklineError):
    """The store that counts login attempts does not answer; logins wait rather than go unchecked."""


class EmailTaken(Conflict):
    pass


class DuplicatePurchase(Conflict):
    pass


class PurchaseImportFailed(InvalidInput):
    """A bulk purchase file had bad rows; nothing was imported."""


class InvalidSupportContact(InvalidInput):
    """The named user cannot be the designated support contact (other org, inactive, staff)."""


class NoSupportContact(PermissionDenied):
    """The organisation has not named its designated support contact yet."""


class NotSupportContact(PermissionDenied):
    """Someone other than the designated support contact tried to use free support."""


class NotEligible(PermissionDenied):
    """The organisation has no purchase record, so basic support is not available to it."""
