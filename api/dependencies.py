"""Request-scoped dependencies shared by every controller."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import Actor
from api.context import AppContext


def provide_ctx(state: State) -> AppContext:
    ctx: AppContext = state.ctx
    return ctx


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """The caller the access guard authenticated; handlers asking for it require a token."""
    actor: Actor | None = getattr(request.state, "actor", None)
    if actor is None:
        raise NotAuthorizedException("This operation needs a bearer access token.")
    return actor


def client_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


# Explicit dependency markers for handler signatures (Litestar 3 drops inferred dependencies).
DB = NamedDependency[AsyncSession]
Ctx = NamedDependency[AppContext]
CurrentActor = NamedDependency[Actor]
