"""The contract as integrators consume it: a Python client generated from openapi/openapi.json with
openapi-python-client (and openapi/python-client.yml) has every operation, with no warning, and its
generated calls work, the documents taken as raw bodies and as multipart file parts alike."""

from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from accounts.models import Purchase
from accounts.roles import Role, Scope
from api.cli import OPENAPI_PATH
from core.holidays import Holiday
from scheduling.models import BusySource
from support.models import Ticket
from tests.harness import ROOT
from tests.world import World

CONFIG = ROOT / "openapi" / "python-client.yml"
PACKAGE = "deskline_api_client"
SAMPLES = ROOT / "walkthroughs" / "samples"
BASE = "http://testserver.local"


def _operations() -> int:
    paths = json.loads(OPENAPI_PATH.read_text())["paths"]
    return sum(
        1 for item in paths.values() for method in item if method in {"get", "post", "put", "patch", "delete"}
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The client generated into a scratch folder, and what the generator said."""
    home = tmp_path_factory.mktemp("client")
    result = subprocess.run(  # noqa: S603 - the generator from this environment
        [
            str(Path(sys.executable).parent / "openapi-python-client"),
            "generate",
            "--path",
            str(OPENAPI_PATH),
            "--config",
            str(CONFIG),
            "--meta",
            "none",
            "--output-path",
            str(home / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(home))
    try:
        yield home / PACKAGE, result.stdout + result.stderr
    finally:
        sys.path.remove(str(home))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_the_generator_warns_of_nothing(generated: tuple[Path, str]) -> None:
    _, output = generated
    assert "warning" not in output.lower(), output


def test_every_operation_is_generated(generated: tuple[Path, str]) -> None:
    package, _ = generated
    modules = [p for p in (package / "api").rglob("*.py") if p.name != "__init__.py"]
    assert len(modules) == _operations()


def _endpoint(package: Path, operation: str) -> ModuleType:
    (found,) = [p for p in (package / "api").rglob(f"*_{operation}.py")]
    return importlib.import_module(f"{PACKAGE}.api.{found.parent.name}.{found.stem}")


def _client(world: World, token: str) -> Any:  # Any: the generated AuthenticatedClient
    client: Any = importlib.import_module(PACKAGE).AuthenticatedClient(  # Any: generated code
        base_url=BASE, token=token
    )
    # The generated calls go to the test app, with the token as the generated client would send it.
    client.set_async_httpx_client(
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=world.app),  # type: ignore[arg-type]  # Litestar's ASGI types
            base_url=BASE,
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    return client


def _file(content: bytes, name: str, media_type: str) -> Any:  # Any: the generated File
    return importlib.import_module(f"{PACKAGE}.types").File(
        payload=io.BytesIO(content), file_name=name, mime_type=media_type
    )


def _form(package: Path, operation: str, file: Any) -> Any:  # Any: a generated multipart body
    module = _endpoint(package, operation)
    (form,) = [c for n, c in vars(module).items() if n.endswith("FilesBody")]
    return form(file=file)


async def _count(world: World, model: Any) -> int:  # Any: a table model
    async with world.session() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the contract matters, not the database
async def test_holidays_import_as_a_raw_calendar_and_as_a_form_file(
    world: World, generated: tuple[Path, str]
) -> None:
    package, _ = generated
    lead, _ = await world.staff(Role.SUPPORT_LEAD)
    client = _client(world, await world.token_for(lead))
    ics = (SAMPLES / "production-calendar.ics").read_bytes()
    endpoint = _endpoint(package, "import_ics")
    # an async client sends the raw body from bytes (httpx refuses a sync stream there)
    raw_body = importlib.import_module(f"{PACKAGE}.types").File(payload=ics)
    raw = await endpoint.asyncio_detailed(client=client, body=raw_body)
    assert raw.status_code == 201, raw.content
    count = await _count(world, Holiday)
    form = _form(package, "import_ics", _file(ics, "c.ics", "text/calendar"))
    again = await endpoint.asyncio_detailed(client=client, body=form, calendar="second")
    assert again.status_code == 201, again.content
    assert await _count(world, Holiday) == 2 * count > 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_busy_calendars_import_as_a_form_file(world: World, generated: tuple[Path, str]) -> None:
    package, _ = generated
    engineer = await world.engineer()
    client = _client(world, await world.token_for(engineer))
    ics = (SAMPLES / "outlook.ics").read_bytes()
    form = _form(package, "import_busy", _file(ics, "outlook.ics", "text/calendar"))
    response = await _endpoint(package, "import_busy").asyncio_detailed(
        engineer.id, client=client, body=form, name="outlook"
    )
    assert response.status_code == 201, response.content
    assert await _count(world, BusySource) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_purchases_import_as_a_form_file(world: World, generated: tuple[Path, str]) -> None:
    package, _ = generated
    org = await world.organization()
    sales, _ = await world.staff(Role.SALES)
    client = _client(world, await world.token_for(sales))
    csv = (SAMPLES / "purchases.csv").read_text().replace("RUN", "generated").encode()
    form = _form(package, "import_purchases", _file(csv, "purchases.csv", "text/csv"))
    response = await _endpoint(package, "import_purchases").asyncio_detailed(org.id, client=client, body=form)
    assert response.status_code == 201, response.content
    assert await _count(world, Purchase) > 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_e_mail_arrives_as_a_form_file(world: World, generated: tuple[Path, str]) -> None:
    package, _ = generated
    _, contact, _ = await world.contact()
    gateway, _ = await world.integration(Scope.SUPPORT_INBOUND_EMAIL)
    client = _client(world, await world.client_token(gateway))
    mail = (
        f"From: {contact.email}\r\nTo: support@deskline.local\r\nSubject: Sync fails\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nTerminals stop syncing.\r\n"
    ).encode()
    form = _form(package, "inbound_email", _file(mail, "mail.eml", "message/rfc822"))
    response = await _endpoint(package, "inbound_email").asyncio_detailed(client=client, body=form)
    assert response.status_code == 201, response.content
    assert await _count(world, Ticket) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_form_without_the_file_part_is_refused_naming_it(world: World) -> None:
    _, headers = await world.staff(Role.SUPPORT_LEAD)
    response = await world.client.post(
        "/v1/calendars/holidays", files={"other": ("x.ics", b"x")}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert [e["field"] for e in response.json()["errors"]] == ["file"]
    assert await _count(world, Holiday) == 0
