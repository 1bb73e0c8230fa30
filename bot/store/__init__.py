"""Durable storage behind the `bot.store.interfaces.Store` protocol: SQLite embedded,
PostgreSQL for several workers."""

from bot.store.opening import SqlStore, open_sqlite, open_store
from bot.store.sqlite import SqliteStore

__all__ = ["SqlStore", "SqliteStore", "open_sqlite", "open_store"]
