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


@pytest.mark.parametrize(
    ("mapping", "environ", "fragment"),
    [
        ({"telegram": {"webhook_port": 99999}}, {}, "(from vie.toml)"),
        ({}, {"VIE_TELEGRAM_WEBHOOK_PORT": "99999"},
         "(from environment variable VIE_TELEGRAM_WEBHOOK_PORT)"),
        ({}, {"VIE_NUDGES_GRACE": "soon"}, "(from environment variable VIE_NUDGES_GRACE)"),
        ({"bot": {"languages": ["en"]}}, {}, "(from built-in default)"),
    ],
)  # fmt: skip
def test_errors_say_where_the_bad_value_came_from(
    mapping: dict[str, object], environ: dict[str, str], fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(mapping, environ, source="vie.toml")  # type: ignore[arg-type]
    assert fragment in str(caught.value)


def test_log_levels_in_any_case_and_unknown_variables_warned() -> None:
    config = load_config(
        {"logging": {"level": "debug"}},
        {"VIE_STORE_PATHH": "x.db", "VIE_CONFIG": "c.toml", "VIE_LOGGING_LEVEL": "Warning"},
    )
    assert config.log_level == "WARNING"
    (warning,) = config.warnings
    assert "VIE_STORE_PATHH is not a VIE Coach setting" in warning
    assert "did you mean VIE_STORE_PATH?" in warning


def test_dialog_folder_configured_local_or_bundled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.app.bootstrap import dialog_folder

    monkeypatch.chdir(tmp_path)
    folder, how = dialog_folder(load_config({}, {}))
    assert how.startswith("bundled with VIE Coach") and (folder / "messages.yaml").is_file()
    (tmp_path / "dialogs").mkdir()
    assert dialog_folder(load_config({}, {})) == (
        tmp_path / "dialogs",
        "found in the working folder",
    )
    configured = load_config({"bot": {"dialogs": "elsewhere"}}, {}, base_dir=tmp_path)
    assert dialog_folder(configured) == (tmp_path / "elsewhere", "configured (bot.dialogs)")
    assert dialog_folder(configured, "given")[0] == Path("given")


def test_a_short_webhook_secret_is_refused_without_being_quoted() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({}, {"VIE_TELEGRAM_WEBHOOK_SECRET": "abc+/=="})
    assert "abc+/==" not in str(caught.value)
    assert "telegram.webhook_secret: expected 16 to 256" in str(caught.value)
    config = load_config({}, {"TELEGRAM_BOT_TOKEN": "7000000004:AAE-repr-token-abcdefghijklmnop"})
    assert "repr-token" not in repr(config)


def test_the_instance_lock_makes_its_folder_and_refuses_a_second_holder(tmp_path: Path) -> None:
    import os

    from bot.errors import StoreLocked
    from bot.store.lock import InstanceLock

    db = tmp_path / "new" / "sub" / "vie.db"
    first = InstanceLock.take(db)
    with pytest.raises(StoreLocked, match=f"pid {os.getpid()}"):
        InstanceLock.take(db)
    first.release()
    InstanceLock.take(db).release()
    InstanceLock.take(":memory:").release()
    assert not Path(":memory:.lock").exists()
