"""A served Deskline as `make run` serves it (development: the Stripe and mail stand-ins, the outbox
worker, seed-demo's people) with its own database of each backend, and Debian's Chromium driven by
Playwright. Each test gets a fresh browser context; when one fails, the screenshots of the key pages
it passed (and of where it stopped) are written to test-results/portal/<test>/."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from api.migrations import upgrade
from api.settings import load_settings
from tests.conftest import BACKENDS, TEST_DATABASE, recreate_postgres_database
from tests.harness import ROOT, ServerProcess, development_env, server_env, start_server

CHROMIUM = os.environ.get("DESKLINE_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-results" / "portal"
PASSWORD = "deskline-demo-password"  # seed-demo's
CONTACT = "it@romashka.example"  # Romashka's designated contact (eligible through a purchase)


@dataclass
class Portal:
    server: ServerProcess
    mail: Path
    backend: str
    database_url: str

    @property
    def url(self) -> str:
        return f"{self.server.url}/portal"

    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, email: str) -> dict[str, str]:
        """A bearer token of ``email``, signed in once per served Deskline (signing in for every call
        would meet the per-account login limit)."""
        if email not in self.tokens:
            response = httpx.post(
                f"{self.server.url}/v1/auth/login", json={"email": email, "password": PASSWORD}
            )
            response.raise_for_status()
            self.tokens[email] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[email]}"}

    def api(self, method: str, path: str, email: str, **kwargs: Any) -> Any:  # Any: JSON answers
        response = httpx.request(
            method, f"{self.server.url}{path}", headers=self.token(email), timeout=30, **kwargs
        )
        assert response.status_code < 300, response.text
        return response.json() if response.content else None


# Module-scoped: sync Playwright keeps an event loop running in this thread while it lives, which the
# other tests of this process (pytest-asyncio) must not meet.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (or set DESKLINE_TEST_CHROMIUM)")
    launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    yield launched
    launched.close()


def _serve(backend: str, home: Path) -> Portal:
    """`deskline serve` in development on a database of its own, with seed-demo's data."""
    url = f"sqlite+aiosqlite:///{home / 'portal.db'}"
    with ThreadPoolExecutor(1) as thread:  # away from Playwright's loop, should it be running already
        if backend == "postgresql":
            url = thread.submit(asyncio.run, recreate_postgres_database(f"{TEST_DATABASE}_portal")).result()
        thread.submit(upgrade, load_settings(database_url=url)).result()
    env = development_env(url, home)
    subprocess.run(
        [sys.executable, "-m", "api.cli", "seed-demo"],
        cwd=ROOT,
        env=server_env(env),
        check=True,
        capture_output=True,
    )
    return Portal(start_server(env, worker=True), home / "mail", backend, url)


@pytest.fixture(scope="session")
def served() -> Iterator[dict[str, Portal]]:
    """One served Deskline per backend for the whole run, started when a test first needs it (so the
    order the tests come in does not matter)."""
    running: dict[str, Portal] = {}
    try:
        yield running
    finally:
        for portal in running.values():
            portal.server.stop()


@pytest.fixture(params=BACKENDS)
def portal(
    request: pytest.FixtureRequest, served: dict[str, Portal], tmp_path_factory: pytest.TempPathFactory
) -> Portal:
    backend: str = request.param
    if backend not in served:
        served[backend] = _serve(backend, tmp_path_factory.mktemp(f"portal-{backend}"))
    return served[backend]


@dataclass
class Shots:
    """Screenshots of the key pages a journey reached, written out only if the test fails."""

    taken: list[tuple[str, bytes]] = field(default_factory=list)

    def take(self, page: Page, name: str) -> None:
        self.taken.append((name, page.screenshot(full_page=True)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:  # Any: pluggy's report
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def shots() -> Shots:
    return Shots()


def _open(browser: Browser, request: pytest.FixtureRequest, shots: Shots, **context: Any) -> Iterator[Page]:
    opened = browser.new_context(**context)
    opened.set_default_timeout(20_000)
    page = opened.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        if request.node.stash.get(FAILED, False):
            folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            for number, (name, png) in enumerate(shots.taken, start=1):
                (folder / f"{number:02d}-{name}.png").write_bytes(png)
            page.screenshot(path=str(folder / "99-where-it-stopped.png"), full_page=True)
        opened.close()
    assert not errors, f"the page raised: {errors}"


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, shots: Shots) -> Iterator[Page]:
    """An English-speaking browser in Berlin (the API's calendars are in Moscow)."""
    yield from _open(browser, request, shots, locale="en-GB", timezone_id="Europe/Berlin")


@pytest.fixture
def russian_page(browser: Browser, request: pytest.FixtureRequest, shots: Shots) -> Iterator[Page]:
    yield from _open(browser, request, shots, locale="ru-RU", timezone_id="Asia/Yekaterinburg")


def sign_in(page: Page, portal: Portal, email: str = CONTACT) -> None:
    page.goto(portal.url)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#eligibility").wait_for()
