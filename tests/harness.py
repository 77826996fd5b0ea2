"""Driving the bot the way Telegram does, with no network.

``RecordingSession`` is a Bot session that records every request and answers with a well-formed
result (a ``Message`` for sends and edits, ``True`` for the rest). Like the real Bot API it
refuses text over 4096 characters, callback data over 64 bytes and HTML that Telegram could not
parse, so a test fails where Telegram would. Errors can be queued per method (429, 403, 5xx,
network) for the delivery tests.

``BotClient`` builds ``Update`` objects and feeds them to the real ``Dispatcher``:
``send(text)``, ``click(message, "button text")``, ``inline(query)``, and reads back what the
bot sent or edited.
"""

from __future__ import annotations

import datetime as dt
import html.parser
import itertools
import json
from collections import defaultdict, deque
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import (
    AnswerCallbackQuery,
    AnswerInlineQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetChatMember,
    GetFile,
    GetMe,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatMemberMember,
    ChatMemberOwner,
    ChosenInlineResult,
    Document,
    File,
    InlineKeyboardMarkup,
    InlineQuery,
    Location,
    Message,
    PhotoSize,
    ReplyKeyboardMarkup,
    Sticker,
    Update,
    User,
    Video,
    Voice,
)

from bot.middlewares import prepare_bot

BOT_ID = 42
BOT_USERNAME = "kezdesu_test_bot"
TOKEN = f"{BOT_ID}:TEST-TOKEN"

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "tg-spoiler", "span", "blockquote", "tg-emoji",
}  # fmt: skip


class _TelegramHTML(html.parser.HTMLParser):
    """Approximates the Bot API's HTML parser: known tags only, properly nested."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.error = f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = f'Unexpected end tag "{tag}"'
            return
        self.stack.pop()


def html_error(text: str) -> str | None:
    if "<" not in text and "&" not in text:
        return None
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.error:
        return parser.error
    if parser.stack:
        return f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"'
    # a bare '&' that is not an entity is rejected by Telegram
    for index in [i for i, ch in enumerate(text) if ch == "&"]:
        tail = text[index : index + 10]
        if ";" not in tail:
            return "Can't parse entities: unclosed entity"
    return None


def visible_text(text: str) -> str:
    """What the user reads: tags removed, entities decoded."""

    class _Strip(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    stripper = _Strip()
    stripper.feed(text)
    stripper.close()
    return "".join(stripper.parts)


@dataclass
class Sent:
    """One request the bot made, with the message it produced (if any)."""

    method: TelegramMethod[Any]
    result: Any

    @property
    def text(self) -> str:
        raw = getattr(self.method, "text", None) or getattr(self.method, "caption", None) or ""
        return visible_text(str(raw))

    @property
    def markup(self) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
        return getattr(self.method, "reply_markup", None)

    @property
    def buttons(self) -> list[str]:
        markup = self.markup
        if isinstance(markup, InlineKeyboardMarkup):
            return [b.text for row in markup.inline_keyboard for b in row]
        if isinstance(markup, ReplyKeyboardMarkup):
            return [b.text for row in markup.keyboard for b in row]
        return []


def _check_limits(method: TelegramMethod[Any], parse_mode: str | None) -> str | None:
    text = getattr(method, "text", None)
    caption = getattr(method, "caption", None)
    if text is not None:
        if not str(text).strip():
            return "Bad Request: message text is empty"
        if len(visible_text(str(text)) if parse_mode == ParseMode.HTML else str(text)) > 4096:
            return "Bad Request: message is too long"
    if caption is not None and len(str(caption)) > 1024:
        return "Bad Request: message caption is too long"
    mode = getattr(method, "parse_mode", None)
    if not isinstance(mode, str):
        mode = parse_mode
    if mode == ParseMode.HTML:
        for value in (text, caption):
            if value is not None and (error := html_error(str(value))):
                return f"Bad Request: can't parse entities: {error}"
    markup = getattr(method, "reply_markup", None)
    if isinstance(markup, InlineKeyboardMarkup):
        for row in markup.inline_keyboard:
            for button in row:
                if button.callback_data is not None and len(button.callback_data.encode()) > 64:
                    return "Bad Request: BUTTON_DATA_INVALID"
                if not button.text:
                    return "Bad Request: button text is empty"
    return None


class RecordingSession(BaseSession):
    """Records every request and answers as Telegram would. With ``checks`` (the tests) it also
    refuses what Telegram refuses (bad HTML, too long, callback data over 64 bytes); the
    benchmarks turn that off, as it is work Telegram's servers do, not the bot."""

    def __init__(self, *, checks: bool = True) -> None:
        super().__init__()
        self.checks = checks
        self.requests: list[Sent] = []
        self.errors: dict[type, deque[tuple[int, str, dict[str, Any] | None] | Exception]] = (
            defaultdict(deque)
        )
        self._message_ids = itertools.count(10_000)
        self.closed = False
        # (chat_id, user_id) pairs that GetChatMember reports as the group's creator
        self.chat_admins: set[tuple[int, int]] = set()
        self.files: dict[str, bytes] = {}  # file_id → content served by GetFile + download

    def add_file(self, file_id: str, content: bytes) -> None:
        """Let ``bot.download(file_id)`` fetch these bytes (a document the user sent)."""
        self.files[file_id] = content

    def fail_next(
        self,
        method: type[TelegramMethod[Any]],
        status: int,
        description: str,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """Make the next call of ``method`` answer with this Bot API error."""
        self.errors[method].append((status, description, parameters))

    def fail_next_network(self, method: type[TelegramMethod[Any]]) -> None:
        self.errors[method].append(TelegramNetworkError(method=None, message="timeout"))  # type: ignore[arg-type]

    async def close(self) -> None:
        self.closed = True

    async def stream_content(  # type: ignore[override]
        self, url: str, headers: Any = None, timeout: int = 30, chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:  # fmt: skip
        for file_id, content in self.files.items():
            if url.endswith(f"/files/{file_id}"):
                for start in range(0, len(content), chunk_size):
                    yield content[start : start + chunk_size]
                return
        yield b""

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        queued = self.errors.get(type(method))
        if queued:
            error = queued.popleft()
            self.requests.append(Sent(method, None))
            if isinstance(error, Exception):
                raise error
            status, description, parameters = error
            content = {"ok": False, "error_code": status, "description": description}
            if parameters:
                content["parameters"] = parameters
            self.check_response(bot, method, status, json.dumps(content))
        problem = _check_limits(method, bot.default.parse_mode) if self.checks else None
        if problem is not None:
            self.requests.append(Sent(method, None))
            self.check_response(
                bot,
                method,
                400,
                json.dumps({"ok": False, "error_code": 400, "description": problem}),
            )
        result = self._result(bot, method)
        if not isinstance(method, GetMe):  # who the bot is: asked once (Bot.me), not a message
            self.requests.append(Sent(method, result))
        return result

    def _result(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        now = dt.datetime.now(dt.UTC)
        if isinstance(method, GetMe):
            return User(id=BOT_ID, is_bot=True, first_name="Kezdesu", username=BOT_USERNAME)
        if isinstance(method, GetFile):
            content = self.files.get(method.file_id, b"")
            return File(
                file_id=method.file_id,
                file_unique_id=method.file_id,
                file_size=len(content),
                file_path=f"files/{method.file_id}",
            )
        if isinstance(method, GetChatMember):
            member = User(id=method.user_id, is_bot=False, first_name="Member")
            if (int(method.chat_id), method.user_id) in self.chat_admins:
                return ChatMemberOwner(user=member, is_anonymous=False)
            return ChatMemberMember(user=member)
        if isinstance(method, SendMessage | SendPhoto | SendDocument):
            chat_id = int(method.chat_id)
            extra: dict[str, Any] = {}
            if isinstance(method, SendMessage):
                extra["text"] = method.text
            else:
                extra["caption"] = method.caption
            if isinstance(method, SendPhoto):
                extra["photo"] = [
                    PhotoSize(file_id="sent-photo", file_unique_id="sp", width=1, height=1)
                ]
            if isinstance(method, SendDocument):
                extra["document"] = Document(file_id="sent-doc", file_unique_id="sd")
            markup = (
                method.reply_markup
                if isinstance(method.reply_markup, InlineKeyboardMarkup)
                else None
            )
            return Message(
                message_id=next(self._message_ids),
                date=now,
                chat=Chat(id=chat_id, type="private" if chat_id > 0 else "supergroup"),
                from_user=User(id=BOT_ID, is_bot=True, first_name="Kezdesu"),
                reply_markup=markup,
                **extra,
            )
        if isinstance(method, EditMessageText | EditMessageReplyMarkup):
            if method.inline_message_id:
                return True
            markup = method.reply_markup
            return Message(
                message_id=int(method.message_id or 0),
                date=now,
                chat=Chat(id=int(method.chat_id or 0), type="private"),
                from_user=User(id=BOT_ID, is_bot=True, first_name="Kezdesu"),
                text=getattr(method, "text", None) or "",
                reply_markup=markup,
            )
        return True


def make_bot(session: RecordingSession | None = None, *, prepare: bool = True) -> Bot:
    """A Bot over the recording session, prepared as ``bot.app.create_bot`` prepares the
    production one (``prepare=False``: a plain aiogram Bot, as the benchmark's echo bot uses)."""
    bot = Bot(
        TOKEN,
        session=session or RecordingSession(),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
    return prepare_bot(bot) if prepare else bot


_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


@dataclass
class BotClient:
    """One Telegram user (or a group member) talking to the bot."""

    dp: Dispatcher
    bot: Bot
    user_id: int = 1001
    first_name: str = "Айгерим"
    last_name: str | None = "Сейткали"
    username: str | None = "aigerim"
    language_code: str | None = "ru"
    chat_id: int | None = None  # None: the private chat with the user
    chat_type: str = "private"
    chat_title: str | None = None
    last_result: Any = field(default=None, init=False)

    @property
    def session(self) -> RecordingSession:
        assert isinstance(self.bot.session, RecordingSession)
        return self.bot.session

    @property
    def tg_user(self) -> User:
        return User(
            id=self.user_id,
            is_bot=False,
            first_name=self.first_name,
            last_name=self.last_name,
            username=self.username,
            language_code=self.language_code,
        )

    @property
    def chat(self) -> Chat:
        if self.chat_id is None or self.chat_type == "private":
            return Chat(id=self.user_id, type="private", first_name=self.first_name)
        return Chat(id=self.chat_id, type=self.chat_type, title=self.chat_title or "Group")

    def _message(self, **content: Any) -> Message:
        return Message(
            message_id=next(_message_ids),
            date=dt.datetime.now(dt.UTC),
            chat=self.chat,
            from_user=self.tg_user,
            **content,
        )

    async def feed(self, update: Update, **kwargs: Any) -> list[Sent]:
        start = len(self.session.requests)
        self.last_result = await self.dp.feed_update(self.bot, update, **kwargs)
        return self.session.requests[start:]

    async def send(self, text: str, **kwargs: Any) -> list[Sent]:
        entities = None
        if text.startswith("/"):
            from aiogram.types import MessageEntity

            command = text.split(maxsplit=1)[0]
            entities = [MessageEntity(type="bot_command", offset=0, length=len(command))]
        message = self._message(text=text, entities=entities)
        return await self.feed(Update(update_id=next(_update_ids), message=message), **kwargs)

    async def send_content(self, kind: str, **extra: Any) -> list[Sent]:
        """A non-text message: ``sticker``, ``photo``, ``voice``, ``video``, ``document``,
        ``location``; ``extra`` adds fields (``caption``, ``media_group_id``, a photo's
        ``file_id``)."""
        content: dict[str, Any]
        match kind:
            case "sticker":
                content = {
                    "sticker": Sticker(
                        file_id="stk", file_unique_id="stk", type="regular", width=512,
                        height=512, is_animated=False, is_video=False,
                    )
                }  # fmt: skip
            case "photo":
                file_id = extra.pop("file_id", "ph1")
                content = {
                    "photo": [
                        PhotoSize(file_id=f"{file_id}-s", file_unique_id="s", width=90, height=90),
                        PhotoSize(file_id=file_id, file_unique_id=file_id, width=900, height=900),
                    ]
                }
            case "video":
                content = {
                    "video": Video(
                        file_id="vd", file_unique_id="vd", width=640, height=480, duration=5
                    )
                }
            case "voice":
                content = {"voice": Voice(file_id="vc", file_unique_id="vc", duration=3)}
            case "document":
                content = {
                    "document": Document(
                        file_id=extra.pop("file_id", "doc"),
                        file_unique_id="doc",
                        file_name=extra.pop("file_name", "file.bin"),
                        file_size=extra.pop("file_size", 10),
                        mime_type=extra.pop("mime_type", None),
                    )
                }
            case "location":
                content = {"location": Location(latitude=43.25, longitude=76.95)}
            case _:
                raise ValueError(kind)
        content.update(extra)
        message = self._message(**content)
        return await self.feed(Update(update_id=next(_update_ids), message=message))

    async def click(self, target: Sent | Message | InlineKeyboardMarkup, button: str) -> list[Sent]:
        """Press the inline button whose text contains ``button`` (first match)."""
        markup, message = _markup_and_message(target, self)
        for row in markup.inline_keyboard:
            for b in row:
                if button in b.text and b.callback_data is not None:
                    return await self.press(b.callback_data, message)
        options = [b.text for row in markup.inline_keyboard for b in row]
        raise AssertionError(f"no button {button!r} among {options}")

    async def press(self, data: str, message: Message | None = None) -> list[Sent]:
        """Send raw callback data (a stale or forged button when the data is made up)."""
        if message is None:
            message = Message(
                message_id=next(_message_ids),
                date=dt.datetime.now(dt.UTC),
                chat=self.chat,
                from_user=User(id=BOT_ID, is_bot=True, first_name="Kezdesu"),
                text="…",
            )
        query = CallbackQuery(
            id=str(next(_update_ids)),
            from_user=self.tg_user,
            chat_instance="ci",
            message=message,
            data=data,
        )
        return await self.feed(Update(update_id=next(_update_ids), callback_query=query))

    async def inline(self, query: str) -> list[Sent]:
        inline_query = InlineQuery(
            id=str(next(_update_ids)), from_user=self.tg_user, query=query, offset=""
        )
        return await self.feed(Update(update_id=next(_update_ids), inline_query=inline_query))

    async def chosen_inline(self, result_id: str, query: str = "") -> list[Sent]:
        chosen = ChosenInlineResult(result_id=result_id, from_user=self.tg_user, query=query)
        return await self.feed(Update(update_id=next(_update_ids), chosen_inline_result=chosen))


def _markup_and_message(
    target: Sent | Message | InlineKeyboardMarkup, client: BotClient
) -> tuple[InlineKeyboardMarkup, Message | None]:
    if isinstance(target, InlineKeyboardMarkup):
        return target, None
    if isinstance(target, Message):
        assert isinstance(target.reply_markup, InlineKeyboardMarkup), "message has no buttons"
        return target.reply_markup, target
    markup = target.markup
    assert isinstance(markup, InlineKeyboardMarkup), f"no inline keyboard in {target.text!r}"
    result = target.result
    if isinstance(result, Message):
        message = result
    else:  # an edit answered True, or a request without result: rebuild the message it shows
        message = Message(
            message_id=int(getattr(target.method, "message_id", 0) or 0),
            date=dt.datetime.now(dt.UTC),
            chat=client.chat,
            from_user=User(id=BOT_ID, is_bot=True, first_name="Kezdesu"),
            text=target.text,
            reply_markup=markup,
        )
    return markup, message


def messages(sent: Iterable[Sent]) -> list[Sent]:
    """Only sends and edits that show text to the user (no callback answers etc.)."""
    kinds = (SendMessage, EditMessageText, SendPhoto, SendDocument)
    return [s for s in sent if isinstance(s.method, kinds)]


def last_message(sent: Iterable[Sent]) -> Sent:
    shown = messages(sent)
    assert shown, "the bot showed nothing"
    return shown[-1]


def alerts(sent: Iterable[Sent]) -> list[str]:
    return [
        s.method.text or ""
        for s in sent
        if isinstance(s.method, AnswerCallbackQuery) and s.method.text
    ]


def inline_answers(sent: Iterable[Sent]) -> list[AnswerInlineQuery]:
    return [s.method for s in sent if isinstance(s.method, AnswerInlineQuery)]


def find(sent: Iterable[Sent], predicate: Callable[[Sent], bool]) -> Sent:
    for s in sent:
        if predicate(s):
            return s
    raise AssertionError("no matching request")
