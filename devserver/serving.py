"""What ``deskline serve`` runs beside the API in development: the Stripe and mail stand-ins (each on
its configured port, or a free one when that is taken) and the outbox worker, all ending with it. The
ports they took are handed to the app and the worker through the environment, and recorded for the
other ``deskline`` commands of the same database (``billing pay``, ``billing invoice``, ...)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from api.settings import Settings
from devserver import mail, processes, stripe
from devserver.processes import StandIn, StandInFailed

PORT_VARIABLES = {
    "stripe_stand_in_port": "DESKLINE_STRIPE_STAND_IN_PORT",
    "mail_stand_in_port": "DESKLINE_MAIL_STAND_IN_PORT",
}


@dataclass
class Running:
    """The development processes beside one server, and the settings they imply for it."""

    processes: list[StandIn] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)
    stripe_url: str | None = None
    record: Path | None = None

    @property
    def environment(self) -> dict[str, str]:
        """What the app (uvicorn's factory and workers) and the outbox worker must see."""
        return {PORT_VARIABLES[name]: str(port) for name, port in self.ports.items()}

    def stop(self) -> None:
        for running in self.processes:
            running.stop()
        if self.record is not None:
            processes.forget(self.record)


def start(settings: Settings, *, webhook_url: str, with_worker: bool, say: Callable[[str], None]) -> Running:
    """Start the stand-ins the settings call for, then (with ``with_worker``) the outbox worker."""
    running = Running()
    try:
        if settings.uses_stripe_stand_in:
            port = processes.port_for(settings, "stripe_stand_in_port")
            stand_in = stripe.start(port)
            running.processes.append(stand_in)
            running.ports["stripe_stand_in_port"], running.stripe_url = port, stand_in.url
            stripe.register_webhook(stand_in.url, webhook_url, settings.stripe_webhook_secret)
            say(
                f"Stripe stand-in (localstripe) on {stand_in.url}; pay a held booking with "
                "`deskline billing pay --booking ID`"
            )
        if settings.uses_mail_stand_in:
            port = processes.port_for(settings, "mail_stand_in_port")
            running.processes.append(mail.start(port, settings.mail_stand_in_dir))
            running.ports["mail_stand_in_port"] = port
            say(f"Mail stand-in on 127.0.0.1:{port}; messages in {settings.mail_stand_in_dir}/")
        if running.ports:
            running.record = processes.record(settings, running.ports)
        if with_worker:
            running.processes.append(_spawn_worker(running.environment))
            say("Outbox worker started beside the server (`deskline worker`)")
    except (StandInFailed, OSError):
        running.stop()
        raise
    return running


def _spawn_worker(environment: dict[str, str]) -> StandIn:
    """``deskline worker`` as a child process that ends with this one."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and CLI
        [sys.executable, "-m", "api.cli", "worker", "--exit-with-parent", str(os.getpid())],
        env={**os.environ, **environment},
    )
    return StandIn(process, "worker")


def with_running_stand_ins(settings: Settings) -> Settings:
    """The settings as the running server of this database sees them: the ports its stand-ins took
    (a port set explicitly stays as set)."""
    found = {
        name: port
        for name, port in processes.recorded(settings).items()
        if name in PORT_VARIABLES and name not in settings.model_fields_set
    }
    return settings.model_copy(update=found) if found else settings
