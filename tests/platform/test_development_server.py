"""`deskline serve` in development on a machine where another one runs: each server's stand-ins take
free ports when the configured ones are taken, and the commands run beside a server find its own."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from api.settings import load_settings
from devserver import StandInFailed, listening, processes, stripe
from devserver.processes import recorded
from tests.harness import ROOT, server_env, start_server


def _development(database: Path, home: Path) -> dict[str, str]:
    """`make run`'s settings with no stand-in port given: the stand-ins choose."""
    return {
        "DESKLINE_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "DESKLINE_ATTACHMENTS_DIR": str(home / "attachments"),
        "DESKLINE_STRIPE_STAND_IN": "auto",
        "DESKLINE_MAIL_STAND_IN": "auto",
        "DESKLINE_MAIL_STAND_IN_DIR": str(home / "mail"),
    }


@pytest.mark.serial
def test_two_development_servers_each_run_their_own_stand_ins(sqlite_template: Path, tmp_path: Path) -> None:
    envs = []
    for name in ("first", "second"):
        shutil.copyfile(sqlite_template, tmp_path / f"{name}.db")
        envs.append(_development(tmp_path / f"{name}.db", tmp_path / name))
    first = start_server(envs[0])
    try:
        second = start_server(envs[1])
        try:
            records = [
                json.loads((tmp_path / f"{n}.db.stand-ins.json").read_text()) for n in ("first", "second")
            ]
            ports = [(r["stripe_stand_in_port"], r["mail_stand_in_port"]) for r in records]
            assert len({p for pair in ports for p in pair}) == 4, ports
            assert all(listening(p) for pair in ports for p in pair)
            reconcile = subprocess.run(
                [sys.executable, "-m", "api.cli", "billing", "reconcile"],
                cwd=ROOT,
                env=server_env(envs[1]),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert reconcile.returncode == 0, reconcile.stderr  # it reached the second server's stand-in
        finally:
            second.stop()
    finally:
        first.stop()
    # a stopped server's record names nothing running (uvicorn ends on SIGTERM before any cleanup of ours)
    assert recorded(load_settings(database_url=envs[0]["DESKLINE_DATABASE_URL"])) == {}


def test_a_free_port_is_never_handed_out_twice_even_when_the_kernel_offers_it_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    offered = iter([41001, 41001, 41002])  # the kernel gives one free port to two probes in a row

    class Probe:
        def __enter__(self) -> Probe:
            return self

        def __exit__(self, *_: object) -> None:
            return None

        def bind(self, _: tuple[str, int]) -> None:
            return None

        def getsockname(self) -> tuple[str, int]:
            return ("127.0.0.1", next(offered))

    monkeypatch.setattr("devserver.processes.socket.socket", Probe)
    monkeypatch.setattr(processes, "_HANDED_OUT", set())
    assert [processes.free_port(), processes.free_port()] == [41001, 41002]


def test_a_probe_that_connects_to_itself_is_not_taken_for_a_listener(monkeypatch: pytest.MonkeyPatch) -> None:
    port = processes.free_port()
    unpatched = socket.socket

    def given_the_probed_port(*args: Any) -> socket.socket:
        # What the kernel may do by chance for a port in its ephemeral range: give the probe that very
        # port as its own, so that it connects to itself (TCP's simultaneous open).
        probe = unpatched(*args)
        probe.bind(("127.0.0.1", port))
        return probe

    monkeypatch.setattr("devserver.processes.socket.socket", given_the_probed_port)
    assert not listening(port)


def test_a_stripe_stand_in_that_refuses_its_webhook_configuration_is_a_stand_in_failure() -> None:
    with pytest.raises(StandInFailed, match="refused its webhook configuration"):
        stripe.register_webhook(
            f"http://127.0.0.1:{processes.free_port()}", "http://127.0.0.1:1/hook", "whsec"
        )
