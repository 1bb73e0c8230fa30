"""Configuration: a TOML file, then environment overrides, checked into frozen records.

Every default is in `DEFAULTS` (equal to config.example.toml) and nowhere else: the
records are only built by `load_config`, from the merged values.

The bot token comes only from `TELEGRAM_BOT_TOKEN`. Any other setting can be overridden
by `VIE_<SECTION>_<KEY>` (for example `VIE_STORE_PATH=/data/vie.db`). A bad value is
rejected with its key and value named.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from bot.core.durations import parse_duration
from bot.errors import ConfigError
from bot.features.advocates.records import AdvocatePolicy
from bot.features.nudges.policy import NudgePolicy

DEFAULTS: dict[str, dict[str, Any]] = {
    "bot": {
        "languages": ["fr", "en"],
        "default_language": "fr",
        "dialogs": "dialogs",
        "entry_flow": "welcome",
        "fact_max_age": 5,
    },
    "store": {"path": "vie-coach.db", "keep_unknown": "30d"},
    "telegram": {
        "base_url": "https://api.telegram.org/bot",
        "base_file_url": "https://api.telegram.org/file/bot",
        "admins": [],
        "mode": "polling",
        "webhook_listen": "127.0.0.1",
        "webhook_port": 8443,
        "webhook_url": "",
        "webhook_secret": "",
        "concurrent_updates": 256,
        "overall_per_second": 30,
        "per_chat_per_second": 1,
        "per_chat_burst": 3,
        "max_retries": 5,
        "reply_max_age": "24h",
    },
    "nudges": {
        "quiet_start": "21:00",
        "quiet_end": "09:00",
        "weekly_cap": 3,
        "dormant_after": 3,
        "backoff": True,
        "grace": "6h",
        "spread": "1h",
        "tick_seconds": 1.0,
        "batch": 100,
        "lease": "2m",
    },
    "advocates": {
        "username": "VieCoachBot",
        "alert_delay": "10m",
        "alerts_per_day": 3,
        "digest_time": "18:00",
        "dormant_after": "14d",
        "max_invites": 50,
    },
    "links": {"verify": False, "timeout_seconds": 5.0},
    "logging": {"level": "INFO"},
}

_LANG = {"type": "string", "pattern": "^[a-z]{2}$"}
_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "bot": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "languages": {"type": "array", "items": _LANG, "minItems": 1, "uniqueItems": True},
                "default_language": _LANG,
                "dialogs": {"type": "string", "minLength": 1},
                "entry_flow": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "fact_max_age": {"type": "integer", "minimum": 1, "maximum": 100},
            },
        },
        "store": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "path": {"type": "string", "minLength": 1},
                "keep_unknown": {"type": "string", "minLength": 1},
            },
        },
        "telegram": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "base_url": {"type": "string", "pattern": "^https?://"},
                "base_file_url": {"type": "string", "pattern": "^https?://"},
                "admins": {"type": "array", "items": {"type": "integer"}},
                "mode": {"enum": ["polling", "webhook"]},
                "webhook_listen": {"type": "string", "minLength": 1},
                "webhook_port": {"type": "integer", "minimum": 0, "maximum": 65535},
                "webhook_url": {"type": "string", "pattern": "^(https://\\S+)?$"},
                "webhook_secret": {"type": "string", "pattern": "^[A-Za-z0-9_-]{0,256}$"},
                "concurrent_updates": {"type": "integer", "minimum": 1, "maximum": 10000},
                "overall_per_second": {"type": "number", "exclusiveMinimum": 0},
                "per_chat_per_second": {"type": "number", "exclusiveMinimum": 0},
                "per_chat_burst": {"type": "integer", "minimum": 1, "maximum": 100},
                "max_retries": {"type": "integer", "minimum": 0, "maximum": 100},
                "reply_max_age": {"type": "string", "minLength": 1},
            },
        },
        "nudges": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "quiet_start": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                "quiet_end": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                "weekly_cap": {"type": "integer", "minimum": 1, "maximum": 50},
                "dormant_after": {"type": "integer", "minimum": 1, "maximum": 50},
                "backoff": {"type": "boolean"},
                "grace": {"type": "string", "minLength": 2},
                "spread": {"type": "string", "minLength": 2},
                "tick_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
                "batch": {"type": "integer", "minimum": 1, "maximum": 10000},
                "lease": {"type": "string", "minLength": 2},
            },
        },
        "advocates": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "username": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{4,31}$"},
                "alert_delay": {"type": "string", "minLength": 2},
                "alerts_per_day": {"type": "integer", "minimum": 1, "maximum": 50},
                "digest_time": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                "dormant_after": {"type": "string", "minLength": 2},
                "max_invites": {"type": "integer", "minimum": 1, "maximum": 1000},
            },
        },
        "links": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "verify": {"type": "boolean"},
                "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 60},
            },
        },
        "logging": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"level": {"enum": ["DEBUG", "INFO", "WARNING", "ERROR"]}},
        },
    },
}


@dataclass(frozen=True, slots=True)
class BotConfig:
    languages: tuple[str, ...]
    default_language: str
    dialogs: Path
    entry_flow: str
    fact_max_age: int  # years: the checker warns about older facts


@dataclass(frozen=True, slots=True)
class StoreConfig:
    path: Path
    keep_unknown: timedelta = timedelta(days=30)  # texts not understood, for the operators


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str | None
    base_url: str
    base_file_url: str
    admins: tuple[int, ...]
    mode: str
    webhook_listen: str
    webhook_port: int
    webhook_url: str
    webhook_secret: str
    concurrent_updates: int
    overall_per_second: float
    per_chat_per_second: float
    per_chat_burst: int
    max_retries: int
    reply_max_age: timedelta  # a reply not sent by then is dropped, not sent out of context


@dataclass(frozen=True, slots=True)
class NudgeConfig:
    policy: NudgePolicy
    tick: timedelta
    batch: int
    lease: timedelta


@dataclass(frozen=True, slots=True)
class LinkConfig:
    """The URL shortening exercise: whether a short link is checked to redirect to the
    long one (one HEAD request, never to a private address), and how long to wait."""

    verify: bool
    timeout_seconds: float

    def verifier(self) -> Any:
        """The check Conversations calls, or None when verification is off."""
        if not self.verify:
            return None
        from functools import partial

        from bot.adapters.redirects import check_redirect

        return partial(check_redirect, timeout=self.timeout_seconds)


@dataclass(frozen=True, slots=True)
class Config:
    bot: BotConfig
    store: StoreConfig
    telegram: TelegramConfig
    log_level: str
    source: str  # where it came from, for messages
    nudges: NudgeConfig
    advocates: AdvocatePolicy
    links: LinkConfig


def _from_env(key: str, raw: str, default: Any) -> Any:
    """Turn an environment string into the type of the default it overrides."""
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{key}: expected true or false, got {raw!r}")
    if isinstance(default, int | float):
        try:
            return type(default)(raw)
        except ValueError:
            raise ConfigError(f"{key}: expected a number, got {raw!r}") from None
    if isinstance(default, list):
        items = [part.strip() for part in raw.split(",") if part.strip()]
        if key.lower().endswith("admins"):
            try:
                return [int(i) for i in items]
            except ValueError:
                raise ConfigError(
                    f"{key}: expected numbers separated by commas, got {raw!r}"
                ) from None
        return items
    return raw


def load_config(
    mapping: Mapping[str, Any],
    environ: Mapping[str, str],
    *,
    base_dir: Path | None = None,
    source: str = "built-in defaults",
) -> Config:
    """Merge defaults, the TOML mapping and environment overrides; validate; build records."""
    merged = copy.deepcopy(DEFAULTS)
    for section, values in mapping.items():
        if not isinstance(values, Mapping):
            raise ConfigError(f"{source}: [{section}] must be a table, got {values!r}")
        merged.setdefault(section, {}).update(values)
    for section, values in DEFAULTS.items():
        for key, default in values.items():
            env_key = f"VIE_{section}_{key}".upper()
            if env_key in environ:
                merged[section][key] = _from_env(env_key, environ[env_key], default)
    errors = sorted(Draft202012Validator(_SCHEMA).iter_errors(merged), key=lambda e: list(e.path))
    if errors:
        lines = []
        for e in errors:
            key = ".".join(str(p) for p in e.absolute_path) or "(top)"
            if e.validator == "additionalProperties":
                lines.append(f"{key or '(top)'}: unknown setting(s) in {source}: {e.message}")
            else:
                lines.append(f"{key} = {e.instance!r}: {e.message} (in {source})")
        raise ConfigError("invalid configuration:\n" + "\n".join(lines))
    bot, store, tg = merged["bot"], merged["store"], merged["telegram"]
    if tg["mode"] == "webhook" and not (tg["webhook_url"] and tg["webhook_secret"]):
        raise ConfigError(
            "telegram.mode = 'webhook' needs telegram.webhook_url (https://…) and "
            "telegram.webhook_secret (or VIE_TELEGRAM_WEBHOOK_SECRET)"
        )
    if bot["default_language"] not in bot["languages"]:
        raise ConfigError(
            f"bot.default_language = {bot['default_language']!r} is not in bot.languages {bot['languages']!r}"
        )
    nudges = _nudges(merged["nudges"])
    advocates = _advocates(merged["advocates"])
    base = base_dir or Path.cwd()
    token = environ.get("TELEGRAM_BOT_TOKEN") or None
    return Config(
        bot=BotConfig(
            tuple(bot["languages"]),
            bot["default_language"],
            base / bot["dialogs"],
            bot["entry_flow"],
            bot["fact_max_age"],
        ),
        store=StoreConfig(
            Path(store["path"]) if store["path"] == ":memory:" else base / store["path"],
            _duration(store, "store", "keep_unknown"),
        ),
        telegram=TelegramConfig(
            token=token,
            admins=tuple(tg.pop("admins")),
            reply_max_age=_duration(tg, "telegram", "reply_max_age"),
            **{k: v for k, v in tg.items() if k != "reply_max_age"},
        ),
        log_level=merged["logging"]["level"],
        source=source,
        nudges=nudges,
        advocates=advocates,
        links=LinkConfig(merged["links"]["verify"], merged["links"]["timeout_seconds"]),
    )


def _duration(raw: Mapping[str, Any], section: str, key: str) -> timedelta:
    try:
        return parse_duration(raw[key])
    except ValueError:
        raise ConfigError(
            f"{section}.{key} = {raw[key]!r}: expected a duration such as 30m, 6h or 2d"
        ) from None


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _advocates(raw: Mapping[str, Any]) -> AdvocatePolicy:
    return AdvocatePolicy(
        bot_username=raw["username"],
        alert_delay=_duration(raw, "advocates", "alert_delay"),
        alerts_per_day=raw["alerts_per_day"],
        digest_time=_clock(raw["digest_time"]),
        dormant_after=_duration(raw, "advocates", "dormant_after"),
        max_invites=raw["max_invites"],
    )


def _nudges(raw: Mapping[str, Any]) -> NudgeConfig:
    def duration(key: str) -> timedelta:
        return _duration(raw, "nudges", key)

    def clock(key: str) -> time:
        return _clock(raw[key])

    policy = NudgePolicy(
        quiet_start=clock("quiet_start"), quiet_end=clock("quiet_end"), weekly_cap=raw["weekly_cap"],
        dormant_after=raw["dormant_after"], grace=duration("grace"), spread=duration("spread"),
        backoff=raw["backoff"],
    )  # fmt: skip
    return NudgeConfig(
        policy, timedelta(seconds=raw["tick_seconds"]), raw["batch"], duration("lease")
    )


def find_config(explicit: str | None, environ: Mapping[str, str]) -> Config:
    """`--config`, else `$VIE_CONFIG`, else `./config.toml`, else built-in defaults."""
    path_text = explicit or environ.get("VIE_CONFIG")
    path = Path(path_text) if path_text else Path("config.toml")
    if not path.exists():
        if path_text:
            raise ConfigError(f"config file {path} does not exist")
        return load_config({}, environ)
    try:
        mapping = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    return load_config(mapping, environ, base_dir=path.resolve().parent, source=str(path))


def environ() -> Mapping[str, str]:
    return os.environ
