"""Configuration: defaults, the example file, environment overrides, clear errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.app.config import DEFAULTS, find_config, load_config
from bot.errors import ConfigError

from .conftest import ROOT


def test_example_file_documents_exactly_the_defaults() -> None:
    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    assert example == DEFAULTS


def test_environment_overrides_and_token() -> None:
    config = load_config(
        {},
        {
            "VIE_STORE_PATH": "/tmp/x.db",
            "VIE_BOT_LANGUAGES": "en,fr",
            "VIE_TELEGRAM_ADMINS": "1, 2",
            "TELEGRAM_BOT_TOKEN": "123:abc",
        },
    )
    assert str(config.store.path) == "/tmp/x.db"
    assert config.bot.languages == ("en", "fr")
    assert config.telegram.admins == (1, 2)
    assert config.telegram.token == "123:abc"


@pytest.mark.parametrize(
    ("mapping", "environ", "fragment"),
    [
        ({"bot": {"default_language": "de"}}, {}, "bot.default_language = 'de'"),
        ({"bot": {"languages": ["french"]}}, {}, "bot.languages.0 = 'french'"),
        ({"store": {"pathh": "x"}}, {}, "unknown setting"),
        ({"telegram": {"base_url": "ftp://x"}}, {}, "telegram.base_url = 'ftp://x'"),
        ({}, {"VIE_TELEGRAM_ADMINS": "alice"}, "VIE_TELEGRAM_ADMINS"),
        ({"logging": {"level": "LOUD"}}, {}, "logging.level = 'LOUD'"),
        ({"bot": "nope"}, {}, "[bot] must be a table"),
    ],
)
def test_bad_values_name_key_and_value(
    mapping: dict[str, object], environ: dict[str, str], fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(mapping, environ)  # type: ignore[arg-type]
    assert fragment in str(caught.value)


def test_find_config_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_config(None, {}).source == "built-in defaults"
    (tmp_path / "config.toml").write_text('[store]\npath = "data/v.db"\n')
    config = find_config(None, {})
    assert config.store.path == tmp_path / "data" / "v.db"
    other = tmp_path / "other.toml"
    other.write_text('[bot]\ndefault_language = "en"\n')
    assert find_config(None, {"VIE_CONFIG": str(other)}).bot.default_language == "en"
    assert find_config(str(other), {}).source == str(other)
    with pytest.raises(ConfigError, match="does not exist"):
        find_config(str(tmp_path / "missing.toml"), {})
    (tmp_path / "bad.toml").write_text("[bot\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        find_config(str(tmp_path / "bad.toml"), {})


def test_readme_gives_the_two_commands_first() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    assert readme.index("make demo") < readme.index("## Configuration")
