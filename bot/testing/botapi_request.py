"""PTB's HTTP layer replaced by direct calls into the emulator: the whole PTB stack, in
process, without a socket."""

from __future__ import annotations

import json
from typing import Any

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from bot.testing.botapi_server import Api, ConnectionDropped, Upload

JSON = dict[str, Any]


class EmulatorRequest(BaseRequest):
    """PTB's HTTP layer replaced by direct calls into a BotApiEmulator."""

    def __init__(self, emulator: Api) -> None:
        self.emulator = emulator

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        # PTB calls {base_url}{token}/{method}, base_url ending in "/bot" by default.
        head, api_method = url.rsplit("/", 1)
        token = head.rsplit("/", 1)[-1].removeprefix("bot")
        params: JSON = dict(request_data.parameters) if request_data is not None else {}
        if request_data is not None and request_data.contains_files:
            # the parts a multipart/form-data body would carry: (file name, content, type)
            for part, (filename, content, mime_type) in request_data.multipart_data.items():
                raw = content if isinstance(content, bytes) else content.read()
                params[part] = Upload(raw, filename or "", mime_type or "application/octet-stream")
        try:
            status, body = await self.emulator.call(api_method, params, token)
        except ConnectionDropped as exc:
            raise NetworkError(f"emulator dropped the connection to {exc}") from exc
        return status, json.dumps(body).encode()
