"""On PostgreSQL a waiting worker is woken by the commit of an event (LISTEN/NOTIFY), so a delivery
does not wait for the next poll; polling remains the fallback (and SQLite's only way)."""

from __future__ import annotations

import asyncio

import pytest

from core.outbox import emit
from notifications import outbox_commits
from support import EmailRejected
from tests.notifications.mailbox import Inbox, worker_for
from tests.world import World


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_waiting_worker_is_woken_by_the_commit_of_an_event(world: World, inbox: Inbox) -> None:
    worker = worker_for(world, inbox.port)
    stop = asyncio.Event()
    async with outbox_commits(world.ctx.settings.listen_dsn) as wake, world.sessions() as session:
        assert wake is not None
        # It would poll again only after a minute: a delivery within seconds means it was woken.
        running = asyncio.create_task(worker.run(session, stop, idle_seconds=60, wake=wake))
        await asyncio.sleep(0.3)  # the worker found nothing and waits
        async with world.sessions() as writer, writer.begin():
            sent = EmailRejected(sender="someone@example.com", subject="Hello", reason="unknown_sender")
            await emit(writer, sent, now=world.clock.now())
        try:
            async with asyncio.timeout(10):
                while not inbox.messages:  # noqa: ASYNC110 - the SMTP server keeps a list
                    await asyncio.sleep(0.05)
        finally:
            stop.set()
            await running
    assert [str(m["To"]) for m in inbox.messages] == ["someone@example.com"]


async def test_a_worker_that_cannot_listen_polls(world: World) -> None:
    async with outbox_commits("postgresql://nobody@127.0.0.1:1/none") as wake:
        assert wake is None
