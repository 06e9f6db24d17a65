"""The ``deskline`` command: serve, migrate, export the OpenAPI document, bootstrap users and keys."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from api.settings import Settings, SettingsError, load_settings

T = TypeVar("T")
OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction against the configured database."""
    from api.db import create_engine

    async def run() -> T:
        engine = create_engine(settings)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@click.group()
def main() -> None:
    """Deskline: the support-services API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, workers: int, reload: bool) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    from api.logging import configure_logging

    settings = _settings()
    configure_logging(settings)
    uvicorn.run(
        "api.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_config=None,
        access_log=False,
    )


@main.command()
@click.option("--revision", default="head", show_default=True)
def migrate(revision: str) -> None:
    """Upgrade the database schema (default: to the newest revision)."""
    from api.migrations import upgrade

    settings = _settings()
    upgrade(settings, revision)
    click.echo(f"database migrated to {revision}")


@main.command()
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), default=OPENAPI_PATH, show_default=True
)
def openapi(output: Path) -> None:
    """Write the OpenAPI document the app serves at /schema/openapi.json."""
    from api.openapi_export import openapi_document

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(openapi_document() + "\n")
    click.echo(f"wrote {output}")


@main.group()
def users() -> None:
    """Manage users from the command line (bootstrap the first admin)."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--full-name", default=None, help="Defaults to the part of the e-mail before @.")
@click.option("--organization", default=None, help="Organization name; created if it does not exist.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(
    email: str, role: str, full_name: str | None, organization: str | None, password_stdin: bool
) -> None:
    """Create a user (for example the first admin)."""
    from accounts.bootstrap import create_user_with_organization
    from core.errors import DesklineError
    from core.time import SystemClock

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    settings = _settings()
    try:
        user = _in_transaction(
            settings,
            lambda session: create_user_with_organization(
                session,
                email=email,
                role=Role(role),
                full_name=full_name or email.split("@")[0],
                password=password,
                organization_name=organization,
                now=SystemClock().now(),
            ),
        )
    except DesklineError as exc:
        problems = "; ".join(f"{p.field}: {p.message}" for p in exc.errors)
        raise click.ClickException(f"{exc.detail} {problems}".strip()) from exc
    click.echo(json.dumps({"id": str(user.id), "email": user.email, "role": user.role.value}))


@main.group()
def keys() -> None:
    """Manage the JWT signing keys."""


@keys.command("rotate")
def rotate_keys() -> None:
    """Create a new signing key; older keys stop signing but verify until their tokens expire."""
    from accounts.signing import rotate_signing_key
    from api.context import build_keyring
    from core.time import SystemClock

    settings = _settings()
    row = _in_transaction(
        settings,
        lambda session: rotate_signing_key(session, build_keyring(settings), now=SystemClock().now()),
    )
    click.echo(json.dumps({"kid": row.kid}))


@main.group()
def billing() -> None:
    """Billing housekeeping."""


@billing.command("reconcile")
@click.option("--fail-on-difference", is_flag=True, help="Exit with status 1 when anything differs.")
def reconcile_payments(fail_on_difference: bool) -> None:
    """Compare our payments with Stripe's PaymentIntents and report the differences."""
    from dataclasses import asdict

    from billing.gateway import StripeGateway
    from billing.reconcile import reconcile

    settings = _settings()
    gateway = StripeGateway(settings.stripe_secret_key, settings.stripe_api_base)
    checked, differences = _in_transaction(settings, lambda session: reconcile(session, gateway))
    click.echo(json.dumps({"checked": checked, "differences": [asdict(d) for d in differences]}, indent=2))
    if differences and fail_on_difference:
        raise SystemExit(1)


@main.group()
def support() -> None:
    """Basic-support housekeeping."""


@support.command("purge-attachments")
def purge_attachments() -> None:
    """Delete attachments of tickets closed longer ago than their regulation's retention period."""
    from core.storage import LocalStorage
    from core.time import SystemClock
    from support.retention import expired_attachments

    settings = _settings()
    keys = _in_transaction(settings, lambda session: expired_attachments(session, now=SystemClock().now()))
    storage = LocalStorage(settings.attachments_dir)
    for key in keys:  # only once the rows are gone for good
        storage.delete(key)
    click.echo(json.dumps({"deleted": len(keys)}))


@main.group()
def scheduling() -> None:
    """Scheduling housekeeping."""


@scheduling.command("purge-secrets")
def purge_secrets() -> None:
    """Destroy access secrets of sessions that ended longer ago than the retention (also done on read)."""
    from datetime import timedelta

    from core.time import SystemClock
    from scheduling.preconditions import destroy_expired_secrets

    settings = _settings()
    retention = timedelta(days=settings.precondition_secret_retention_days)
    count = _in_transaction(
        settings,
        lambda session: destroy_expired_secrets(session, now=SystemClock().now(), retention=retention),
    )
    click.echo(json.dumps({"destroyed": count}))


@main.command("seed-demo")
def seed_demo() -> None:
    """Load a small, realistic data set to try the API (idempotent)."""
    from api.demo import seed
    from core.time import SystemClock

    settings = _settings()
    summary = _in_transaction(settings, lambda session: seed(session, now=SystemClock().now()))
    click.echo(json.dumps(summary, indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
