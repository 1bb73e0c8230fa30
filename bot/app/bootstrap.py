"""The one composition root: which features the bot has, in which order, with which
settings, and the dialog set checked against them.

The order is the features' priority: the first to claim a typed text gets it (the open
"who invited you?" question before a node's typed answer), and /help lists the features'
own help in this order.
"""

from __future__ import annotations

import os
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bot import bundled
from bot.app.config import Config
from bot.core.dialogset import DialogSet
from bot.core.feature import Feature
from bot.dialogs.load import check_directory
from bot.errors import Problem
from bot.features.advocates import feature as advocates
from bot.features.advocates.records import AdvocatePolicy
from bot.features.answers import feature as answers
from bot.features.basics import feature as basics
from bot.features.nudges import feature as nudges
from bot.features.nudges.policy import NudgePolicy
from bot.features.operators import console, reports
from bot.features.operators import feature as operators
from bot.features.privacy import feature as privacy


def standard_features(
    nudge_policy: NudgePolicy | None = None,
    advocacy: AdvocatePolicy | None = None,
    admins: tuple[int, ...] = (),
) -> tuple[Feature, ...]:
    """Every feature VIE Coach has, in priority order (defaults: the product's rules;
    `admins`: the Telegram ids that may use the operators' commands)."""
    quiet = nudge_policy or NudgePolicy()
    return (
        advocates.feature(advocacy, quiet),
        # before answers: an operator's broadcast text is not the answer a node awaits
        reports.feature(admins),
        operators.feature(admins),
        console.feature(admins),
        answers.feature(),
        basics.feature(),
        privacy.feature(),
        nudges.feature(quiet),
    )


def features_for(config: Config, bot_username: str | None = None) -> tuple[Feature, ...]:
    """The features with the configured settings; `bot_username` as Telegram knows the
    bot (invitation links name it), when it is known."""
    advocacy = config.advocates
    if bot_username:
        advocacy = replace(advocacy, bot_username=bot_username)
    return standard_features(config.nudges.policy, advocacy, config.telegram.admins)


def with_features(dialogs: DialogSet, features: tuple[Feature, ...]) -> DialogSet:
    """The same checked dialogs served by other settings of the same features (the bot's
    name learnt from Telegram at start-up)."""
    return replace(dialogs, features=features)


def package_version() -> str:
    try:
        return version("vie-coach")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def dialog_folder(
    config: Config, explicit: str | os.PathLike[str] | None = None
) -> tuple[Path, str]:
    """Which dialogs to serve, and why: `--dialogs`, else the configured folder, else
    ./dialogs when there is one, else the ones bundled with the package."""
    if explicit:
        return Path(explicit), "given on the command line"
    if config.bot.dialogs is not None:
        return config.bot.dialogs, "configured (bot.dialogs)"
    local = Path.cwd() / "dialogs"
    if local.is_dir():
        return local, "found in the working folder"
    return bundled.dialogs(), f"bundled with VIE Coach {package_version()}"


def check(
    config: Config, directory: str | os.PathLike[str] | None = None
) -> tuple[DialogSet | None, list[Problem]]:
    folder, _ = dialog_folder(config, directory)
    return check_directory(
        folder, config.bot.languages, config.bot.entry_flow, features_for(config)
    )
