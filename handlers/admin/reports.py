"""A meeting's documents: its report (laid out like the akimat's published one) and the
progress report on its action plan, as DOCX or PDF, in Russian, Kazakh or English.

The content is gathered and translated in the event loop; the file is laid out in a worker
thread (``asyncio.to_thread``) while the chat shows "sending a file…".
"""

from __future__ import annotations

import asyncio

from aiogram import Bot, F, Router
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.chat_action import ChatActionSender
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

import documents
from bot.formatting import fmt_datetime
from bot.i18n import SUPPORTED_LOCALES, current_locale
from bot.keyboards.admin import DocAction, MeetAction, MeetCb, MeetDocCb, documents_keyboard
from bot.replies import refuse, show
from models.clock import local_today
from models.meeting_report import build_meeting_report
from models.meetings import get_meeting

MAX_CAPTION = 1024


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(documents_menu, MeetCb.filter(F.action == MeetAction.DOCUMENTS))
    r.callback_query.register(documents_menu, MeetDocCb.filter(F.action == DocAction.MENU))
    r.callback_query.register(send_document, MeetDocCb.filter(F.action == DocAction.SEND))
    return r


async def documents_menu(
    query: CallbackQuery,
    callback_data: MeetCb | MeetDocCb,
    session: AsyncSession,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await get_meeting(session, callback_data.id)
    if meeting is None:
        refuse(callback_answer, _("This meeting no longer exists."))
        return
    locale = current_locale()
    lang = getattr(callback_data, "lang", locale)
    if lang not in SUPPORTED_LOCALES:
        lang = locale
    text = _(
        "📄 <b>Documents of the meeting of {when}</b>\n"
        "The report on the meeting, laid out like the one the akimat publishes, or the progress "
        "of its action plan as of today. Choose the format; the language is marked below."
    ).format(when=fmt_datetime(meeting.starts_at, locale))
    await show(query, text, documents_keyboard(meeting.id, lang))


async def send_document(
    query: CallbackQuery,
    callback_data: MeetDocCb,
    session: AsyncSession,
    i18n: I18n,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    lang = callback_data.lang if callback_data.lang in SUPPORTED_LOCALES else current_locale()
    report = await build_meeting_report(session, callback_data.id, local_today())
    if report is None:
        refuse(callback_answer, _("This meeting no longer exists."))
        return
    document = documents.compose(report, callback_data.kind, i18n, lang)
    name = documents.file_name(report, callback_data.kind, callback_data.fmt, lang)
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    async with ChatActionSender.upload_document(chat_id=chat_id, bot=bot):
        data = await asyncio.to_thread(documents.render, document, callback_data.fmt)
    caption = f"{document.title}\n{document.subtitle}"[:MAX_CAPTION]
    await bot.send_document(
        chat_id, BufferedInputFile(data, filename=name), caption=caption, parse_mode=None
    )
