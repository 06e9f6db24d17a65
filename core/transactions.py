"""Hooks on the request transaction: undo side effects outside the database when it rolls back."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

ROLLBACK_HOOKS = "deskline_on_rollback"


def on_rollback(session: AsyncSession, undo: Callable[[], None]) -> None:
    """Run ``undo`` if this session's transaction rolls back (e.g. delete a file it stored)."""
    session.info.setdefault(ROLLBACK_HOOKS, []).append(undo)


def run_rollback_hooks(session: AsyncSession) -> None:
    for undo in reversed(session.info.pop(ROLLBACK_HOOKS, [])):
        undo()


def forget_rollback_hooks(session: AsyncSession) -> None:
    session.info.pop(ROLLBACK_HOOKS, None)
