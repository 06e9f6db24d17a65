"""The ``deskline`` command: serve, migrate, export the OpenAPI document, bootstrap users and keys."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import Role
from api.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from billing import StripeGateway

T = TypeVar("T")
OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction against the configured database.

    On SQLite the transaction takes the write lock when it begins, so a command run beside a busy
    server waits its turn (up to the busy timeout) instead of failing half-way with "locked".
    """
    return asyncio.run(_with_session(settings, lambda session: _committed(session, settings, work)))


async def _committed(
    session: AsyncSession, settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    from core.transactions import begin_request_transaction

    await begin_request_transaction(session, "POST", is_sqlite=settings.is_sqlite)
    try:
        result = await work(session)
    except BaseException:
        await session.rollback()
        raise
    await session.commit()
    return result


async def _with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from api.db import create_engine

    engine = create_engine(settings)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            return await work(session)
    finally:
        await engine.dispose()


def _gateway(settings: Settings) -> StripeGateway:
    from api.context import build_gateway

    return build_gateway(_with_stand_ins(settings))


def _with_stand_ins(settings: Settings) -> Settings:
    """In development, the ports the running server's stand-ins took (they may not be the configured
    ones: another server on this machine may have had those)."""
    if settings.environment != "development":
        return settings
    from devserver import with_running_stand_ins

    return with_running_stand_ins(settings)


class DesklineGroup(click.Group):
    """Failures a user can act on end in one line that says what to do, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise
        except Exception as exc:
            message = explain(exc)
            if message is None:
                raise
            raise click.ClickException(message) from exc


def explain(exc: BaseException) -> str | None:
    """A one-line explanation of a failure the operator can fix, or None for a real bug."""
    from sqlalchemy import exc as sa_exc

    from core.errors import DesklineError

    if isinstance(exc, SettingsError):
        return str(exc)
    if isinstance(exc, DesklineError):
        problems = "; ".join(f"{p.field}: {p.message}" for p in exc.errors)
        return f"{exc.detail} {problems}".strip()
    text = f"{exc} {getattr(exc, 'orig', '')}"
    if isinstance(exc, sa_exc.OperationalError) and "database is locked" in text:
        return (
            "the SQLite database stayed locked by another process longer than "
            "DESKLINE_SQLITE_BUSY_TIMEOUT_MS; retry, or raise the timeout"
        )
    if "no such table" in text or ("relation" in text and "does not exist" in text):
        return (
            "the database named in DESKLINE_DATABASE_URL has no Deskline schema yet (or an old one); "
            "run `deskline migrate` (or `make migrate`)"
        )
    if "does not exist" in text and "database" in text:
        return (
            "the PostgreSQL database named in DESKLINE_DATABASE_URL does not exist; create it "
            "(e.g. createdb -h 127.0.0.1 -U postgres deskline) and run `deskline migrate`"
        )
    # The database's errors only: another service that cannot be reached (an HTTP client's connect
    # error, say) is not the database, and blaming it sent the reader to look in the wrong place.
    if isinstance(exc, OSError | sa_exc.OperationalError | sa_exc.InterfaceError) or (
        isinstance(exc, sa_exc.DBAPIError) and "connect" in text.lower()
    ):
        return (
            f"cannot reach the database named in DESKLINE_DATABASE_URL ({type(exc).__name__}); is it running?"
        )
    return None


@click.group(cls=DesklineGroup)
def main() -> None:
    """Deskline: the support-services API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@click.option(
    "--with-worker/--without-worker",
    default=True,
    show_default=True,
    help="In development, also run the outbox worker beside the server.",
)
def serve(host: str, port: int, workers: int, reload: bool, with_worker: bool) -> None:
    """Serve the API with uvicorn (in development without Stripe keys, with a local Stripe stand-in)."""
    import os

    import uvicorn

    from api.logging import configure_logging

    settings = _settings()
    _preflight(settings)
    configure_logging(settings)
    running = None
    if settings.environment == "development":
        import devserver

        reachable = "127.0.0.1" if host in {"0.0.0.0", "::"} else host  # noqa: S104 - recognising, not binding
        try:
            running = devserver.start(
                settings,
                webhook_url=f"http://{reachable}:{port}/v1/billing/stripe/webhook",
                with_worker=with_worker,
                say=lambda line: click.echo(line, err=True),
            )
        except devserver.StandInFailed as exc:
            raise click.ClickException(f"a development stand-in could not start: {exc}") from exc
        # The app (here or in uvicorn's worker processes) must see the ports the stand-ins took.
        os.environ.update(running.environment)
        if running.stripe_url is not None:
            # The stand-in starts empty: customers recorded against an earlier run of it are gone there too.
            from billing import forget_customers

            _in_transaction(settings, forget_customers)
    try:
        uvicorn.run(
            "api.asgi:create",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            log_config=None,
            access_log=False,
            # Forwarded headers only from the proxies named in DESKLINE_TRUSTED_PROXIES (uvicorn would
            # otherwise believe any local client, which could then pick the address it is counted as).
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=settings.trusted_proxies or "",
        )
    finally:
        if running is not None:
            running.stop()


async def _stop_when_orphaned(stop: asyncio.Event, parent: int) -> None:
    """`deskline serve` may end without a chance to stop its worker (SIGKILL, or uvicorn re-raising
    SIGTERM): the worker notices it was orphaned and stops too. The parent's pid comes from the parent
    itself: read here, it would already be init's if the parent died while the worker was starting."""
    import os

    while not stop.is_set():
        if os.getppid() != parent:
            stop.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


def _preflight(settings: Settings) -> None:
    """Refuse to start, in one line, when a dependency the configuration names does not answer."""
    from api.throttle import LoginThrottle

    throttle = LoginThrottle(
        settings.rate_limit_storage,
        per_account=settings.login_limit_per_account,
        per_address=settings.login_limit_per_address,
    )
    if throttle.shared and not asyncio.run(throttle.check()):
        raise click.ClickException(
            f"DESKLINE_RATE_LIMIT_STORAGE: {settings.rate_limit_storage} does not answer; start Redis or "
            "point the variable at a reachable one (memory:// counts per process)"
        )


@main.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--exit-with-parent", type=int, default=None, hidden=True, help="Stop when the process of this pid ends."
)
def worker(once: bool, exit_with_parent: int | None) -> None:
    """Deliver the outbox: e-mail for every event, retried for three days, at least once."""
    import signal

    from api.context import build_keyring, worker_config
    from api.logging import configure_logging
    from core.time import SystemClock
    from notifications import Worker, WorkerLockHeld, outbox_commits, sqlite_worker_lock

    settings = _settings()
    configure_logging(settings)

    async def run(session: AsyncSession) -> None:
        delivering = Worker(worker_config(settings), SystemClock(), build_keyring(settings))
        if once:
            while await delivering.run_once(session):
                pass
            await delivering.close()
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        watch = asyncio.create_task(_stop_when_orphaned(stop, exit_with_parent)) if exit_with_parent else None
        if settings.is_sqlite:
            await delivering.run(session, stop)
        else:  # woken by PostgreSQL at each commit of events; polling stays as the fallback
            async with outbox_commits(settings.listen_dsn) as wake:
                await delivering.run(session, stop, idle_seconds=1.0 if wake else 0.25, wake=wake)
        if watch is not None:
            watch.cancel()

    try:
        with sqlite_worker_lock(settings.sqlite_path if settings.is_sqlite else None):
            asyncio.run(_with_session(settings, run))
    except WorkerLockHeld as exc:
        raise click.ClickException(str(exc)) from exc


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
    from accounts import create_user_with_organization
    from core.time import SystemClock

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    settings = _settings()
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
    click.echo(json.dumps({"id": str(user.id), "email": user.email, "role": user.role.value}))


@main.group()
def keys() -> None:
    """Manage the JWT signing keys."""


@keys.command("rotate")
def rotate_keys() -> None:
    """Create a new signing key; older keys stop signing but verify until their tokens expire."""
    from accounts import rotate_signing_key
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

    from billing import compare_with_stripe, our_payments

    settings = _settings()
    payments = _in_transaction(settings, our_payments)
    differences = asyncio.run(
        compare_with_stripe(payments, _gateway(settings))
    )  # no transaction open meanwhile
    click.echo(
        json.dumps({"checked": len(payments), "differences": [asdict(d) for d in differences]}, indent=2)
    )
    if differences and fail_on_difference:
        raise SystemExit(1)


@billing.command("pay")
@click.option("--booking", "booking_id", required=True, help="The booking (its id) whose payment to make.")
@click.option(
    "--wait", default=15.0, show_default=True, help="Seconds to wait for Stripe's webhook to confirm it."
)
def pay_booking(booking_id: str, wait: float) -> None:
    """Development only: pay a held booking with a test card through the Stripe stand-in, as the
    customer's browser would with the client secret, then wait for the webhook to confirm it."""
    import time
    import uuid

    from billing import payment_of_booking
    from devserver import pay_as_customer
    from scheduling import Booking

    settings = _with_stand_ins(_settings())
    if settings.environment == "production" or settings.stripe_base is None:
        raise click.ClickException(
            "`billing pay` drives the local Stripe stand-in; it is for development only"
        )
    try:
        key = uuid.UUID(booking_id)
    except ValueError as exc:
        raise click.ClickException(f"{booking_id!r} is not a booking id (a UUID)") from exc

    async def payment_intent(session: AsyncSession) -> str | None:
        payment = await payment_of_booking(session, key)
        return payment.stripe_payment_intent_id if payment is not None else None

    async def status(session: AsyncSession) -> str:
        booking = await session.get(Booking, key)
        return booking.status.value if booking is not None else "unknown"

    intent = _in_transaction(settings, payment_intent)
    if intent is None:
        raise click.ClickException(
            "this booking has no payment to make (no such booking, or no payment started)"
        )
    intent_status = pay_as_customer(settings.stripe_base, settings.stripe_secret_key, intent)
    deadline = time.monotonic() + wait
    current = _in_transaction(settings, status)
    while current == "pending_payment" and time.monotonic() < deadline:
        time.sleep(0.3)
        current = _in_transaction(settings, status)
    click.echo(
        json.dumps(
            {"booking_id": booking_id, "payment_intent": intent, "stripe": intent_status, "status": current}
        )
    )


@billing.command("settle-refunds")
def settle_refunds_command() -> None:
    """Ask Stripe again for refunds that are owed but not made yet (Stripe was unreachable)."""
    from api.context import build_keyring
    from billing import pending_refunds
    from core.time import SystemClock
    from flows import Outside, settle_refunds

    settings = _settings()
    outside = Outside(_gateway(settings), SystemClock(), build_keyring(settings), settings.is_sqlite)

    async def settle(session: AsyncSession) -> dict[str, int]:
        owed = await _committed(session, settings, pending_refunds)
        await settle_refunds(session, outside, owed)
        still = await _committed(session, settings, pending_refunds)
        return {"asked": len(owed), "still_pending": len(still)}

    click.echo(json.dumps(asyncio.run(_with_session(settings, settle))))


@billing.command("invoice")
@click.option("--period", required=True, help="The month to invoice, YYYY-MM (it must have ended).")
def invoice_command(period: str) -> None:
    """Invoice a month: one invoice per SLA contract in force (again: the same invoices, and the ones
    Stripe could not take yet are issued now)."""
    import re

    from core.time import SystemClock
    from flows import invoice_period

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise click.ClickException(f"--period {period!r} is not a month (YYYY-MM)")
    settings = _settings()

    async def run(session: AsyncSession) -> list[dict[str, object]]:
        found = await invoice_period(
            session, _gateway(settings), SystemClock(), period, is_sqlite=settings.is_sqlite
        )
        return [
            {
                "number": i.number,
                "status": i.status.value,
                "total_minor": i.total_minor,
                "error": i.last_error,
            }
            for i in found
        ]

    invoiced = asyncio.run(_with_session(settings, run))
    click.echo(json.dumps({"period": period, "invoices": invoiced}, indent=2))
    if any(i["status"] != "issued" for i in invoiced):
        raise SystemExit(1)


@main.group()
def support() -> None:
    """Basic-support housekeeping."""


@support.command("purge-attachments")
def purge_attachments() -> None:
    """Delete attachments of tickets closed longer ago than their regulation's retention period."""
    from core.storage import LocalStorage
    from core.time import SystemClock
    from support import expired_attachments

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

    from core.time import SystemClock
    from scheduling import destroy_expired_secrets

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
    from core.time import SystemClock
    from devserver import seed_demo

    settings = _settings()
    summary = _in_transaction(settings, lambda session: seed_demo(session, now=SystemClock().now()))
    click.echo(json.dumps(summary, indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
