"""What either database raises when it fails, and how that is told without its data."""

from __future__ import annotations

import sqlite3

import psycopg

DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)


def described(exc: Exception) -> str:
    """SQLite's messages name the problem ("database or disk is full"); PostgreSQL's may
    quote the values of the row (a text someone wrote), so only its class and code go."""
    if isinstance(exc, psycopg.Error):
        return f"{type(exc).__name__} (SQLSTATE {exc.sqlstate or 'none'})"
    return str(exc)
