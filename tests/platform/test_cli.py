"""The deskline command: migrate, bootstrap the first admin, export OpenAPI, seed a demo."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from click.testing import CliRunner

from api.cli import explain, main
from tests.harness import free_port


def _env(tmp_path: Path) -> dict[str, str]:
    database = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    return {"DESKLINE_DATABASE_URL": database, "DESKLINE_LOG_FORMAT": "json"}


def test_migrate_then_create_the_first_admin_from_stdin(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["migrate"], env=_env(tmp_path)).exit_code == 0
    result = runner.invoke(
        main,
        ["users", "create", "--email", "root@example.com", "--role", "admin", "--password-stdin"],
        input="a-long-enough-password\n",
        env=_env(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["role"] == "admin"


def test_creating_a_user_twice_fails_with_a_clear_message(tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["migrate"], env=_env(tmp_path))
    args = ["users", "create", "--email", "root@example.com", "--role", "admin"]
    runner.invoke(main, args, env=_env(tmp_path))
    result = runner.invoke(main, args, env=_env(tmp_path))
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_customer_user_needs_an_organization(tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["migrate"], env=_env(tmp_path))
    result = runner.invoke(
        main, ["users", "create", "--email", "c@example.com", "--role", "customer_user"], env=_env(tmp_path)
    )
    assert result.exit_code != 0
    assert "organization" in result.output


def test_bad_settings_stop_the_command_naming_the_variable(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["migrate"], env={"DESKLINE_DATABASE_URL": "mysql://x"})
    assert result.exit_code != 0
    assert "DESKLINE_DATABASE_URL" in result.output


def test_seed_demo_is_idempotent(tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["migrate"], env=_env(tmp_path))
    first = runner.invoke(main, ["seed-demo"], env=_env(tmp_path))
    second = runner.invoke(main, ["seed-demo"], env=_env(tmp_path))
    assert json.loads(first.output)["status"] == "seeded"
    assert json.loads(first.output)["service_id"]
    assert json.loads(second.output)["status"] == "already seeded"


def test_openapi_command_writes_the_document(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    result = CliRunner().invoke(main, ["openapi", "--output", str(target)])
    assert result.exit_code == 0
    assert json.loads(target.read_text())["info"]["title"] == "Deskline API"


def test_purge_secrets_runs_on_an_empty_database(tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["migrate"], env=_env(tmp_path))
    result = runner.invoke(main, ["scheduling", "purge-secrets"], env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"destroyed": 0}


def test_keys_rotate_creates_a_new_signing_key_each_time(tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["migrate"], env=_env(tmp_path))
    first = runner.invoke(main, ["keys", "rotate"], env=_env(tmp_path))
    second = runner.invoke(main, ["keys", "rotate"], env=_env(tmp_path))
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert json.loads(first.output)["kid"] != json.loads(second.output)["kid"]


def test_a_database_without_the_schema_says_to_migrate_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["users", "create", "--email", "root@example.com", "--role", "admin"], env=_env(tmp_path)
    )
    assert result.exit_code != 0
    assert "deskline migrate" in result.output
    assert "Traceback" not in result.output


def test_a_database_nothing_listens_on_is_named_as_unreachable(tmp_path: Path) -> None:
    env = {
        **_env(tmp_path),
        "DESKLINE_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/x",
    }
    result = CliRunner().invoke(
        main, ["users", "create", "--email", "root@example.com", "--role", "admin"], env=env
    )
    assert result.exit_code != 0
    assert "cannot reach the database named in DESKLINE_DATABASE_URL" in result.output
    assert "Traceback" not in result.output


def test_another_service_that_cannot_be_reached_is_not_blamed_on_the_database() -> None:
    failure = httpx.ConnectError("All connection attempts failed")
    assert explain(failure) is None  # a bug to show with its traceback, not "cannot reach the database"
