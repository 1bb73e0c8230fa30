"""The emulator's client side: people writing, editing, pressing, blocking, each as the
update Telegram would queue for the bot (mixed into `BotApiEmulator`)."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class FakeUser:
    id: int
    first_name: str = "Zoé"
    language_code: str | None = "fr"

    def as_json(self) -> JSON:
        out: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            out["language_code"] = self.language_code
        return out


def private_chat(user: FakeUser) -> JSON:
    return {"id": user.id, "type": "private", "first_name": user.first_name}


def _with_text(text: str) -> JSON:
    out: JSON = {"text": text}
    if text.startswith("/"):
        out["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return out


class People:
    """What people do; the emulator's state it writes to is declared below."""

    if TYPE_CHECKING:
        _updates: list[JSON]
        _update_ids: itertools.count[int]
        _message_ids: itertools.count[int]
        _query_ids: itertools.count[int]
        blocked_chats: set[int]
        _new_update: asyncio.Event

        def _bot(self) -> JSON: ...
        def restore_chat(self, chat_id: int | str) -> None: ...

    def push(self, content: JSON) -> JSON:
        """Queue an update of any shape (even one Telegram would not send); its id is added."""
        return self._push(content)

    def _push(self, update: JSON) -> JSON:
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._new_update.set()
        return update

    def _message(self, user: FakeUser, chat: JSON, text: str | None, **content: Any) -> JSON:
        message: JSON = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user.as_json(),
            **content,
        }
        if text is not None:
            message.update(_with_text(text))
        return message

    def user_message(self, user: FakeUser, text: str | None = None, **content: Any) -> JSON:
        """A private message from `user` (text, or e.g. sticker={...}), as a pending update."""
        return self._push({"message": self._message(user, private_chat(user), text, **content)})

    def group_message(self, user: FakeUser, chat_id: int, text: str) -> JSON:
        """A message from `user` in the group `chat_id` (negative, as Telegram's are)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = {"id": chat_id, "type": "group", "title": f"Group {-chat_id}"}
        return self._push({"message": self._message(user, chat, text)})

    def user_edits(self, user: FakeUser, message: JSON, new_text: str) -> JSON:
        """`user` edits their `message` (or the update holding it) to say `new_text`."""
        original = message.get("message", message)
        edited = {k: v for k, v in original.items() if k != "entities"}
        edited.update(_with_text(new_text), edit_date=int(time.time()))
        edited["from"] = user.as_json()
        return self._push({"edited_message": edited})

    def user_blocks(self, user: FakeUser) -> JSON:
        """`user` blocks the bot: a my_chat_member update, and sends to them now fail 403."""
        self.blocked_chats.add(user.id)
        return self._member_update(user, "member", "kicked")

    def user_unblocks(self, user: FakeUser) -> JSON:
        """`user` unblocks the bot (restarting it): the reverse my_chat_member update."""
        self.restore_chat(user.id)
        return self._member_update(user, "kicked", "member")

    def _member_update(self, user: FakeUser, old: str, new: str) -> JSON:
        def member(status: str) -> JSON:
            # A kicked member needs until_date; 0 means forever.
            extra = {"until_date": 0} if status == "kicked" else {}
            return {"user": self._bot(), "status": status, **extra}

        change = {
            "chat": private_chat(user),
            "from": user.as_json(),
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        return self._push({"my_chat_member": change})

    def user_press(self, user: FakeUser, message: JSON, data: str) -> JSON:
        """`user` presses a button carrying `data` under the bot's `message`."""
        return self._push(
            {
                "callback_query": {
                    "id": str(next(self._query_ids)),
                    "from": user.as_json(),
                    "chat_instance": str(user.id),
                    "message": message,
                    "data": data,
                }
            }
        )
