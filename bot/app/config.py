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
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from bot.app.logs import normal_level
from bot.app.settings import DEFAULTS, OTHER_VARIABLES, SCHEMA
from bot.core.durations import parse_duration
from bot.errors import ConfigError
from bot.features.advocates.records import AdvocatePolicy
from bot.features.nudges.policy import NudgePolicy


@dataclass(frozen=True, slots=True)
class BotConfig:
    languages: tuple[str, ...]
    default_language: str
    dialogs: Path | None  # None: ./dialogs if present, else the bundled ones
    entry_flow: str
    fact_max_age: int  # years: the checker warns about older facts
    watch_dialogs: bool = True  # `vie-coach run` reloads edited dialog files by itself


@dataclass(frozen=True, slots=True)
class StoreConfig:
    path: Path
    keep_unknown: timedelta = timedelta(days=30)  # texts not understood, for the operators
    url: str = field(default="", repr=False)  # postgresql://…: may hold a password

    @property
    def target(self) -> Path | str:
        """What `open_store` opens: the PostgreSQL address if set, else the SQLite file."""
        return self.url or self.path

    @property
    def shared(self) -> bool:
        """On PostgreSQL: several workers may serve the same database."""
        return bool(self.url)


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str | None = field(repr=False)  # never printed, not even in a repr
    base_url: str
    base_file_url: str
    admins: tuple[int, ...]
    mode: str
    webhook_listen: str
    webhook_port: int
    webhook_url: str
    webhook_secret: str = field(repr=False)
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
class OpsConfig:
    """The local HTTP endpoint for operations: /healthz and /metrics."""

    enabled: bool
    listen: str
    port: int
    telegram_silence: timedelta  # no answer from Telegram for longer: unhealthy
    stuck_after: timedelta  # a message unsent for longer: unhealthy


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """The operators' console in the browser (`docs/console.md`): off unless enabled."""

    enabled: bool = False
    listen: str = "127.0.0.1"
    port: int = 9465
    public_url: str = ""  # what the /console link starts with; "" = http://listen:port
    link_minutes: int = 10  # a /console link expires after this
    session_hours: int = 8  # a session after this
    secret: str = field(default="", repr=False)  # "" = derived from the bot's token

    def base_url(self, port: int) -> str:
        return (self.public_url or f"http://{self.listen}:{port}").rstrip("/")


@dataclass(frozen=True, slots=True)
class BroadcastConfig:
    """An operator's /broadcast: how many people a second it reaches at most (below
    `telegram.overall_per_second`, so that people's replies keep the rest)."""

    per_second: float = 10.0


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
    ops: OpsConfig
    log_format: str = "text"
    warnings: tuple[str, ...] = ()  # said at start-up: unknown VIE_* variables
    broadcast: BroadcastConfig = BroadcastConfig()
    console: ConsoleConfig = ConsoleConfig()


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
    """Merge defaults, the TOML mapping and environment overrides; validate; build records.
    Every error names the setting, its value and where that value came from."""
    merged = copy.deepcopy(DEFAULTS)
    origin: dict[tuple[str, str], str] = {}
    for section, values in mapping.items():
        if not isinstance(values, Mapping):
            raise ConfigError(f"{source}: [{section}] must be a table, got {values!r}")
        merged.setdefault(section, {}).update(values)
        origin.update({(section, key): source for key in values})
    for section, values in DEFAULTS.items():
        for key, default in values.items():
            env_key = f"VIE_{section}_{key}".upper()
            if env_key in environ:
                merged[section][key] = _from_env(env_key, environ[env_key], default)
                origin[(section, key)] = f"environment variable {env_key}"
    level = merged.get("logging", {}).get("level")
    if isinstance(level, str):
        merged["logging"]["level"] = normal_level(level)

    def where(path: list[str]) -> str:
        if len(path) >= 2:
            return origin.get((path[0], path[1]), "built-in default")
        return source

    errors = sorted(Draft202012Validator(SCHEMA).iter_errors(merged), key=lambda e: list(e.path))
    if errors:
        lines = []
        for e in errors:
            path = [str(p) for p in e.absolute_path]
            key = ".".join(path) or "(top)"
            if e.validator == "additionalProperties":
                lines.append(f"{key}: unknown setting(s) in {source}: {e.message}")
            else:
                if path[-1:] == ["webhook_secret"]:  # a secret is never quoted
                    lines.append(
                        f"{key}: expected 16 to 256 of A-Z a-z 0-9 _ - (from {where(path)})"
                    )
                else:
                    lines.append(f"{key} = {e.instance!r}: {e.message} (from {where(path)})")
        joined = lines[0] if len(lines) == 1 else "\n" + "\n".join(lines)
        raise ConfigError(f"invalid configuration: {joined}")
    bot, store, tg = merged["bot"], merged["store"], merged["telegram"]
    if tg["mode"] == "webhook" and not (tg["webhook_url"] and tg["webhook_secret"]):
        raise ConfigError(
            "telegram.mode = 'webhook' needs telegram.webhook_url (https://…) and "
            "telegram.webhook_secret (or VIE_TELEGRAM_WEBHOOK_SECRET)"
        )
    if bot["default_language"] not in bot["languages"]:
        raise ConfigError(
            f"bot.default_language = {bot['default_language']!r} is not in bot.languages "
            f"{bot['languages']!r} (from {where(['bot', 'default_language'])})"
        )
    pace, overall = merged["broadcast"]["per_second"], tg["overall_per_second"]
    if pace >= overall:
        raise ConfigError(
            f"broadcast.per_second = {pace!r} is not below telegram.overall_per_second = "
            f"{overall!r} (from {where(['broadcast', 'per_second'])}): a broadcast would take "
            "all of the bot's sending pace and hold back people's replies; set it to a third "
            "of it or less (the default is 10 for 30)"
        )
    durations = _Durations(where)
    base = base_dir or Path.cwd()
    token = environ.get("TELEGRAM_BOT_TOKEN") or None
    ops = merged["ops"]
    return Config(
        bot=BotConfig(
            tuple(bot["languages"]),
            bot["default_language"],
            base / bot["dialogs"] if bot["dialogs"] else None,
            bot["entry_flow"],
            bot["fact_max_age"],
            bot["watch_dialogs"],
        ),
        store=StoreConfig(
            Path(store["path"]) if store["path"] == ":memory:" else base / store["path"],
            durations(store, "store", "keep_unknown"),
            store["url"],
        ),
        telegram=TelegramConfig(
            token=token,
            admins=tuple(tg.pop("admins")),
            reply_max_age=durations(tg, "telegram", "reply_max_age"),
            **{k: v for k, v in tg.items() if k != "reply_max_age"},
        ),
        log_level=merged["logging"]["level"],
        log_format=merged["logging"]["format"],
        source=source,
        nudges=_nudges(merged["nudges"], durations),
        advocates=_advocates(merged["advocates"], durations),
        links=LinkConfig(merged["links"]["verify"], merged["links"]["timeout_seconds"]),
        ops=OpsConfig(
            ops["enabled"],
            ops["listen"],
            ops["port"],
            durations(ops, "ops", "telegram_silence"),
            durations(ops, "ops", "stuck_after"),
        ),
        warnings=tuple(_unknown_variables(environ)),
        broadcast=BroadcastConfig(float(pace)),
        console=ConsoleConfig(**merged["console"]),
    )


def _unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A `VIE_*` variable that sets nothing is most likely a typo: say so, with the
    nearest real name."""
    import difflib

    known = {f"VIE_{s}_{k}".upper() for s, values in DEFAULTS.items() for k in values}
    known |= OTHER_VARIABLES
    said = []
    for name in sorted(environ):
        if name.startswith("VIE_") and name not in known:
            near = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.7)
            hint = f" (did you mean {near[0]}?)" if near else ""
            said.append(f"environment variable {name} is not a VIE Coach setting: ignored{hint}")
    return said


class _Durations:
    """Reads a duration setting, naming where a bad one came from."""

    def __init__(self, where: Any) -> None:
        self.where = where

    def __call__(self, raw: Mapping[str, Any], section: str, key: str) -> timedelta:
        try:
            return parse_duration(raw[key])
        except ValueError:
            raise ConfigError(
                f"{section}.{key} = {raw[key]!r}: expected a duration such as 30m, 6h or 2d "
                f"(from {self.where([section, key])})"
            ) from None


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _advocates(raw: Mapping[str, Any], durations: _Durations) -> AdvocatePolicy:
    return AdvocatePolicy(
        bot_username=raw["username"],
        alert_delay=durations(raw, "advocates", "alert_delay"),
        alerts_per_day=raw["alerts_per_day"],
        digest_time=_clock(raw["digest_time"]),
        dormant_after=durations(raw, "advocates", "dormant_after"),
        max_invites=raw["max_invites"],
    )


def _nudges(raw: Mapping[str, Any], durations: _Durations) -> NudgeConfig:
    def duration(key: str) -> timedelta:
        return durations(raw, "nudges", key)

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
