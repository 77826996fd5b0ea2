"""A small Bot API server on 127.0.0.1 for running the real bot process in tests.

It serves ``getUpdates`` from a queue (each update to one poller, as Telegram does), records
every other call, and answers sends with well-formed messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 42, "is_bot": True, "first_name": "Kezdesu", "username": "kezdesu_test_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class FakeBotAPI:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._new_update = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.port = 0
        # Set: every later send is recorded (Telegram has it) but answered only once the event
        # is set, so a test can kill the sender while its request is in flight.
        self.hold: asyncio.Event | None = None
        self.held = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def push(self, update: dict[str, Any]) -> None:
        update = {"update_id": next(self._update_ids), **update}
        self.updates.append(update)
        self._new_update.set()

    def push_message(self, user_id: int, text: str, language_code: str = "ru") -> None:
        entities = (
            [{"type": "bot_command", "offset": 0, "length": len(text.split(maxsplit=1)[0])}]
            if text.startswith("/")
            else None
        )
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Test"},
            "from": _user(user_id, language_code),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        self.push({"message": message})

    def push_callback(
        self, user_id: int, data: str, message_id: int, language_code: str = "ru"
    ) -> None:
        self.push(
            {
                "callback_query": {
                    "id": str(next(self._message_ids)),
                    "from": _user(user_id, language_code),
                    "chat_instance": "ci",
                    "data": data,
                    "message": {
                        "message_id": message_id,
                        "date": int(time.time()),
                        "chat": {"id": user_id, "type": "private", "first_name": "Test"},
                        "from": BOT_USER,
                        "text": "…",
                    },
                }
            }
        )

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method.lower() == method.lower()
            and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)
        ]

    async def wait_for(
        self, predicate: Any, timeout: float = 120.0, interval: float = 0.05
    ) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [c for c in self.calls if predicate(c)]
            if found:
                return found
            await asyncio.sleep(interval)
        raise AssertionError(f"timed out; calls so far: {[c.method for c in self.calls]}")

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = {}
        if request.can_read_body:
            if request.content_type == "application/json":
                params = await request.json()
            else:
                form = await request.post()
                for key, value in form.items():
                    params[key] = _decode(value)
        params.update(request.query)
        if method.lower() == "getupdates":
            return await self._get_updates(params)
        self.calls.append(Call(method, params))
        if self.hold is not None and method.lower().startswith("send"):
            self.held += 1
            await self.hold.wait()
        return web.json_response({"ok": True, "result": self._result(method, params)})

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 1.0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and timeout:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        batch, self.updates = self.updates[:100], self.updates[100:]
        return web.json_response({"ok": True, "result": batch})

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        name = method.lower()
        if name == "getme":
            return BOT_USER
        if name in {"sendmessage", "editmessagetext", "sendphoto", "senddocument"}:
            chat_id = int(params.get("chat_id") or 0)
            result: dict[str, Any] = {
                "message_id": int(params.get("message_id") or next(self._message_ids)),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": BOT_USER,
            }
            if "text" in params:
                result["text"] = params["text"]
            if isinstance(params.get("reply_markup"), dict) and params["reply_markup"].get(
                "inline_keyboard"
            ):
                result["reply_markup"] = params["reply_markup"]
            return result
        return True


def _decode(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _user(user_id: int, language_code: str) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Test", "language_code": language_code}
