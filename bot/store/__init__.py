"""Durable storage behind the `bot.store.interfaces.Store` protocol."""

from bot.store.opening import open_store
from bot.store.sqlite import SqliteStore

__all__ = ["SqliteStore", "open_store"]
