"""Attachments: streamed to storage with their SHA-256, refused cleanly, served only to the parties."""

from __future__ import annotations

import hashlib
from pathlib import Path

from litestar.testing import AsyncTestClient

from accounts.roles import Role
from api.app import create_app
from api.settings import Settings
from tests.support.helpers import file_ticket, upload
from tests.world import World


def _stored_files(world: World) -> list[Path]:
    root = world.ctx.settings.attachments_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_upload_records_size_and_sha256_and_downloads_back(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    content = b"SQLite format 3\x00" + bytes(range(256)) * 40
    response = await upload(world, headers, ticket["id"], content=content)
    assert response.status_code == 201
    body = response.json()
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["size_bytes"] == len(content)
    download = await world.client.get(
        f"/v1/support/tickets/{ticket['id']}/attachments/{body['id']}", headers=headers
    )
    assert download.content == content
    assert "attachment" in download.headers["content-disposition"]


async def test_path_traversal_filename_is_sanitised(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    response = await upload(world, headers, ticket["id"], filename="../../etc/passwd", kind="other")
    assert response.json()["filename"] == "passwd"
    assert not (world.ctx.settings.attachments_dir.parent / "etc").exists()


async def test_empty_file_is_refused_and_leaves_nothing(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    response = await upload(world, headers, ticket["id"], content=b"")
    assert response.status_code == 422
    assert response.json()["code"] == "attachment_rejected"
    assert _stored_files(world) == []
    body = (await world.client.get(f"/v1/support/tickets/{ticket['id']}", headers=headers)).json()
    assert body["attachments"] == []


async def test_file_over_the_limit_is_refused_and_leaves_nothing(world: World, settings: Settings) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    small = settings.model_copy(update={"attachment_max_bytes": 1024})
    async with AsyncTestClient(app=create_app(small, clock=world.clock, configure_logs=False)) as client:
        response = await client.post(
            f"/v1/support/tickets/{ticket['id']}/attachments",
            files={"file": ("big.db", b"x" * 5000, "application/octet-stream")},
            data={"kind": "device_database"},
            headers=headers,
        )
    assert response.status_code == 422
    assert response.json()["limit_bytes"] == 1024
    assert _stored_files(world) == []


async def test_upload_to_another_organizations_ticket_is_404_and_leaves_nothing(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    _, _, stranger = await world.contact()
    response = await upload(world, stranger, ticket["id"])
    assert response.status_code == 404
    assert _stored_files(world) == []


async def test_unknown_kind_is_refused(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    response = await upload(world, headers, ticket["id"], kind="selfie")
    assert response.status_code == 422
    assert _stored_files(world) == []


async def test_not_multipart_is_refused(world: World) -> None:
    _, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    response = await world.client.post(
        f"/v1/support/tickets/{ticket['id']}/attachments", json={"file": "x"}, headers=headers
    )
    assert response.status_code == 422


async def test_colleague_in_the_organization_may_download_but_outsiders_may_not(world: World) -> None:
    org, _, headers = await world.contact()
    ticket = await file_ticket(world, headers)
    attachment = (await upload(world, headers, ticket["id"])).json()
    colleague = await world.headers(await world.user(Role.CUSTOMER_USER, org))
    _, _, stranger = await world.contact()
    url = f"/v1/support/tickets/{ticket['id']}/attachments/{attachment['id']}"
    assert (await world.client.get(url, headers=colleague)).status_code == 200
    assert (await world.client.get(url, headers=stranger)).status_code == 404
