"""What can go wrong with SLA contracts, in domain words."""

from __future__ import annotations

from core.errors import Conflict, InvalidInput, PermissionDenied


class ContractNotDraft(Conflict):
    """Only a draft is edited in place; an active contract changes through amendments."""


class ContractsOverlap(Conflict):
    """The organisation already has an active contract on some of these days."""


class ContractIncomplete(InvalidInput):
    """Activation or an amendment needs complete terms; the problem lists every field that is missing."""


class IllegalContractTransition(Conflict):
    """The lifecycle does not allow this now (e.g. terminating a draft, amending an expired contract)."""


class ContractNotInForce(Conflict):
    """SLA tickets are filed only under a contract in force today."""


class NotCovered(PermissionDenied):
    """The user is not among those the contract covers."""


class IncludedHoursExhausted(Conflict):
    """The month's included session minutes are booked and the contract refuses overage."""
