"""ORM models: the whole product's data.

Statuses are stored as short strings (``StrEnum`` values) rather than native enums, so that both
SQLite and PostgreSQL accept the same migrations and new values need no ``ALTER TYPE``.
Overdue is never stored: it is derived from ``Measure.due_date`` and today's date in Almaty.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, BigIntPK, UTCDateTime, utcnow

LOCALES = ("ru", "kk", "en")


class MeasureStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


OPEN_STATUSES = (MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS)


class MeasureSource(StrEnum):
    """Where a measure comes from: a line of the published plan, or a commitment stated at the
    meeting (in the akim's speech) that the published plan does not contain."""

    PLAN = "plan"
    SPOKEN = "spoken"


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class QuestionStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ANSWERED_AT_MEETING = "answered_at_meeting"
    IN_WORK = "in_work"
    DONE = "done"
    MERGED = "merged"


class QuestionSource(StrEnum):
    BOT = "bot"
    ORAL = "oral"


class DepartmentQueue(StrEnum):
    """Where a routed question stands in its department's inbox."""

    NEW = "new"
    IN_WORK = "in_work"
    ANSWERED = "answered"
    RETURNED = "returned"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"


class Named:
    """Mixin for reference rows carrying names in the three languages."""

    name_ru: Mapped[str]
    name_kk: Mapped[str]
    name_en: Mapped[str]
    short_ru: Mapped[str]
    short_kk: Mapped[str]
    short_en: Mapped[str]

    def name(self, locale: str) -> str:
        value = getattr(self, f"name_{locale}", None)
        return str(value or self.name_ru)

    def short(self, locale: str) -> str:
        value = getattr(self, f"short_{locale}", None)
        return str(value or self.short_ru)


class District(Named, Base):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    code: Mapped[str] = mapped_column(String(4), unique=True)  # prefix of question numbers
    order: Mapped[int] = mapped_column(Integer, default=0)
    name_ru: Mapped[str] = mapped_column(String(200))
    name_kk: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    short_ru: Mapped[str] = mapped_column(String(64))
    short_kk: Mapped[str] = mapped_column(String(64))
    short_en: Mapped[str] = mapped_column(String(64))
    aliases: Mapped[str] = mapped_column(Text, default="")  # newline-separated


class Department(Named, Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)  # as written in plans: УЭиВ
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    alias_codes: Mapped[str] = mapped_column(Text, default="")  # newline-separated
    kind: Mapped[str] = mapped_column(String(60), default="akimat_department")
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    name_ru: Mapped[str] = mapped_column(String(300))
    name_kk: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    short_ru: Mapped[str] = mapped_column(String(100))
    short_kk: Mapped[str] = mapped_column(String(100))
    short_en: Mapped[str] = mapped_column(String(100))


class Category(Named, Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(20), unique=True)
    order: Mapped[int] = mapped_column(Integer, default=0)
    seed_label_ru: Mapped[str] = mapped_column(String(200), default="")
    name_ru: Mapped[str] = mapped_column(String(200))
    name_kk: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    short_ru: Mapped[str] = mapped_column(String(64))
    short_kk: Mapped[str] = mapped_column(String(64))
    short_en: Mapped[str] = mapped_column(String(64))
    # Routing of accepted questions: the department that receives this category by default.
    default_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), nullable=True
    )


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("district_id", "starts_at"),
        Index("ix_meetings_district_starts", "district_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="RESTRICT"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(500), default="")
    akim: Mapped[str] = mapped_column(String(200), default="")
    moderator: Mapped[str] = mapped_column(String(300), default="")
    stream_url: Mapped[str] = mapped_column(String(500), default="")
    source_url: Mapped[str] = mapped_column(String(500), default="")
    intake_closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=MeetingStatus.SCHEDULED)
    # Outcome figures published after the meeting (None until recorded).
    participants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    speakers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    questions_raised: Mapped[int | None] = mapped_column(Integer, nullable=True)
    answered_at_meeting: Mapped[int | None] = mapped_column(Integer, nullable=True)
    questions_done: Mapped[int | None] = mapped_column(Integer, nullable=True)
    questions_in_work: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    district: Mapped[District] = relationship(lazy="raise")
    problems: Mapped[list[ProblemIssue]] = relationship(
        back_populates="meeting", order_by="ProblemIssue.number", lazy="raise"
    )


# The outcome figures published after a meeting, in the report's order (columns of ``Meeting``).
OUTCOME_FIELDS = (
    "participants",
    "speakers",
    "questions_raised",
    "answered_at_meeting",
    "questions_done",
    "questions_in_work",
)


class MeetingCategoryCount(Base):
    """The published classification of a meeting's questions (the report's «жилищные отношения
    – 8 (10,8%), …»): how many of the questions raised fell in each category. When a meeting has
    these rows they are its figures; otherwise the figures come from the questions on record."""

    __tablename__ = "meeting_category_counts"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True
    )
    count: Mapped[int] = mapped_column(Integer)


class ProblemIssue(Base):
    __tablename__ = "problem_issues"
    __table_args__ = (UniqueConstraint("meeting_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)

    meeting: Mapped[Meeting] = relationship(back_populates="problems", lazy="raise")
    measures: Mapped[list[Measure]] = relationship(
        back_populates="problem", order_by="Measure.position", lazy="raise"
    )


class Measure(Base):
    __tablename__ = "measures"
    __table_args__ = (
        UniqueConstraint("problem_id", "position"),
        Index("ix_measures_status_due", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem_issues.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=1)  # order within its problem issue
    text: Mapped[str] = mapped_column(Text)
    deadline_text: Mapped[str] = mapped_column(String(500), default="")  # as written
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # parsed; None = no date
    status: Mapped[str] = mapped_column(String(20), default=MeasureStatus.PLANNED)
    source: Mapped[str] = mapped_column(
        String(10), default=MeasureSource.PLAN, server_default=MeasureSource.PLAN.value
    )
    progress: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0..100
    proof_photo_file_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    problem: Mapped[ProblemIssue] = relationship(back_populates="measures", lazy="raise")
    departments: Mapped[list[Department]] = relationship(
        secondary="measure_departments", order_by="MeasureDepartment.position", lazy="raise"
    )

    def is_overdue(self, today: dt.date) -> bool:
        return self.due_date is not None and self.status in OPEN_STATUSES and self.due_date < today


class MeasureDepartment(Base):
    """A responsible executor of a measure; a cell like ``УО и УКС`` gives two rows."""

    __tablename__ = "measure_departments"
    __table_args__ = (Index("ix_measure_departments_department", "department_id"),)

    measure_id: Mapped[int] = mapped_column(
        ForeignKey("measures.id", ondelete="CASCADE"), primary_key=True
    )
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="RESTRICT"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class SearchTerm(Base):
    """The search index: one term (a stem, :mod:`models.terms`) of a measure's searchable text,
    with what ranking needs (:mod:`models.search`), so a search reads no other table until its
    page. Written only by :mod:`models.search_index`."""

    __tablename__ = "search_terms"
    __table_args__ = (
        # a term's measures in ranking order (sort key), covering what a search reads
        Index("ix_search_terms_term", "term", "sort_key", "measure_id", "district_id"),
        # a district's postings of a term: the "already promised?" check (models/similar.py)
        Index("ix_search_terms_district", "district_id", "term", "measure_id", "sort_key"),
    )

    measure_id: Mapped[int] = mapped_column(
        ForeignKey("measures.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    district_id: Mapped[int] = mapped_column(Integer)  # of the measure's meeting
    sort_key: Mapped[int] = mapped_column(BigInteger)  # newest meeting first, then plan order


class SearchWord(Base):
    """The vocabulary of the search index: each word of the indexed texts and its term, for
    typo correction and "did you mean" (trigram candidates: migration 0003)."""

    __tablename__ = "search_words"
    __table_args__ = (UniqueConstraint("word", "term"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the rowid of SQLite's FTS5 table
    word: Mapped[str] = mapped_column(String(64))
    term: Mapped[str] = mapped_column(String(64))


class MeasureUpdate(Base):
    """One entry of a measure's history: a status or progress change, or a comment."""

    __tablename__ = "measure_updates"
    __table_args__ = (Index("ix_measure_updates_measure_created", "measure_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="status")  # status/progress/comment/…
    old_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    progress: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    photo_file_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    tg_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)  # None until chosen
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="SET NULL"), nullable=True
    )
    full_name: Mapped[str] = mapped_column(String(300), default="")
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)  # granted from the CLI
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    night_pushes: Mapped[bool] = mapped_column(Boolean, default=False)  # opt out of quiet hours
    # the monthly summary of followed measures still overdue (switched in settings)
    monthly_summary: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DepartmentMember(Base):
    __tablename__ = "department_members"
    __table_args__ = (UniqueConstraint("department_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DepartmentChat(Base):
    __tablename__ = "department_chats"
    __table_args__ = (UniqueConstraint("department_id", "chat_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    locale: Mapped[str] = mapped_column(String(8), default="ru")
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    used_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (
        Index("ix_questions_meeting_status", "meeting_id", "status"),
        Index("ix_questions_status_created", "status", "created_at"),
        Index("ix_questions_department_queue", "department_id", "department_queue"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(20), unique=True, nullable=True)  # AL-0153
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="RESTRICT"))
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="SET NULL"), nullable=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    author_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    show_name: Mapped[bool] = mapped_column(Boolean, default=False)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # one optional photo, as Telegram's file id: for moderators and the department only
    photo_file_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(10), default=QuestionSource.BOT)
    status: Mapped[str] = mapped_column(String(24), default=QuestionStatus.SUBMITTED)
    reject_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), nullable=True
    )
    department_queue: Mapped[str | None] = mapped_column(String(16), nullable=True)
    return_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL"), nullable=True
    )
    supporters: Mapped[int] = mapped_column(Integer, default=0)  # kept equal to its supports
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    moderated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# the agenda order (models.questions.ranked_questions): most supported first, read from the index
Index(
    "ix_questions_agenda",
    Question.meeting_id,
    Question.supporters.desc(),
    Question.created_at,
    Question.id,
)


class QuestionSupport(Base):
    __tablename__ = "question_supports"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Follow(Base):
    """A user follows either one measure or a whole district (exactly one of the two)."""

    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("user_id", "measure_id"),
        UniqueConstraint("user_id", "district_id"),
        Index("ix_follows_measure", "measure_id"),
        Index("ix_follows_district", "district_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    measure_id: Mapped[int | None] = mapped_column(
        ForeignKey("measures.id", ondelete="CASCADE"), nullable=True
    )
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Dispute(Base):
    """A resident says a measure marked done is not really done."""

    __tablename__ = "disputes"
    __table_args__ = (UniqueConstraint("measure_id", "user_id", "update_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure_id: Mapped[int] = mapped_column(
        ForeignKey("measures.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    update_id: Mapped[int | None] = mapped_column(  # the "done" update being disputed
        ForeignKey("measure_updates.id", ondelete="SET NULL"), nullable=True
    )
    comment: Mapped[str] = mapped_column(Text, default="")
    photo_file_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Notification(Base):
    """The one durable outgoing queue. ``dedup_key`` makes every producer idempotent."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status_not_before", "status", "not_before"),
        Index("ix_notifications_chat_status", "chat_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    is_group: Mapped[bool] = mapped_column(Boolean, default=False)
    quiet_hours: Mapped[bool] = mapped_column(Boolean, default=True)  # hold 22:00–08:00
    text: Mapped[str] = mapped_column(Text)
    reply_markup: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON
    photo: Mapped[str | None] = mapped_column(String(255), nullable=True)  # file_id
    status: Mapped[str] = mapped_column(String(12), default=NotificationStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Until when the claiming worker holds a ``sending`` row: renewed while it lives (0007).
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Announcement(Base):
    """An announcement to residents, recorded when an admin presses «Send». The announcements
    job queues its messages in batches (``next_user_id``: the audience is queued up to this
    user), then tells the author how delivery went once every message has been tried."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)  # the preview's; keys messages
    author_chat_id: Mapped[int] = mapped_column(BigInteger)
    author_locale: Mapped[str | None] = mapped_column(String(5), nullable=True)
    district_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: everyone
    body: Mapped[str] = mapped_column(Text)  # HTML, as previewed
    summary: Mapped[str] = mapped_column(String(200), default="")  # its start, as plain text
    next_user_id: Mapped[int] = mapped_column(BigInteger, default=0)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
