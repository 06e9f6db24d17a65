"""Attachments of closed tickets are deleted after the regulation's retention period."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from api.cli import main
from api.settings import Settings
from support.retention import expired_attachments
from tests.support.helpers import file_ticket, upload
from tests.world import World


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def _closed_ticket_with_a_file(world: World) -> tuple[dict[str, Any], dict[str, str]]:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    await upload(world, headers, ticket["id"])
    await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/transitions", json={"to": "closed"}, headers=headers
    )
    return ticket, headers


async def test_files_are_kept_within_retention_and_expire_after_it(world: World) -> None:
    await _closed_ticket_with_a_file(world)
    closed = world.clock.now()
    async with world.session() as session:
        assert await expired_attachments(session, now=closed + timedelta(days=179)) == []
    async with world.session() as session:
        assert len(await expired_attachments(session, now=closed + timedelta(days=181))) == 1


async def test_purge_command_deletes_rows_then_files(world: World, settings: Settings) -> None:
    ticket, headers = await _closed_ticket_with_a_file(world)
    # The command reads the real clock, long after the test clock's closing date.
    result = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["support", "purge-attachments"],
        env={
            "DESKLINE_DATABASE_URL": settings.database_url,
            "DESKLINE_ATTACHMENTS_DIR": str(settings.attachments_dir),
            "DESKLINE_LOG_FORMAT": "json",
        },
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1]) == {"deleted": 1}
    assert _files(settings.attachments_dir) == []
    body = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=headers)).json()
    assert body["attachments"] == []


async def test_files_of_open_tickets_are_kept(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    await upload(world, headers, ticket["id"])
    async with world.session() as session:
        assert await expired_attachments(session, now=world.clock.now() + timedelta(days=3650)) == []
