"""What ships inside the package: the dialogs and the example configuration.

In the source tree `dialogs` and `config.example.toml` here are links to the project's
top-level ones; a built wheel holds copies. `vie-coach init` copies them out for an
operator to edit; with no dialog folder configured nor in the working folder, the bot
serves the bundled ones.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from bot.errors import ConfigError

EXAMPLE_CONFIG = "config.example.toml"


def _here() -> Path:
    return Path(str(resources.files(__name__)))


def dialogs() -> Path:
    """The folder of the dialogs bundled with this version of the bot."""
    folder = _here() / "dialogs"
    if not (folder / "messages.yaml").is_file():
        raise ConfigError(
            f"the dialogs bundled with VIE Coach are missing from {folder}: reinstall the "
            "package, or give a dialog folder (--dialogs DIR or bot.dialogs in the config)"
        )
    return folder


def example_config() -> str:
    """The commented example configuration, as text."""
    return (_here() / EXAMPLE_CONFIG).read_text(encoding="utf-8")
