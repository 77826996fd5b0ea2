"""Callback data shared by the whole bot (first contact, settings, navigation).

Each area keeps its own factories next to its keyboards in ``bot/keyboards/<area>.py``. Prefixes
are short and unique across the bot (``tests/test_callbacks.py`` checks it); payloads carry ids
and enums only, never user text, and always fit Telegram's 64 bytes.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class Origin(StrEnum):
    START = "s"
    SETTINGS = "t"


class SettingsAction(StrEnum):
    LANGUAGE = "lang"
    DISTRICT = "dist"
    NIGHT = "night"
    SUMMARY = "sum"
    CLOSE = "close"


class LangCb(CallbackData, prefix="lang"):
    code: str
    origin: Origin


class DistrictCb(CallbackData, prefix="dist"):
    id: int
    origin: Origin


class SettingsCb(CallbackData, prefix="set"):
    action: SettingsAction


class OpenMeasureCb(CallbackData, prefix="om"):
    """Open a measure card (handled by the resident area; used by reminders, digests, lists)."""

    id: int


class ReportMeasureCb(CallbackData, prefix="rpt"):
    """Open the reporting actions of a measure (handled by the department area)."""

    id: int


class AdminSection(StrEnum):
    HOME = "home"  # the panel itself (admin area)
    MEETINGS = "meet"  # admin area
    IMPORT = "imp"  # admin area
    ANNOUNCE = "ann"  # admin area
    DEPARTMENTS = "dep"  # department area: departments, invitations, members, chats
    MODERATION = "mod"  # moderation area
    STATS = "stat"  # reports area
    EXPORT = "exp"  # reports area


class AdminCb(CallbackData, prefix="adm"):
    """Open a section of the admin panel; each section is handled by the area that owns it."""

    section: AdminSection
