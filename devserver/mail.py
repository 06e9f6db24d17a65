"""A local mail server for development (aiosmtpd on loopback): every message the worker sends is kept
as a file (``<dir>/<time>.eml``) to open with any mail reader. It ends with the process that started
it. Production never uses it (its SMTP settings are not the development defaults)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from devserver.processes import StandIn, StandInFailed, listening, wait_until_listening

LAUNCHER = (
    "import os, sys, threading, time, pathlib\n"
    "from aiosmtpd.controller import Controller\n"
    "folder = pathlib.Path(sys.argv[2]); folder.mkdir(parents=True, exist_ok=True)\n"
    "class Keep:\n"
    "    async def handle_DATA(self, server, session, envelope):\n"
    "        (folder / f'{time.time_ns()}.eml').write_bytes(envelope.original_content or envelope.content)\n"
    "        return '250 Message kept'\n"
    "controller = Controller(Keep(), hostname='127.0.0.1', port=int(sys.argv[1]))\n"
    "controller.start()\n"
    "parent = os.getppid()\n"
    "while os.getppid() == parent:\n"
    "    time.sleep(0.5)\n"
    "controller.stop()\n"
)


def start(port: int, folder: Path) -> StandIn:
    """Run the stand-in on 127.0.0.1:``port``, keeping messages in ``folder``, and wait until it answers."""
    if listening(port):
        raise StandInFailed(
            f"port {port} is taken; set DESKLINE_MAIL_STAND_IN_PORT to a free one, or leave it unset"
        )
    try:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter running a fixed snippet
            [sys.executable, "-c", LAUNCHER, str(port), str(folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise StandInFailed(str(exc)) from exc
    return wait_until_listening(process, port, "the mail stand-in")
