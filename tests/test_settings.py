from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import ConfigError, load_settings, normalise_database_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_urls_are_accepted_as_people_write_them(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected


def test_production_without_secret_keys_is_a_startup_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEYS"):
        load_settings({"ALONGSIDE_ENV": "production"}, config_dir=tmp_path)


def test_production_refuses_short_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="32"):
        load_settings({"ALONGSIDE_ENV": "production", "SECRET_KEYS": "short"}, config_dir=tmp_path)


def test_keys_origins_and_limits_come_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "SECRET_KEYS": "newest-key-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, older-key-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            "ALLOWED_ORIGINS": "https://a.example,https://b.example",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "LIMIT_MAX_BODY_CHARS": "100",
        },
        config_dir=tmp_path,
    )
    assert settings.secret_keys[0].startswith("newest")
    assert settings.allowed_origins == ("https://a.example", "https://b.example")
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.limits.max_body_chars == 100


def test_the_shipped_config_files_load() -> None:
    settings = load_settings({"SECRET_KEYS": "k" * 40})
    assert settings.limits.max_frame_bytes > 0
    assert any("988" in resource.contact for resource in settings.crisis_resources)


def test_unknown_limit_keys_are_refused(tmp_path: Path) -> None:
    (tmp_path / "alongside.toml").write_text("[limits]\nmax_bodychars = 3\n")
    with pytest.raises(ConfigError, match="unknown"):
        load_settings({"SECRET_KEYS": "k" * 40}, config_dir=tmp_path)


def test_bad_numbers_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_settings({"SECRET_KEYS": "k" * 40, "LIMIT_RATE_BURST": "many"}, config_dir=tmp_path)


@pytest.mark.parametrize(("given", "expected"), [({}, 4.0), ({"DUTY_HOURS": "0.5"}, 0.5)])
def test_a_duty_check_in_lasts_duty_hours(given: dict[str, str], expected: float) -> None:
    assert load_settings({"SECRET_KEYS": "k" * 40, **given}).duty_hours == expected


@pytest.mark.parametrize("hours", ["0", "-1", "soon"])
def test_duty_hours_must_be_a_positive_number(tmp_path: Path, hours: str) -> None:
    with pytest.raises(ConfigError, match=r"DUTY_HOURS|could not convert"):
        load_settings({"SECRET_KEYS": "k" * 40, "DUTY_HOURS": hours}, config_dir=tmp_path)


def test_the_export_notice_and_link_minutes_come_from_config_privacy(tmp_path: Path) -> None:
    shipped = load_settings({"SECRET_KEYS": "k" * 40}).privacy
    assert shipped.export_link_minutes == 10
    assert shipped.notice_text.startswith("This record which has been disclosed to you is protected")
    assert "42 CFR part 2" in shipped.notice_text and "\n" not in shipped.notice_text
    shorter = load_settings({"SECRET_KEYS": "k" * 40, "EXPORT_LINK_MINUTES": "2.5"}).privacy
    assert shorter.export_link_minutes == 2.5
    (tmp_path / "privacy.toml").write_text('[notice]\ntitle = "Notice"\ntext = "  "\n')
    with pytest.raises(ConfigError, match=r"privacy\.toml"):
        load_settings({"SECRET_KEYS": "k" * 40}, config_dir=tmp_path)
    with pytest.raises(ConfigError, match="link_minutes"):
        load_settings({"SECRET_KEYS": "k" * 40, "EXPORT_LINK_MINUTES": "0"})
