"""Settings come from DESKLINE_* variables and a bad value stops the start with a clear message."""

from __future__ import annotations

import pytest

from api.settings import SettingsError, load_settings


def test_defaults_use_the_embedded_sqlite_database_and_moscow_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DESKLINE_DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///./var/deskline.db"
    assert settings.time_zone == "Europe/Moscow"


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKLINE_TIME_ZONE", "Asia/Novosibirsk")
    assert load_settings().time_zone == "Asia/Novosibirsk"


def test_non_async_database_url_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKLINE_DATABASE_URL", "postgresql://localhost/db")
    with pytest.raises(SettingsError, match=r"DESKLINE_DATABASE_URL: .*async URL"):
        load_settings()


def test_unknown_time_zone_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKLINE_TIME_ZONE", "Europe/Atlantis")
    with pytest.raises(SettingsError, match="DESKLINE_TIME_ZONE"):
        load_settings()


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKLINE_ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="DESKLINE_SECRET_KEY"):
        load_settings()


def test_malformed_rate_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKLINE_LOGIN_LIMIT_PER_ACCOUNT", "lots")
    with pytest.raises(SettingsError, match="DESKLINE_LOGIN_LIMIT_PER_ACCOUNT"):
        load_settings()


def test_production_refuses_the_placeholder_stripe_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKLINE_ENVIRONMENT", "production")
    monkeypatch.setenv("DESKLINE_SECRET_KEY", "x" * 40)
    with pytest.raises(SettingsError, match="DESKLINE_STRIPE_SECRET_KEY"):
        load_settings()


def test_development_without_stripe_keys_pays_through_the_local_stand_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DESKLINE_STRIPE_STAND_IN_PORT", "8555")
    settings = load_settings()
    assert settings.uses_stripe_stand_in
    assert settings.stripe_base == "http://127.0.0.1:8555"


def test_a_configured_stripe_base_replaces_the_stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKLINE_STRIPE_API_BASE", "http://127.0.0.1:9999")
    settings = load_settings()
    assert not settings.uses_stripe_stand_in
    assert settings.stripe_base == "http://127.0.0.1:9999"


def test_real_stripe_keys_turn_the_stand_in_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKLINE_STRIPE_SECRET_KEY", "sk_test_a_real_account_key")
    settings = load_settings()
    assert not settings.uses_stripe_stand_in
    assert settings.stripe_base is None
