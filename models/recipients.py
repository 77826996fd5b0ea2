"""Who hears of what: the recipients of the messages the bot sends on its own initiative
(``scheduler/notifications``) — a department's bound group chats and members, the akimat's
staff, the followers of a measure or a district. Only reachable chats and people."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import DepartmentChat, DepartmentMember, Follow, User


@dataclass(frozen=True)
class Recipient:
    """A chat to write to, in ``locale`` (None: the bot's default)."""

    chat_id: int
    locale: str | None
    user_id: int | None = None
    is_group: bool = False

    @property
    def key(self) -> str:
        """Part of a notification's dedup key: ``c<chat id>`` for a group, ``u<user id>``."""
        return f"c{self.chat_id}" if self.is_group or self.user_id is None else f"u{self.user_id}"

    @classmethod
    def of(cls, user: User) -> Recipient:
        return cls(user.tg_id, user.locale, user_id=user.id)


async def recipients_by_department(
    session: AsyncSession, department_ids: Iterable[int]
) -> dict[int, list[Recipient]]:
    """Each department's reachable bound chats, then its reachable members (two queries)."""
    ids = set(department_ids)
    result: dict[int, list[Recipient]] = defaultdict(list)
    if not ids:
        return result
    chats = await session.execute(
        select(DepartmentChat)
        .where(DepartmentChat.department_id.in_(ids), DepartmentChat.reachable.is_(True))
        .order_by(DepartmentChat.id)
    )
    for chat in chats.scalars():
        result[chat.department_id].append(Recipient(chat.chat_id, chat.locale, is_group=True))
    members = await session.execute(
        select(DepartmentMember.department_id, User)
        .join(User, User.id == DepartmentMember.user_id)
        .where(DepartmentMember.department_id.in_(ids), User.reachable.is_(True))
        .order_by(DepartmentMember.id)
    )
    for row in members:
        result[row.department_id].append(Recipient.of(row.User))
    return result


async def department_recipients(
    session: AsyncSession, department_ids: Iterable[int]
) -> list[Recipient]:
    """The departments' bound chats and members, each chat once."""
    by_department = await recipients_by_department(session, department_ids)
    unique: dict[int, Recipient] = {}
    for recipients in by_department.values():
        for recipient in recipients:
            unique.setdefault(recipient.chat_id, recipient)
    return sorted(unique.values(), key=lambda r: (not r.is_group, r.user_id or 0, r.chat_id))


async def admin_recipients(session: AsyncSession, admin_ids: Iterable[int]) -> list[Recipient]:
    """Admins from the configuration (ADMIN_IDS) and those granted in the database."""
    configured = set(admin_ids)
    result = await session.execute(
        select(User).where(User.is_admin.is_(True) | User.tg_id.in_(configured or {0}))
    )
    users = {u.tg_id: u for u in result.scalars()}
    recipients = []
    for tg_id in sorted(configured | set(users)):
        user = users.get(tg_id)
        if user is None:
            recipients.append(Recipient(tg_id, None))
        elif user.reachable:
            recipients.append(Recipient.of(user))
    return recipients


async def measure_followers(session: AsyncSession, measure_id: int) -> list[Recipient]:
    """Reachable people following the measure."""
    result = await session.execute(
        select(User)
        .join(Follow, Follow.user_id == User.id)
        .where(Follow.measure_id == measure_id, User.reachable.is_(True))
        .order_by(User.id)
    )
    return [Recipient.of(user) for user in result.scalars()]


async def district_followers(
    session: AsyncSession, district_ids: Iterable[int]
) -> dict[int, list[Recipient]]:
    """Reachable people following each of these districts."""
    result: dict[int, list[Recipient]] = defaultdict(list)
    rows = await session.execute(
        select(Follow.district_id, User)
        .join(User, User.id == Follow.user_id)
        .where(Follow.district_id.in_(set(district_ids)), User.reachable.is_(True))
        .order_by(User.id)
    )
    for row in rows:
        if row.district_id is not None:
            result[row.district_id].append(Recipient.of(row.User))
    return result
