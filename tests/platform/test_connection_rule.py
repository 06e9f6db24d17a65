"""The suite's own check of the connection rule can fail: a Stripe call made while a pooled connection
is held is refused by the wrapper every test app's gateway wears."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from litestar import Litestar

from tests.outside import OutsideCallWhileHoldingConnection


async def test_a_stripe_call_while_a_connection_is_held_fails_the_test(app: Litestar) -> None:
    engine = app.state.ctx.alchemy.get_engine()
    async with engine.connect() as connection:
        await connection.execute(sa.text("SELECT 1"))
        with pytest.raises(OutsideCallWhileHoldingConnection):
            await app.state.ctx.gateway.intent_state("pi_anything")
