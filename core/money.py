"""Money is an integer of minor units with an ISO 4217 currency: never a float. Every amount the API
accepts has a documented ceiling that fits the 64-bit columns it is stored in, with room for sums."""

from __future__ import annotations

from typing import Annotated

import msgspec

# 10^13 minor units: a hundred billion roubles or dollars; a month's invoice sums a few of them well
# inside PostgreSQL's bigint (9.2 × 10^18).
MAX_MINOR = 10**13
MinorUnits = Annotated[
    int, msgspec.Meta(ge=0, le=MAX_MINOR, description="An amount in minor units (kopecks, cents)")
]
PositiveMinorUnits = Annotated[
    int, msgspec.Meta(gt=0, le=MAX_MINOR, description="An amount in minor units (kopecks, cents)")
]


def formatted(amount_minor: int, currency: str) -> str:
    """``12.50 RUB``: the amount with its two decimals, for people."""
    sign = "-" if amount_minor < 0 else ""
    whole, cents = divmod(abs(amount_minor), 100)
    return f"{sign}{whole}.{cents:02d} {currency}"
