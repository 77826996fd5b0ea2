"""Personal data: what is stored about a user (``/mydata``) and erasing it (``/forget``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import (
    Department,
    DepartmentMember,
    District,
    Follow,
    Notification,
    NotificationStatus,
    Question,
    QuestionSupport,
    User,
)
from models.questions import remove_all_supports


@dataclass
class PersonalData:
    full_name: str
    username: str | None
    locale: str | None
    district: District | None
    consent_at: dt.datetime | None
    created_at: dt.datetime
    questions: int
    named_questions: int
    follows: int
    supports: int
    departments: list[Department] = field(default_factory=list)


async def _count(session: AsyncSession, query: object) -> int:
    return int((await session.execute(query)).scalar_one())  # type: ignore[call-overload]


async def personal_data(session: AsyncSession, user: User) -> PersonalData:
    district = await session.get(District, user.district_id) if user.district_id else None
    departments = list(
        (
            await session.execute(
                select(Department)
                .join(DepartmentMember, DepartmentMember.department_id == Department.id)
                .where(DepartmentMember.user_id == user.id)
                .order_by(Department.code)
            )
        ).scalars()
    )
    return PersonalData(
        full_name=user.full_name,
        username=user.username,
        locale=user.locale,
        district=district,
        consent_at=user.consent_at,
        created_at=user.created_at,
        questions=await _count(
            session, select(func.count(Question.id)).where(Question.author_id == user.id)
        ),
        named_questions=await _count(
            session,
            select(func.count(Question.id)).where(
                Question.author_id == user.id, Question.show_name.is_(True)
            ),
        ),
        follows=await _count(
            session, select(func.count(Follow.id)).where(Follow.user_id == user.id)
        ),
        supports=await _count(
            session,
            select(func.count(QuestionSupport.question_id)).where(
                QuestionSupport.user_id == user.id
            ),
        ),
        departments=departments,
    )


@dataclass(frozen=True)
class ForgetResult:
    questions: int
    follows: int
    supports: int


async def forget_user(session: AsyncSession, user: User) -> ForgetResult:
    """Erase the user's personal data (not committed).

    Name, username, consent and district are cleared; follows, supports and pending messages
    are deleted; questions stay for the statistics but lose every link to the person (and
    their photos, which may show the person or their home). The
    profile row itself stays (it only keeps the Telegram id and language), so the user can
    start over; department membership is an official role and is left to the admins.
    """
    supports = await remove_all_supports(session, user.id)
    follows = await session.execute(delete(Follow).where(Follow.user_id == user.id))
    questions = await session.execute(
        update(Question)
        .where(Question.author_id == user.id)
        .values(author_id=None, author_name=None, show_name=False, photo_file_id=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(Notification).where(
            Notification.user_id == user.id,
            Notification.status == NotificationStatus.PENDING,
        )
    )
    user.full_name = ""
    user.username = None
    user.consent_at = None
    user.district_id = None
    return ForgetResult(
        questions=int(getattr(questions, "rowcount", 0) or 0),
        follows=int(getattr(follows, "rowcount", 0) or 0),
        supports=supports,
    )
