"""Durable storage behind the `bot.store.interfaces.Store` protocol."""

from bot.store.sqlite import SqliteStore, open_store

__all__ = ["SqliteStore", "open_store"]
