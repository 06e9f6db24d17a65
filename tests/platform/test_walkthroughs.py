"""The README's walkthroughs are scripts in the repository; they run top to bottom against a served API
(`deskline serve` in development, with its own Stripe stand-in) on both databases, and the README
shows exactly these scripts."""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devserver import listening
from tests.harness import ROOT, ServerProcess, development_env, server_env, start_server

WALKTHROUGHS = sorted((ROOT / "walkthroughs").glob("[0-9]-*.sh"))
README = ROOT / "README.md"


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    """`deskline serve` as `make run` starts it: development defaults, no Stripe keys (so the stand-in)."""
    env = development_env(database_url, tmp_path)
    server = start_server(env, worker=True)
    try:
        yield server, env
    finally:
        server.stop()


def _run(script: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own scripts
        ["bash", str(script.relative_to(ROOT))],  # noqa: S607 - bash from PATH, as the README runs it
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _kept(state: Path) -> dict[str, str]:
    """What the walkthroughs kept (the last value of each name wins, as when the shell sources it)."""
    kept: dict[str, str] = {}
    for line in state.read_text().splitlines():
        name, _, value = line.partition("=")
        kept[name] = shlex.split(value)[0] if value else ""
    return kept


def test_the_walkthroughs_run_end_to_end_booking_paying_refunding_and_contracting(
    served: tuple[ServerProcess, dict[str, str]], tmp_path: Path
) -> None:
    server, settings = served
    state = tmp_path / "walkthrough.env"
    env = {**server_env(settings), "DESKLINE_URL": server.url, "WALKTHROUGH_STATE": str(state)}
    for script in WALKTHROUGHS:
        result = _run(script, env)
        output = "\n".join((result.stdout[-3000:], result.stderr[-3000:], server.output()[-3000:]))
        assert result.returncode == 0, f"{script.name} stopped:\n{output}"
    kept = _kept(state)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        login = client.post(
            "/v1/auth/login", json={"email": kept["CONTACT_EMAIL"], "password": "another-long-password"}
        )
        customer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        booking = client.get(f"/v1/bookings/{kept['BOOKING']}", headers=customer).json()
        payments = client.get("/v1/payments", params={"booking_id": kept["BOOKING"]}, headers=customer).json()
        ticket = client.get(f"/v1/support/tickets/{kept['TICKET']}", headers=customer).json()
        contract = client.get(f"/v1/contracts/{kept['CONTRACT']}", headers=customer).json()
        invoices = client.get("/v1/invoices", headers=customer).json()["items"]
        sla_ticket = client.get(
            f"/v1/contracts/{kept['CONTRACT']}/tickets/{kept['SLA_TICKET']}", headers=customer
        ).json()
    assert booking["status"] == "cancelled"
    assert booking["cancellation_refund"] == "full"
    (payment,) = payments["items"]
    assert payment["status"] == "refunded"
    assert payment["refunded_minor"] == payment["amount_minor"] == 500_000
    assert sorted(r["amount_minor"] for r in payment["refunds"]) == [200_000, 300_000]
    assert any(m["author_kind"] == "email" for m in ticket["messages"]), "the e-mail reply reached the ticket"
    assert contract["status"] == "active"
    assert [v["terms"]["included_session_minutes"] for v in contract["versions"]] == [240, 480]
    assert sla_ticket["clock"]["priority"] == "P1"
    # last month was invoiced and issued through the Stripe stand-in
    assert [(i["source_id"], i["status"]) for i in invoices] == [(kept["CONTRACT"], "issued")]
    # the worker `make run` starts beside the server delivered the receipts to the local mail stand-in
    mail = Path(settings["DESKLINE_MAIL_STAND_IN_DIR"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(b"[DL-1001]" in m.read_bytes() for m in mail.glob("*.eml")):
        time.sleep(0.2)
    assert any(b"[DL-1001]" in m.read_bytes() for m in mail.glob("*.eml")), (
        "no receipt reached the mail stand-in"
    )
    assert sla_ticket["clock"]["first_response"]["stopped_at"] is not None


def _readme_block_after(marker: str) -> str | None:
    found = re.search(re.escape(marker) + r"\n```sh\n(.*?)```\n", README.read_text(), re.DOTALL)
    return found.group(1) if found else None


@pytest.mark.parametrize("script", [*WALKTHROUGHS, ROOT / "walkthroughs" / "lib.sh"], ids=lambda p: p.name)
def test_the_readme_shows_each_walkthrough_script_as_it_is(script: Path) -> None:
    marker = f"<!-- {script.relative_to(ROOT)} -->"
    assert _readme_block_after(marker) == script.read_text(), (
        f"README.md must show {script.relative_to(ROOT)} verbatim in a ```sh block after {marker}"
    )


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the process matters, not the database
def test_the_stand_ins_and_the_worker_stop_with_the_server(
    served: tuple[ServerProcess, dict[str, str]],
) -> None:
    server, settings = served
    port = int(settings["DESKLINE_STRIPE_STAND_IN_PORT"])
    assert listening(port), "the server started its Stripe stand-in"
    started = _children(server.process.pid)
    assert len(started) >= 3, "the Stripe and mail stand-ins and the worker run beside the server"
    server.stop()
    deadline = time.monotonic() + 10
    while (listening(port) or any(_alive(p) for p in started)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not listening(port), "the stand-in outlived the server"
    assert not [p for p in started if _alive(p)], "a process started by the server outlived it"
