"""Callback data shared by the whole bot (first contact, settings, navigation).

Each area keeps its own factories next to its keyboards in ``bot/keyboards/<area>.py``. Prefixes
are short and unique across the bot (``tests/test_callbacks.py`` checks it); payloads carry ids
and enums only, never user text, and always fit Telegram's 64 bytes.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Any

from aiogram.filters.callback_data import MAX_CALLBACK_LENGTH, CallbackData


def packed(factory: type[CallbackData], **values: Any) -> str:
    """``factory(**values).pack()`` without building a pydantic model and dumping it again (a
    card packs three or four per update, a page of results one per row). The same text and the
    same checks; ``tests/test_callbacks.py`` compares the two for every factory of the bot. The
    values are ids, page numbers, enums and short codes, given with their fields' types."""
    parts = [factory.__prefix__]
    separator = factory.__separator__
    fields = factory.model_fields
    if not values.keys() <= fields.keys():
        return factory(**values).pack()  # as aiogram treats an unknown field
    for name, field in fields.items():
        if name in values:
            value = values[name]
        elif field.is_required():
            return factory(**values).pack()  # raises as aiogram does
        else:
            value = field.get_default(call_default_factory=True)
        if value is None:
            encoded = ""
        elif isinstance(value, Enum):
            encoded = str(value.value)
        elif isinstance(value, bool):
            encoded = str(int(value))
        elif isinstance(value, int | str):
            encoded = str(value)
        else:  # anything else as aiogram packs it
            return factory(**values).pack()
        if separator in encoded:
            raise ValueError(f"Separator symbol {separator!r} in value {name}={encoded!r}")
        parts.append(encoded)
    data = separator.join(parts)
    if len(data.encode()) > MAX_CALLBACK_LENGTH:
        raise ValueError(f"Resulted callback data is too long: {data!r}")
    return data


class Origin(StrEnum):
    START = "s"
    SETTINGS = "t"


class SettingsAction(StrEnum):
    LANGUAGE = "lang"
    DISTRICT = "dist"
    NIGHT = "night"
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
