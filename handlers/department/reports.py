"""The report forms: what was done (with a photo), why a measure is cancelled, progress as a
number, a note."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Content
from bot.i18n import current_locale
from bot.keyboards.department import FormAct, FormCb, skip_keyboard
from handlers.department.base import COMMENT, NOT_ALLOWED, REASON, ReportForm, typed_text
from handlers.department.measures import apply_change, conflict_text, report_view
from models import departments as deps
from models.entities import OPEN_STATUSES, Measure, MeasureStatus, User
from models.permissions import can_update_measure


def router() -> Router:
    """The form's steps take any message, commands too (``typed_text`` explains)."""
    r = Router(name=__name__)
    r.message.filter(StateFilter(ReportForm))
    r.callback_query.filter(StateFilter(ReportForm))
    r.message.register(done_comment, StateFilter(ReportForm.done_comment))
    r.message.register(done_photo, StateFilter(ReportForm.done_photo), Content("photo"))
    r.message.register(done_photo_invalid, StateFilter(ReportForm.done_photo))
    r.message.register(cancel_reason, StateFilter(ReportForm.cancel_reason))
    r.message.register(progress_percent, StateFilter(ReportForm.percent))
    r.message.register(progress_note, StateFilter(ReportForm.note))
    r.callback_query.register(
        done_without_photo, StateFilter(ReportForm.done_photo), FormCb.filter(F.act == FormAct.SKIP)
    )
    return r


async def _form_measure(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    *,
    admin_only: bool = False,
    must_be_open: bool = True,
) -> Measure | None:
    """Re-check, at the moment of saving, that the person may still change the measure."""
    data = await state.get_data()
    measure = await deps.load_measure(session, int(data.get("measure_id", 0)))
    allowed = measure is not None and await can_update_measure(session, user, is_admin, measure.id)
    if measure is None or not allowed or (admin_only and not is_admin):
        await state.clear()
        await message.answer(_(NOT_ALLOWED))
        return None
    if must_be_open and measure.status not in OPEN_STATUSES:
        await state.clear()
        await message.answer(_("This measure was closed meanwhile. Nothing was changed."))
        return None
    return measure


async def _after_save(
    message: Message,
    session: AsyncSession,
    measure: Measure,
    user: User | None,
    is_admin: bool,
    locale: str,
    text: str | None,
) -> None:
    """The confirmation and the measure as it is now; ``text`` None: the change lost a race, and
    the person is told whose change stands."""
    if text is None:
        text = await conflict_text(session, measure.id, locale)
    fresh = await deps.load_measure(session, measure.id) or measure
    view, markup = await report_view(session, fresh, user, is_admin, locale)
    await message.answer(text)
    await message.answer(view, reply_markup=markup)


async def done_comment(message: Message, state: FSMContext) -> None:
    if message.photo:
        await message.answer(
            _("First describe in text what was done; you can attach a photo on the next step.")
        )
        return
    text, error = typed_text(message, COMMENT)
    if error is not None:
        await message.answer(error + "\n" + _("What was done?"))
        return
    await state.update_data(comment=text)
    await state.set_state(ReportForm.done_photo)
    await message.answer(
        _("Attach a photo as proof (it is shown on the card), or press «Skip»."),
        reply_markup=skip_keyboard(_("Skip, no photo")),
    )


async def _finish_done(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
    photo: str | None,
) -> None:
    measure = await _form_measure(message, state, session, user, is_admin)
    if measure is None:
        return
    data = await state.get_data()
    await state.clear()
    saved = await apply_change(
        session, i18n, measure, user, status=MeasureStatus.DONE, comment=str(data["comment"]),
        photo_file_id=photo,
    )  # fmt: skip
    await _after_save(
        message, session, measure, user, is_admin, current_locale(),
        _("Saved: done. Followers are notified and asked to confirm.") if saved else None,
    )  # fmt: skip


async def done_photo(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
) -> None:
    assert message.photo is not None
    await _finish_done(message, state, session, user, is_admin, i18n, message.photo[-1].file_id)


async def done_without_photo(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
) -> None:
    if isinstance(query.message, Message):
        await _finish_done(query.message, state, session, user, is_admin, i18n, None)


async def done_photo_invalid(message: Message) -> None:
    await message.answer(
        _("Please send a photo, or press «Skip» above. Your description is kept."),
        reply_markup=skip_keyboard(_("Skip, no photo")),
    )


async def cancel_reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
) -> None:
    text, error = typed_text(message, REASON)
    if error is not None:
        await message.answer(error + "\n" + _("Why is the measure cancelled?"))
        return
    measure = await _form_measure(message, state, session, user, is_admin, admin_only=True)
    if measure is None:
        return
    await state.clear()
    saved = await apply_change(
        session, i18n, measure, user, status=MeasureStatus.CANCELLED, comment=text
    )
    await _after_save(
        message, session, measure, user, is_admin, current_locale(),
        _("Saved: cancelled. Followers will be notified.") if saved else None,
    )  # fmt: skip


async def progress_percent(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
) -> None:
    raw = (message.text or "").strip().rstrip("%").strip()
    if not raw.isdigit() or not 0 <= int(raw) <= 100:
        await message.answer(
            _("Please send a whole number from 0 to 100, for example 40.")
            if message.text
            else _("Please send the progress as a number from 0 to 100.")
        )
        return
    measure = await _form_measure(message, state, session, user, is_admin)
    if measure is None:
        return
    await state.clear()
    value = int(raw)
    change: dict[str, Any] = {"progress": value}
    if measure.status == MeasureStatus.PLANNED and value > 0:
        change["status"] = MeasureStatus.IN_PROGRESS
    saved = await apply_change(session, i18n, measure, user, **change)
    done_hint = _(" To close the measure, use «Mark done».") if value == 100 else ""
    await _after_save(
        message, session, measure, user, is_admin, current_locale(),
        _("Saved: progress {progress}%.").format(progress=value) + done_hint if saved else None,
    )  # fmt: skip


async def progress_note(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
) -> None:
    text, error = typed_text(message, COMMENT)
    if error is not None:
        await message.answer(error + "\n" + _("Send the update as text."))
        return
    measure = await _form_measure(message, state, session, user, is_admin, must_be_open=False)
    if measure is None:
        return
    await state.clear()
    await apply_change(session, i18n, measure, user, comment=text)
    await _after_save(
        message, session, measure, user, is_admin, current_locale(),
        _("Saved. Followers will be notified."),
    )  # fmt: skip
