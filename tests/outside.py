"""The connection rule, checked from outside: whenever Deskline calls an outside service (Stripe, a
calendar URL), the app must hold no pooled connection at that moment (DESIGN.md)."""

from __future__ import annotations

import json
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


class ContractCheck:
    """Wraps a test app: every response's status, and a problem's code, must be documented for its
    operation in the OpenAPI document. Violations are collected; the app fixture fails the test."""

    def __init__(self, app: Any, documented: dict[tuple[str, str], dict[int, set[str] | None]]) -> None:
        self.app = app
        self.documented = documented
        self.violations: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:  # Any: ASGI types
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen: dict[str, Any] = {"status": None, "problem": False}
        body = bytearray()

        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                seen["problem"] = headers.get(b"content-type", b"").startswith(b"application/problem+json")
            elif message["type"] == "http.response.body" and seen["problem"]:
                body.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, watch)
        self._check(str(scope.get("method")), scope.get("path_template"), seen["status"], bytes(body))

    def _check(self, method: str, template: str | None, status: int | None, body: bytes) -> None:
        responses = self.documented.get((method, template or ""))
        if responses is None or status is None:
            return  # not an operation of the document (an unknown address, the docs pages)
        if status not in responses:
            self.violations.append(f"{method} {template} answered {status}, which is not documented")
            return
        codes = responses[status]
        if codes is not None and body:
            code = json.loads(body).get("code")
            if code not in codes:
                self.violations.append(
                    f"{method} {template} answered {status} {code}, documented: {sorted(codes)}"
                )
