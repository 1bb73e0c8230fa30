"""Files the bot sends the emulator: documents (`/mydata`'s copy) and photos (charts).
What was uploaded is kept in `files` by file_id, so that tests can read it back."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from bot.core.telegram_html import check_html
from bot.testing.botapi_server import ApiError, Upload

JSON = dict[str, Any]
UPLOAD_LIMIT = 50 * 1000 * 1000  # the largest file a bot may send (Bot API: 50 MB)
CAPTION_LIMIT = 1024
PHOTO_LIMIT = 10 * 1000 * 1000  # a photo uploaded by a bot


class Files:
    """sendDocument and sendPhoto; the emulator's state they use is declared below."""

    if TYPE_CHECKING:
        files: dict[str, Upload]
        _file_ids: itertools.count[int]

        def _sent(self, chat: int, content: JSON, reply_markup: Any) -> JSON: ...
        def sent_to(self, chat_id: int) -> list[JSON]: ...

    def api_sendDocument(
        self,
        chat_id: int | str,
        document: Any,
        caption: str | None = None,
        parse_mode: str | None = None,
        reply_markup: Any = None,
        **_: Any,
    ) -> JSON:
        """A file, uploaded (multipart/form-data) or sent again by its file_id; what was
        uploaded is kept in `files` (`document_of` reads it back)."""
        if isinstance(document, Upload):
            if not document:
                raise ApiError(400, "Bad Request: file must be non-empty")
            if len(document) > UPLOAD_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
            file_id = f"BQACAgQAAx{next(self._file_ids):06d}"
            self.files[file_id] = document
        elif isinstance(document, str) and document in self.files:
            file_id = document
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        upload = self.files[file_id]
        content: JSON = {
            "document": {
                "file_id": file_id,
                "file_unique_id": f"AgAD{file_id[-6:]}",
                "file_name": upload.name or "document",
                "mime_type": upload.mime_type,
                "file_size": len(upload),
            }
        }
        if caption:
            content["caption"] = self._caption(caption, parse_mode)
        return self._sent(int(chat_id), content, reply_markup)

    def api_sendPhoto(
        self,
        chat_id: int | str,
        photo: Any,
        caption: str | None = None,
        parse_mode: str | None = None,
        reply_markup: Any = None,
        **_: Any,
    ) -> JSON:
        """A picture, uploaded: kept in `files` like a document (`photo_of` reads it back);
        Telegram answers with sizes of it (one here: the emulator does not resize)."""
        if not isinstance(photo, Upload) or not photo:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        if len(photo) > PHOTO_LIMIT:
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        file_id = f"AgACAgQAAx{next(self._file_ids):06d}"
        self.files[file_id] = photo
        content: JSON = {
            "photo": [{"file_id": file_id, "file_unique_id": f"AQAD{file_id[-6:]}",
                       "width": 1, "height": 1, "file_size": len(photo)}]
        }  # fmt: skip
        if caption:
            content["caption"] = self._caption(caption, parse_mode)
        return self._sent(int(chat_id), content, reply_markup)

    @staticmethod
    def _caption(caption: str, parse_mode: str | None) -> str:
        if len(caption) > CAPTION_LIMIT:
            raise ApiError(400, "Bad Request: message caption is too long")
        if parse_mode == "HTML" and (problem := check_html(caption)):
            raise ApiError(400, f"Bad Request: can't parse entities: {problem}")
        return caption

    def photo_of(self, message: JSON) -> Upload:
        """The picture a message the bot sent carries."""
        return self.files[message["photo"][-1]["file_id"]]

    def document_of(self, message: JSON) -> Upload:
        """The file a message the bot sent carries (its name, media type and bytes)."""
        return self.files[message["document"]["file_id"]]

    def documents_to(self, chat_id: int) -> list[Upload]:
        """Every file the bot sent to `chat_id`, oldest first."""
        return [self.document_of(m) for m in self.sent_to(chat_id) if "document" in m]
