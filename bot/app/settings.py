"""What can be configured: every setting with its default (`DEFAULTS`, equal to
config.example.toml) and the JSON Schema each value is checked against."""

from __future__ import annotations

from typing import Any

from bot.app.logs import FORMATS, LEVELS

DEFAULTS: dict[str, dict[str, Any]] = {
    "bot": {
        "languages": ["fr", "en"],
        "default_language": "fr",
        "dialogs": "",
        "entry_flow": "welcome",
        "fact_max_age": 5,
        "watch_dialogs": True,
    },
    "store": {"path": "vie-coach.db", "url": "", "keep_unknown": "30d"},
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
    "broadcast": {"per_second": 10.0},
    "logging": {"level": "INFO", "format": "text"},
    "ops": {
        "enabled": True,
        "listen": "127.0.0.1",
        "port": 9464,
        "telegram_silence": "5m",
        "stuck_after": "15m",
    },
    "console": {
        "enabled": False,
        "listen": "127.0.0.1",
        "port": 9465,
        "public_url": "",
        "link_minutes": 10,
        "session_hours": 8,
        "secret": "",
    },
}

LANG = {"type": "string", "pattern": "^[a-z]{2}$"}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "bot": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "languages": {"type": "array", "items": LANG, "minItems": 1, "uniqueItems": True},
                "default_language": LANG,
                "dialogs": {"type": "string"},
                "entry_flow": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "fact_max_age": {"type": "integer", "minimum": 1, "maximum": 100},
                "watch_dialogs": {"type": "boolean"},
            },
        },
        "store": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "path": {"type": "string", "minLength": 1},
                # empty: the SQLite file at `path`; else PostgreSQL, for several workers
                "url": {"type": "string", "pattern": "^(postgres(ql)?://.+)?$"},
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
                # Telegram allows 1 to 256; shorter than 16 is guessable, and too short to redact
                "webhook_secret": {"type": "string", "pattern": "^([A-Za-z0-9_-]{16,256})?$"},
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
        "broadcast": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"per_second": {"type": "number", "exclusiveMinimum": 0}},
        },
        "logging": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "level": {"enum": list(LEVELS)},
                "format": {"enum": list(FORMATS)},
            },
        },
        "ops": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "listen": {"type": "string", "minLength": 1},
                "port": {"type": "integer", "minimum": 0, "maximum": 65535},
                "telegram_silence": {"type": "string", "minLength": 2},
                "stuck_after": {"type": "string", "minLength": 2},
            },
        },
        "console": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "listen": {"type": "string", "minLength": 1},
                "port": {"type": "integer", "minimum": 0, "maximum": 65535},
                # where the operators' browser reaches it (a reverse proxy), else listen:port
                "public_url": {"type": "string", "pattern": "^(https?://[^\\s?#]+)?$"},
                "link_minutes": {"type": "integer", "minimum": 1, "maximum": 60},
                "session_hours": {"type": "integer", "minimum": 1, "maximum": 72},
                # signs the links and sessions; empty: derived from the bot's token
                "secret": {"type": "string", "pattern": "^(.{32,})?$"},
            },
        },
    },
}
# Variables read from the environment that are not settings of a section.
OTHER_VARIABLES = frozenset({"VIE_CONFIG"})
