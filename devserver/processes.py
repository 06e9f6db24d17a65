"""The stand-ins' processes: started on loopback, waited for, stopped with the server; which ports they
took, and where a running server recorded them for the other ``deskline`` commands of its database.

A stand-in listens on its configured port when that is free; in ``auto`` a taken port (another
``deskline serve`` on this machine) is no reason to fail: it takes any free port instead, unless the
port was set explicitly (``DESKLINE_*_STAND_IN_PORT``), which is then insisted on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from api.settings import Settings


class StandInFailed(RuntimeError):
    """A stand-in could not start (its port is taken, or what it runs is not installed)."""


@dataclass
class StandIn:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def listening(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port``. A probe of a port in the kernel's ephemeral range
    can be given that very port as its own and connect to itself (TCP's simultaneous open): that is
    nobody listening, and taking it for a started stand-in sent the next request to a closed port."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0 and probe.getsockname() != probe.getpeername()


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback port nothing listens on now, never one this process handed out before: the kernel
    may give the same free port to two probes in a row, and two stand-ins (or servers) told one port
    cannot both start. The benchmarks and the tests take their ports here too."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def port_for(settings: Settings, name: str) -> int:
    """The port a stand-in takes: the configured one when free or when set explicitly, else a free one."""
    configured: int = getattr(settings, name)
    if name in settings.model_fields_set or not listening(configured):
        return configured
    return free_port()


def wait_until_listening(
    process: subprocess.Popen[bytes], port: int, what: str, *, seconds: float = 30
) -> StandIn:
    """The started stand-in once it answers on ``port``; killed, and the reason raised, if it does not."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise StandInFailed(f"{what} exited: {error.strip().splitlines()[-1:] or 'no output'}")
        if listening(port):
            return StandIn(process, f"http://127.0.0.1:{port}")
        time.sleep(0.05)
    process.kill()
    raise StandInFailed(f"{what} did not answer on port {port} within {seconds:.0f} s")


def record_path(settings: Settings) -> Path:
    """Where a server records its stand-ins' ports: beside a SQLite database, else under ./var/ by the
    database URL's digest (each database has its own server)."""
    if (path := settings.sqlite_path) is not None:
        return Path(f"{path}.stand-ins.json")
    digest = hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]
    return Path("var") / f"stand-ins-{digest}.json"


def record(settings: Settings, ports: dict[str, int]) -> Path:
    """Note the ports this server's stand-ins took, for the commands run beside it."""
    path = record_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": os.getpid(), **ports}))
    return path


def recorded(settings: Settings) -> dict[str, int]:
    """The ports recorded by a server of this database that still runs (empty when none runs)."""
    path = record_path(settings)
    try:
        found = json.loads(path.read_text())
        os.kill(int(found.pop("pid")), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {str(name): int(port) for name, port in found.items()}


def forget(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
