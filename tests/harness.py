"""Real processes and real sockets for tests and benchmarks that meet the service as outsiders do:
API servers as separate processes, a Stripe stand-in behind a proxy that adds latency, free ports."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devserver import free_port as free_port  # re-exported: the tests' ports
from devserver.stripe import LAUNCHER

ROOT = Path(__file__).resolve().parent.parent
LOCALSTRIPE = LAUNCHER  # the same stand-in `deskline serve` runs in development


def wait_for_port(port: int, *, seconds: float = 30, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process exited with {process.returncode} before listening on {port}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


@contextmanager
def localstripe() -> Iterator[str]:
    """A stateful fake Stripe (localstripe) on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter running a fixed snippet
        [sys.executable, "-c", LOCALSTRIPE, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class ServerProcess:
    """One ``deskline serve`` process on its own port."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def server_env(settings: Mapping[str, str]) -> dict[str, str]:
    """The environment of a server process: this one's, minus any DESKLINE_ setting, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKLINE_")}
    env.update(
        {
            "DESKLINE_LOG_FORMAT": "json",
            "DESKLINE_LOG_LEVEL": "WARNING",
            # Servers started side by side must not race for the stand-ins' fixed ports: a test that
            # wants them (the walkthroughs) turns them on with ports of its own.
            "DESKLINE_MAIL_STAND_IN": "off",
            "DESKLINE_STRIPE_STAND_IN": "off",
            **settings,
        }
    )
    return env


def development_env(database_url: str, home: Path) -> dict[str, str]:
    """The settings of `deskline serve` as `make run` starts it (development, no Stripe keys, no mail
    server), with the Stripe and mail stand-ins on free ports of their own and files under ``home``."""
    return {
        "DESKLINE_DATABASE_URL": database_url,
        "DESKLINE_ATTACHMENTS_DIR": str(home / "attachments"),
        "DESKLINE_STRIPE_STAND_IN": "auto",
        "DESKLINE_STRIPE_STAND_IN_PORT": str(free_port()),
        "DESKLINE_MAIL_STAND_IN": "auto",
        "DESKLINE_MAIL_STAND_IN_PORT": str(free_port()),
        "DESKLINE_MAIL_STAND_IN_DIR": str(home / "mail"),
    }


def _launch(settings: Mapping[str, str], port: int, *, worker: bool = False) -> ServerProcess:
    """``deskline serve`` on ``port``; with ``worker``, the outbox worker beside it as `make run` has."""
    log = Path(tempfile.mkstemp(prefix="deskline-server-", suffix=".log")[1])
    command = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and CLI
            [sys.executable, "-m", "api.cli", *command, "--with-worker" if worker else "--without-worker"],
            cwd=ROOT,
            env=server_env(settings),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return ServerProcess(process, f"http://127.0.0.1:{port}", log)


def _ready(server: ServerProcess) -> None:
    try:
        wait_for_port(int(server.url.rsplit(":", 1)[1]), process=server.process)
    except RuntimeError as exc:
        server.stop()
        raise RuntimeError(f"{exc}\n{server.output()}") from exc


def start_server(
    settings: Mapping[str, str], *, port: int | None = None, worker: bool = False
) -> ServerProcess:
    server = _launch(settings, port or free_port(), worker=worker)
    _ready(server)
    return server


@contextmanager
def servers(settings: Mapping[str, str], count: int) -> Iterator[list[ServerProcess]]:
    """``count`` server processes on one configuration, started side by side."""
    started = [_launch(settings, free_port()) for _ in range(count)]
    try:
        for server in started:
            _ready(server)
        yield started
    finally:
        for server in started:
            server.stop()


@dataclass
class DelayingProxy:
    """A TCP proxy to ``upstream`` that holds every request for ``delay`` seconds before passing it on
    (a slow Stripe). It runs its own event loop in a thread, so whatever the test's loop is doing
    (waiting on a test client, sending two hundred requests) it keeps answering."""

    upstream: str
    delay: float
    port: int = 0
    requests: int = 0
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    _server: asyncio.Server | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", self.port), self._loop
        ).result(10)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._loop is None:
            return
        server = self._server

        async def close() -> None:
            if server is not None:
                server.close()
            current = asyncio.current_task()
            for task in asyncio.all_tasks():
                if task is not current:
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop = self._server = None

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        host, port = httpx.URL(self.upstream).host, httpx.URL(self.upstream).port
        upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
        between_requests = asyncio.Event()
        between_requests.set()

        async def to_upstream() -> None:
            while data := await client_reader.read(65536):
                if between_requests.is_set():  # the first bytes of a request: Stripe is slow today
                    between_requests.clear()
                    self.requests += 1
                    await asyncio.sleep(self.delay)
                upstream_writer.write(data)
                await upstream_writer.drain()
            upstream_writer.close()

        async def to_client() -> None:
            while data := await upstream_reader.read(65536):
                between_requests.set()
                client_writer.write(data)
                await client_writer.drain()
            client_writer.close()

        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await asyncio.gather(to_upstream(), to_client())


@asynccontextmanager
async def delaying_proxy(upstream: str, delay: float) -> AsyncIterator[DelayingProxy]:
    proxy = DelayingProxy(upstream, delay)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def refused_port() -> int:
    """A loopback port nothing listens on (connections to it are refused at once)."""
    return free_port()


WATCHER = """
import json, sys, time
import httpx
urls, headers, stop_file = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
import os
latencies, failures = [], []
with httpx.Client(timeout=30) as client:
    n = 0
    while not os.path.exists(stop_file):
        url = urls[n % len(urls)]
        begun = time.perf_counter()
        try:
            answer = client.get(url, headers=headers)
            if answer.status_code != 200:
                failures.append(f"{url} -> {answer.status_code}")
        except httpx.HTTPError as exc:
            failures.append(f"{url} -> {type(exc).__name__}")
        latencies.append(time.perf_counter() - begun)
        n += 1
        time.sleep(0.02)
print(json.dumps({"latencies": latencies, "failures": failures}))
"""


@dataclass
class Watcher:
    """A separate process reading the API while something else loads it, so the reads are timed by a
    client that the load does not slow down itself."""

    process: subprocess.Popen[str]
    stop_file: Path

    def stop(self) -> tuple[list[float], list[str]]:
        import json

        self.stop_file.touch()
        out, _ = self.process.communicate(timeout=60)
        found = json.loads(out)
        return list(found["latencies"]), list(found["failures"])


def start_watcher(urls: list[str], headers: Mapping[str, str]) -> Watcher:
    import json

    stop_file = Path(tempfile.mkdtemp(prefix="deskline-watch-")) / "stop"
    process = subprocess.Popen(  # noqa: S603 - our own interpreter running a fixed snippet
        [sys.executable, "-c", WATCHER, json.dumps(urls), json.dumps(dict(headers)), str(stop_file)],
        stdout=subprocess.PIPE,
        text=True,
    )
    return Watcher(process, stop_file)
