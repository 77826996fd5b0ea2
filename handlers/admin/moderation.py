"""The moderation queue: new and returned questions; a question's card; accepting (with its
category and department), rerouting, rejecting with a reason, merging into an earlier question.

A button may be old, pressed twice, or made up: every handler re-reads the question before it
changes anything."""

from __future__ import annotations

from aiogram import Bot, F, Router, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import AdminCb, AdminSection
from bot.filters import PlainText
from bot.formatting import fmt_datetime
from bot.forms import TextReplies, form_text
from bot.i18n import current_locale
from bot.keyboards.common import clamp_page
from bot.keyboards.moderation import (
    DEPARTMENTS_PAGE,
    QUEUE_PAGE,
    AcceptStep,
    MergeStep,
    ModAcceptCb,
    ModAction,
    ModCb,
    ModMergeCb,
    accept_keyboard,
    cancel_form_keyboard,
    card_keyboard,
    category_keyboard,
    department_keyboard,
    merge_confirm_keyboard,
    merge_keyboard,
    queue_keyboard,
)
from bot.keyboards.questions import similar_lines
from bot.labels import question_label
from bot.replies import refuse, show
from models import moderation as mod
from models.claims import claim_question
from models.clock import local_today
from models.entities import Category, Department, Question, QuestionSource, QuestionStatus
from models.similar import Similar, similar_items
from models.text import TextRule, strip_controls, truncate
from models.translation import N_
from scheduler.notifications import questions as notifications


class ModForm(StatesGroup):
    reject_reason = State()
    merge_ref = State()
    oral_text = State()
    oral_outcome = State()


REASON = TextRule(maximum=mod.REASON_MAX)
REASON_REPLIES = TextReplies(
    empty=N_("The reason cannot be empty. Please send it as text."),
    too_long=N_(
        "The reason is too long ({length} characters; the limit is {limit}). "
        "Please shorten it and send it again."
    ),
)


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(moderate_command, Command("moderate"), StateFilter(None))
    r.message.register(save_reject_reason, StateFilter(ModForm.reject_reason), PlainText())
    r.message.register(reject_reason_fallback, StateFilter(ModForm.reject_reason))
    r.message.register(merge_by_ref, StateFilter(ModForm.merge_ref), PlainText())
    r.message.register(merge_ref_fallback, StateFilter(ModForm.merge_ref))
    r.callback_query.register(open_section, AdminCb.filter(F.section == AdminSection.MODERATION))
    r.callback_query.register(queue_page, ModCb.filter(F.action == ModAction.LIST))
    r.callback_query.register(open_question, ModCb.filter(F.action == ModAction.OPEN))
    r.callback_query.register(
        send_question_photo,
        ModCb.filter((F.action == ModAction.PHOTO) & (F.id > 0) & (F.id < 2**63)),
    )
    r.callback_query.register(accept_flow, ModAcceptCb.filter())
    r.callback_query.register(ask_reject_reason, ModCb.filter(F.action == ModAction.REJECT))
    r.callback_query.register(choose_merge_target, ModCb.filter(F.action == ModAction.MERGE))
    r.callback_query.register(ask_merge_ref, ModCb.filter(F.action == ModAction.MERGE_REF))
    r.callback_query.register(merge_flow, ModMergeCb.filter())
    return r


# --- helpers ---------------------------------------------------------------------------------


async def leave_form(state: FSMContext) -> None:
    current = await state.get_state()
    if current is not None and current.startswith(f"{ModForm.__name__}:"):
        await state.clear()


def ref_of(question: Question) -> str:
    return html.quote(question.ref or f"#{question.id}")


# --- the queue -------------------------------------------------------------------------------


async def render_queue(
    session: AsyncSession, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    counts = await mod.queue_counts(session)
    page = clamp_page(page, counts.total, QUEUE_PAGE)
    questions = await mod.queue_page(session, page, QUEUE_PAGE)
    categories = {c.id: c for c in await mod.categories(session)}
    lines = [_("🗂 <b>Moderation queue</b>")]
    if counts.total:
        lines.append(
            _("New questions: {new}. Returned by departments: {returned}.").format(
                new=counts.new, returned=counts.returned
            )
        )
        lines.append(_("Returned ones first, then new ones, oldest first. Open one to act."))
    else:
        lines.append(_("The queue is empty: no new or returned questions."))
    return "\n".join(lines), queue_keyboard(questions, categories, page, counts.total, locale)


async def moderate_command(message: Message, session: AsyncSession) -> None:
    text, markup = await render_queue(session, 0, current_locale())
    await message.answer(text, reply_markup=markup)


async def open_section(query: CallbackQuery, session: AsyncSession, state: FSMContext) -> None:
    await leave_form(state)
    text, markup = await render_queue(session, 0, current_locale())
    await show(query, text, markup)


async def queue_page(
    query: CallbackQuery,
    callback_data: ModCb,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    await leave_form(state)
    text, markup = await render_queue(session, callback_data.page, current_locale())
    await show(query, text, markup)


# --- a question's card -----------------------------------------------------------------------


def render_card(
    ctx: mod.QuestionContext, locale: str, i18n: I18n, similar: Similar | None = None
) -> str:
    q = ctx.question
    lines = [
        _("🗂 <b>Question {ref}</b>").format(ref=ref_of(q)),
        _("Status: {status}").format(status=question_label(i18n, q.status, locale)),
    ]
    if mod.is_returned(q):
        department = ctx.department.short(locale) if ctx.department else "—"
        lines.append(
            _("↩️ Returned by {department}: <i>{reason}</i>").format(
                department=html.quote(department),
                reason=html.quote(truncate(q.return_reason or "—", 800)),
            )
        )
    elif ctx.department is not None:
        lines.append(
            _("Department: {department}").format(
                department=html.quote(ctx.department.short(locale))
            )
        )
    lines.append(_("Category: {category}").format(category=html.quote(ctx.category.name(locale))))
    lines.append(_("District: {district}").format(district=html.quote(ctx.district.name(locale))))
    if ctx.meeting is not None:
        lines.append(_("Meeting: {date}").format(date=fmt_datetime(ctx.meeting.starts_at, locale)))
    else:
        lines.append(_("Meeting: the next one, not scheduled yet"))
    if q.address:
        lines.append(_("Address: {address}").format(address=html.quote(truncate(q.address, 300))))
    if q.latitude is not None and q.longitude is not None:
        lines.append(
            _("Location: {lat}, {lon}").format(lat=f"{q.latitude:.5f}", lon=f"{q.longitude:.5f}")
        )
    if q.source == QuestionSource.ORAL:
        lines.append(_("Raised orally at the meeting"))
    elif q.show_name and q.author_name:
        lines.append(_("Author: {name}").format(name=html.quote(q.author_name)))
    else:
        lines.append(_("Author: anonymous"))
    lines.append(_("Supporters: {count}").format(count=q.supporters))
    lines.append(_("Received: {date}").format(date=fmt_datetime(q.created_at, locale)))
    if q.status == QuestionStatus.REJECTED and q.reject_reason:
        lines.append(
            _("Rejection reason: {reason}").format(
                reason=html.quote(truncate(q.reject_reason, 800))
            )
        )
    if ctx.merged_into is not None:
        lines.append(_("Merged into {ref}").format(ref=ref_of(ctx.merged_into)))
    if q.photo_file_id:
        lines.append(_("📷 A photo is attached."))
    lines.append("")
    lines.append(f"<i>{html.quote(truncate(q.text, 2000))}</i>")
    text = "\n".join(lines)
    if similar:
        extra = "\n".join(["", *similar_lines(similar, locale, i18n)])
        if len(text) + len(extra) <= MAX_CARD:
            text += extra
    return text


MAX_CARD = 4000  # the close items are left out of a card that would not fit a message


async def show_card(
    query: CallbackQuery, session: AsyncSession, i18n: I18n, question_id: int, page: int = 0
) -> bool:
    ctx = await mod.question_context(session, question_id)
    if ctx is None:
        return False
    q = ctx.question
    markup = card_keyboard(
        q,
        page,
        can_accept=q.status in mod.OPEN_FOR_MODERATION,
        can_merge=q.status in mod.OPEN_FOR_MODERATION,
    )
    similar = await similar_items(
        session,
        q.text,
        district_id=q.district_id,
        meeting_id=q.meeting_id,
        today=local_today(),
        exclude_question_id=q.id,
    )
    await show(query, render_card(ctx, current_locale(), i18n, similar), markup)
    return True


async def send_question_photo(
    query: CallbackQuery,
    callback_data: ModCb,
    session: AsyncSession,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """The question's photo, as a new message below the card (moderators only: the router)."""
    question = await session.get(Question, callback_data.id)
    if question is None or not question.photo_file_id:
        stale(callback_answer)
        return
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    await bot.send_photo(
        chat_id,
        question.photo_file_id,
        caption=_("📷 Photo of the question {ref}").format(ref=ref_of(question)),
    )


def stale(callback_answer: CallbackAnswer) -> None:
    refuse(callback_answer, _("This question is no longer available."))


def already_handled(callback_answer: CallbackAnswer) -> None:
    refuse(callback_answer, _("This question has already been handled; here is where it stands."))


async def _lost_race(
    query: CallbackQuery,
    session: AsyncSession,
    i18n: I18n,
    question: Question,
    callback_answer: CallbackAnswer,
) -> None:
    """Another moderator changed the question at the same moment: their change stands."""
    await session.refresh(question)
    already_handled(callback_answer)
    await show_card(query, session, i18n, question.id)


async def open_question(
    query: CallbackQuery,
    callback_data: ModCb,
    session: AsyncSession,
    i18n: I18n,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    await leave_form(state)
    if not await show_card(query, session, i18n, callback_data.id, callback_data.page):
        stale(callback_answer)


# --- accept / reroute ------------------------------------------------------------------------


async def _resolve_department(session: AsyncSession, category: Category, dep: int) -> int | None:
    """``dep``: -1 the category's default, 0 none, otherwise a department id (must exist)."""
    if dep == -1:
        return category.default_department_id
    if dep == 0:
        return None
    department = await session.get(Department, dep)
    if department is None:
        raise LookupError(dep)
    return department.id


async def accept_flow(
    query: CallbackQuery,
    callback_data: ModAcceptCb,
    session: AsyncSession,
    i18n: I18n,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    await leave_form(state)
    locale = current_locale()
    question = await session.get(Question, callback_data.id)
    category = await session.get(Category, callback_data.cat)
    if question is None or category is None:
        stale(callback_answer)
        return
    if question.status not in mod.OPEN_FOR_MODERATION:
        already_handled(callback_answer)
        await show_card(query, session, i18n, question.id)
        return
    try:
        department_id = await _resolve_department(session, category, callback_data.dep)
    except LookupError:
        stale(callback_answer)
        return

    if callback_data.step == AcceptStep.CATEGORIES:
        await show(
            query,
            _("Choose the category of {ref}:").format(ref=ref_of(question)),
            category_keyboard(question.id, await mod.categories(session), category.id, locale),
        )
        return
    if callback_data.step == AcceptStep.DEPARTMENTS:
        departments = await mod.departments(session)
        page = clamp_page(callback_data.page, len(departments), DEPARTMENTS_PAGE)
        await show(
            query,
            _("Choose the department that will answer {ref}:").format(ref=ref_of(question)),
            department_keyboard(
                question.id, category.id, departments, department_id or 0, page, locale
            ),
        )
        return
    if callback_data.step == AcceptStep.SAVE:
        unchanged = (
            question.status == QuestionStatus.ACCEPTED
            and not mod.is_returned(question)
            and question.category_id == category.id
            and question.department_id == department_id
        )
        if unchanged:  # a double tap, or an old confirmation pressed again
            already_handled(callback_answer)
            await show_card(query, session, i18n, question.id)
            return
        if not await claim_question(session, question):
            await _lost_race(query, session, i18n, question, callback_answer)
            return
        changed = mod.accept(question, category.id, department_id)
        if changed:
            await notifications.question_news(session, i18n, question, event="accepted")
        await session.commit()
        callback_answer.text = _("Saved.")
        department = await session.get(Department, department_id) if department_id else None
        done = _("✅ {ref} accepted: {category}; department: {department}.").format(
            ref=ref_of(question),
            category=html.quote(category.short(locale)),
            department=html.quote(department.short(locale) if department else "—"),
        )
        text, markup = await render_queue(session, 0, locale)
        await show(query, done + "\n\n" + text, markup)
        return

    department = await session.get(Department, department_id) if department_id else None
    title = (
        _("Accept {ref} for the meeting?")
        if question.status == QuestionStatus.SUBMITTED
        else _("Reassign {ref}?")
    )
    lines = [
        title.format(ref=ref_of(question)),
        _("Category: {category}").format(category=html.quote(category.name(locale))),
        _("Department: {department}").format(
            department=html.quote(department.name(locale))
            if department
            else _("none (nobody will be asked to answer)")
        ),
        "",
        f"<i>{html.quote(truncate(question.text, 1500))}</i>",
    ]
    await show(
        query, "\n".join(lines), accept_keyboard(question.id, category.id, department_id or 0)
    )


# --- reject ----------------------------------------------------------------------------------


async def ask_reject_reason(
    query: CallbackQuery,
    callback_data: ModCb,
    session: AsyncSession,
    i18n: I18n,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    question = await session.get(Question, callback_data.id)
    if question is None:
        stale(callback_answer)
        return
    if question.status not in mod.OPEN_FOR_MODERATION:
        already_handled(callback_answer)
        await show_card(query, session, i18n, question.id)
        return
    await state.set_state(ModForm.reject_reason)
    await state.update_data(question_id=question.id)
    await show(
        query,
        _(
            "Send the reason for rejecting {ref} in one message (up to {limit} characters). "
            "The author will see it."
        ).format(ref=ref_of(question), limit=mod.REASON_MAX),
        cancel_form_keyboard(question.id),
    )


async def save_reject_reason(
    message: Message,
    session: AsyncSession,
    i18n: I18n,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    reason, problem = form_text(message.text, REASON, REASON_REPLIES)
    if problem is not None:
        await message.answer(problem)
        return
    question = await session.get(Question, int(data.get("question_id", 0)))
    await state.clear()
    if (
        question is None
        or question.status not in mod.OPEN_FOR_MODERATION
        or not await claim_question(session, question)
    ):
        await message.answer(_("This question has already been handled; nothing was changed."))
        return
    mod.reject(question, reason)
    await notifications.question_news(session, i18n, question, event="rejected")
    await session.commit()
    text, markup = await render_queue(session, 0, current_locale())
    await message.answer(
        _("❌ {ref} rejected; the author is told the reason.").format(ref=ref_of(question))
        + "\n\n"
        + text,
        reply_markup=markup,
    )


async def reject_reason_fallback(message: Message) -> None:
    await message.answer(
        _("Please send the reason as a text message, or send /cancel to keep the question.")
    )


# --- merge -----------------------------------------------------------------------------------


async def choose_merge_target(
    query: CallbackQuery,
    callback_data: ModCb,
    session: AsyncSession,
    i18n: I18n,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    await leave_form(state)
    question = await session.get(Question, callback_data.id)
    if question is None:
        stale(callback_answer)
        return
    if question.status not in mod.OPEN_FOR_MODERATION:
        already_handled(callback_answer)
        await show_card(query, session, i18n, question.id)
        return
    candidates = await mod.merge_candidates(session, question)
    if candidates:
        text = _(
            "Which earlier question does {ref} repeat? The most similar ones of the same "
            "meeting are below; or type a reference."
        ).format(ref=ref_of(question))
    else:
        text = _(
            "No earlier similar question of the same meeting was found for {ref}. "
            "You can type the reference of the earlier question."
        ).format(ref=ref_of(question))
    await show(query, text, merge_keyboard(question.id, candidates))


async def ask_merge_ref(
    query: CallbackQuery,
    callback_data: ModCb,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    question = await session.get(Question, callback_data.id)
    if question is None or question.status not in mod.OPEN_FOR_MODERATION:
        stale(callback_answer)
        return
    await state.set_state(ModForm.merge_ref)
    await state.update_data(question_id=question.id)
    await show(
        query,
        _("Send the reference of the earlier question that {ref} repeats, e.g. AL-0012.").format(
            ref=ref_of(question)
        ),
        cancel_form_keyboard(question.id),
    )


def _merge_prompt(question: Question, target: Question, locale: str) -> str:
    return "\n".join(
        [
            _("Merge {ref} into {target}? Its author will be told to follow {target}.").format(
                ref=ref_of(question), target=ref_of(target)
            ),
            "",
            f"{ref_of(question)}: <i>{html.quote(truncate(question.text, 800))}</i>",
            f"{ref_of(target)}: <i>{html.quote(truncate(target.text, 800))}</i>",
        ]
    )


async def merge_by_ref(message: Message, session: AsyncSession, state: FSMContext) -> None:
    data = await state.get_data()
    question = await session.get(Question, int(data.get("question_id", 0)))
    if question is None or question.status not in mod.OPEN_FOR_MODERATION:
        await state.clear()
        await message.answer(_("This question has already been handled; nothing was changed."))
        return
    typed = strip_controls(message.text or "").strip()
    target = await mod.find_by_ref(session, typed)
    if target is None:
        await message.answer(
            _("There is no question {ref}. Check the reference and send it again.").format(
                ref=html.quote(truncate(typed, 40))
            )
        )
        return
    if not mod.can_merge(question, target):
        await message.answer(
            _(
                "{target} cannot be used: it must be an earlier question of the same meeting "
                "that was neither rejected nor merged. Send another reference."
            ).format(target=ref_of(target))
        )
        return
    await state.clear()
    await message.answer(
        _merge_prompt(question, target, current_locale()),
        reply_markup=merge_confirm_keyboard(question.id, target.id),
    )


async def merge_ref_fallback(message: Message) -> None:
    await message.answer(
        _("Please send the reference as text (e.g. AL-0012), or send /cancel to stop.")
    )


async def merge_flow(
    query: CallbackQuery,
    callback_data: ModMergeCb,
    session: AsyncSession,
    i18n: I18n,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    await leave_form(state)
    question = await session.get(Question, callback_data.id)
    target = await session.get(Question, callback_data.to)
    if question is None or target is None:
        stale(callback_answer)
        return
    if question.status not in mod.OPEN_FOR_MODERATION:
        already_handled(callback_answer)
        await show_card(query, session, i18n, question.id)
        return
    if not mod.can_merge(question, target):
        refuse(callback_answer, _("These two questions cannot be merged."))
        return
    if callback_data.step == MergeStep.CONFIRM:
        await show(
            query,
            _merge_prompt(question, target, current_locale()),
            merge_confirm_keyboard(question.id, target.id),
        )
        return
    if not await claim_question(session, question):
        await _lost_race(query, session, i18n, question, callback_answer)
        return
    mod.merge(question, target)
    await notifications.question_news(
        session, i18n, question, event="merged", merged_ref=target.ref or f"#{target.id}"
    )
    await session.commit()
    callback_answer.text = _("Saved.")
    text, markup = await render_queue(session, 0, current_locale())
    await show(
        query,
        _("🔗 {ref} merged into {target}; the author is told where to follow.").format(
            ref=ref_of(question), target=ref_of(target)
        )
        + "\n\n"
        + text,
        markup,
    )
