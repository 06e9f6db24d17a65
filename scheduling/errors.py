"""What can go wrong when scheduling remote sessions, in domain words."""

from __future__ import annotations

from core.errors import Conflict, InvalidInput


class SlotTaken(Conflict):
    """Nobody qualified is free at that time (any more); the problem lists the next free slots."""


class SlotNotOffered(InvalidInput):
    """The start is in the past, too soon, off the grid, or outside working hours."""


class IllegalBookingTransition(Conflict):
    """The booking's lifecycle does not allow this now."""


class CalendarImportFailed(InvalidInput):
    """An ICS file or URL that cannot be imported."""
