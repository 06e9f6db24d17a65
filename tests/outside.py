"""The connection rule, checked from outside: whenever Deskline calls an outside service (Stripe, a
calendar URL), the app must hold no pooled connection at that moment (DESIGN.md)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar


def held_connections(app: Litestar) -> int:
    """Pooled connections of the app's engines checked out right now (in a test with one request in
    flight, any of them belongs to that request)."""
    ctx = app.state.ctx
    pools: list[Any] = [ctx.alchemy.get_engine().pool, ctx.read_engine.pool]  # Any: QueuePool
    return sum(int(pool.checkedout()) for pool in pools)


class OutsideCallWhileHoldingConnection(AssertionError):
    """A request called an outside service while holding a pooled connection."""


class CheckedGateway:
    """Wraps the app's payment gateway: every Stripe call first checks that nothing is held."""

    def __init__(self, inner: Any, app: Litestar) -> None:  # Any: a PaymentGateway
        self._inner = inner
        self._app = app

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        if not callable(found) or name.startswith("_"):
            return found

        async def checked(*args: Any, **kwargs: Any) -> Any:
            held = held_connections(self._app)
            if held:
                raise OutsideCallWhileHoldingConnection(
                    f"Stripe's {name} called with {held} connection(s) held"
                )
            return await found(*args, **kwargs)

        return checked
