"""The console's one-time links in the store (migration 0011): kept when /console gives
one, used once. The same SQL on both databases."""

from __future__ import annotations

from datetime import datetime

from bot.store.queues import Statement, to_ms
from bot.store.versions import Write

KEEP = "INSERT INTO console_links (nonce_hash, admin_id, expires_ms) VALUES (?, ?, ?)"
# Checked and spent in one statement: of two requests with the same link (two tabs, two
# workers), exactly one changes the row.
USE = """UPDATE console_links SET used_ms = ?
         WHERE nonce_hash = ? AND admin_id = ? AND used_ms IS NULL AND expires_ms > ?"""


class ConsoleLinks:
    """Keeps and spends the links, through a store's `write`."""

    def __init__(self, write: Write) -> None:
        self._write = write

    async def keep(self, nonce_hash: str, admin_id: int, expires: datetime) -> None:
        """Note a link given to `admin_id`."""
        statement: Statement = (KEEP, [(nonce_hash, admin_id, to_ms(expires))])
        await self._write(statement)

    async def use(self, nonce_hash: str, admin_id: int, now: datetime) -> bool:
        """Spend the link: True once, for an unexpired link of that operator."""
        now_ms = to_ms(now)
        statement: Statement = (USE, [(now_ms, nonce_hash, admin_id, now_ms)])
        return await self._write(statement) == 1
