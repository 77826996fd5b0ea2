"""The Telegram Mini App's personal actions: follow or unfollow a measure or a district, and set
my district. Each is a POST whose JSON body carries Telegram's ``initData``; its signature is
checked with the bot's token (``aiogram.utils.web_app.safe_parse_webapp_init_data``), and a
missing, tampered or expired one gets 401. They use the same model functions as the bot's
buttons (models/follows.py, the profile's district), so the bot sees the change at once."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from aiogram.utils.web_app import WebAppInitData, safe_parse_webapp_init_data
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from models import follows, public
from models.entities import Measure, User
from models.users import get_or_create_user
from web.context import I18N, SESSION_POOL, SETTINGS
from web.http import MAX_ID, json_response
from web.locale import LOCALES

PREFIX = "/app/api"
# How long Telegram's signed initData is accepted after Telegram issued it.
INIT_DATA_MAX_AGE = dt.timedelta(hours=24)
CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_BODY = 16 * 1024


def routes() -> list[web.RouteDef]:
    return [
        web.post(f"{PREFIX}/state", state),
        web.post(f"{PREFIX}/follow", follow),
        web.post(f"{PREFIX}/district", set_district),
    ]


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _answer(status: int, message: str, **extra: Any) -> web.Response:
    return json_response(
        {"ok": status == 200, "message": message, **extra}, status=status, cache="no-store"
    )


def check_init_data(token: str, raw: object, now: dt.datetime) -> WebAppInitData:
    """Telegram's initData, if its signature is the bot's and it is fresh; else Refused(401)."""
    if not isinstance(raw, str) or not raw:
        raise Refused(401, "initData is missing")
    try:
        data = safe_parse_webapp_init_data(token, raw)
    except ValueError:
        raise Refused(401, "initData is invalid") from None
    issued = data.auth_date
    if issued.tzinfo is None:
        issued = issued.replace(tzinfo=dt.UTC)
    if not now - INIT_DATA_MAX_AGE <= issued <= now + CLOCK_SKEW:
        raise Refused(401, "initData has expired: open the page from the bot again")
    if data.user is None:
        raise Refused(401, "initData names no user")
    return data


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise Refused(413, "the request is too large")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise Refused(413, "the request is too large")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refused(400, "the body must be JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "the body must be a JSON object")
    return body


async def _person(
    request: web.Request, session: AsyncSession, body: dict[str, Any]
) -> tuple[User, str]:
    """The profile of the person whose initData this is (made on first contact, as the bot
    does), and the language to answer in."""
    settings = request.app[SETTINGS]
    data = check_init_data(settings.token(), body.get("initData"), dt.datetime.now(dt.UTC))
    assert data.user is not None
    person = data.user
    full_name = " ".join(p for p in (person.first_name, person.last_name) if p)
    user = await get_or_create_user(session, person.id, full_name, person.username)
    lang = body.get("lang")
    locale = lang if lang in LOCALES else (user.locale or settings.default_locale)
    return user, locale


def _measure_id(body: dict[str, Any]) -> int | None:
    value = body.get("measure_id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise Refused(400, "measure_id must be a positive whole number")
    return value


def _slug(body: dict[str, Any], name: str = "district") -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.isascii() or not 0 < len(value) <= 40:
        raise Refused(400, f"{name} must be a district's slug")
    return value


def handled(handler: Any) -> Any:
    """Refused → its status with a JSON reason (401 for initData, 400, 404, 413)."""

    async def wrapper(request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            async with request.app[SESSION_POOL]() as session:
                response: web.Response = await handler(request, session, body)
            return response
        except Refused as exc:
            return _answer(exc.status, exc.message)

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


@handled
async def state(request: web.Request, session: AsyncSession, body: dict[str, Any]) -> web.Response:
    """What the buttons of a page should say: my district, whether I follow this measure and
    this district."""
    user, _locale = await _person(request, session, body)
    measure_id, slug = _measure_id(body), _slug(body)
    mine = None
    if user.district_id is not None:
        own = await public.district_by_id(session, user.district_id)
        mine = own.slug if own is not None else None
    following_measure = following_district = False
    if measure_id is not None:
        following_measure = await follows.is_following(session, user.id, measure_id=measure_id)
    if slug is not None:
        found = await public.district_by_slug(session, slug)
        if found is not None:
            following_district = await follows.is_following(session, user.id, district_id=found.id)
    await session.commit()  # a profile made on first contact
    return _answer(
        200,
        "",
        district=mine,
        following_measure=following_measure,
        following_district=following_district,
    )


@handled
async def follow(request: web.Request, session: AsyncSession, body: dict[str, Any]) -> web.Response:
    """Follow (``on: true``) or unfollow a measure (``measure_id``) or a district."""
    user, locale = await _person(request, session, body)
    i18n = request.app[I18N]
    on = body.get("on")
    if not isinstance(on, bool):
        raise Refused(400, "on must be true or false")
    measure_id, slug = _measure_id(body), _slug(body)
    if (measure_id is None) == (slug is None):
        raise Refused(400, "give either measure_id or district")
    if measure_id is not None:
        if await session.get(Measure, measure_id) is None:
            raise Refused(404, i18n.gettext("This commitment no longer exists.", locale=locale))
        if on:
            await follows.follow(session, user.id, measure_id=measure_id)
            message = "🔔 You follow this commitment: you will hear when its status changes."
        else:
            await follows.unfollow(session, user.id, measure_id=measure_id)
            message = "🔕 You no longer follow this commitment."
    else:
        assert slug is not None
        district = await public.district_by_slug(session, slug)
        if district is None:
            raise Refused(404, "unknown district")
        if on:
            await follows.follow(session, user.id, district_id=district.id)
            message = "🔔 You follow the district: you will hear about its meetings."
        else:
            await follows.unfollow(session, user.id, district_id=district.id)
            message = "🔕 You no longer follow the district."
    await session.commit()
    return _answer(200, i18n.gettext(message, locale=locale))


@handled
async def set_district(
    request: web.Request, session: AsyncSession, body: dict[str, Any]
) -> web.Response:
    """Make a district mine, as the bot's settings do."""
    user, locale = await _person(request, session, body)
    slug = _slug(body)
    district = await public.district_by_slug(session, slug) if slug is not None else None
    if district is None:
        raise Refused(404 if slug is not None else 400, "unknown district")
    user.district_id = district.id
    await session.commit()
    i18n = request.app[I18N]
    text = i18n.gettext("District changed: {district}.", locale=locale)
    return _answer(200, text.format(district=district.name(locale)), district=district.slug)
