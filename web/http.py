"""What every route shares: reading query parameters (a bad one is a 400, never a 500), JSON and
CSV responses, and the middlewares for errors, ETag and Cache-Control."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)

MAX_ID = 2**31 - 1  # ids are 32-bit in both databases: a larger one is simply unknown
MAX_TEXT_PARAM = 200
DEFAULT_CACHE = "public, max-age=60"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadParameter(Exception):
    """A query parameter the route cannot use: answered with 400 and the reason."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class NotFound(Exception):
    """An id or slug in the path that names nothing: answered with 404."""

    def __init__(self, what: str = "") -> None:
        super().__init__(what)
        self.what = what


# --- query parameters --------------------------------------------------------------------------


def text_param(request: web.Request, name: str, max_length: int = MAX_TEXT_PARAM) -> str | None:
    """A text parameter (None when absent or empty); refused when too long or unstorable."""
    value = request.query.get(name)
    if value is None or not value.strip():
        return None
    if len(value) > max_length:
        raise BadParameter(name, f"at most {max_length} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadParameter(name, "not valid UTF-8") from None
    if "\x00" in value:
        raise BadParameter(name, "contains a NUL character")
    return value.strip()


def int_param(
    request: web.Request, name: str, *, default: int | None = None, low: int = 0, high: int = MAX_ID
) -> int | None:
    value = text_param(request, name, 12)
    if value is None:
        return default
    if not value.isascii() or not value.isdigit():
        raise BadParameter(name, "must be a whole number")
    number = int(value)
    if not low <= number <= high:
        raise BadParameter(name, f"must be between {low} and {high}")
    return number


def choice_param(request: web.Request, name: str, choices: Sequence[str]) -> str | None:
    value = text_param(request, name, 40)
    if value is not None and value not in choices:
        raise BadParameter(name, "must be one of " + ", ".join(choices))
    return value


def date_param(request: web.Request, name: str) -> dt.date | None:
    value = text_param(request, name, 10)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, "must be a date such as 2022-06-23") from None


def datetime_param(request: web.Request, name: str, tz: dt.tzinfo) -> dt.datetime | None:
    """An ISO 8601 date or date-time (W3C, as Open311 writes them); local time without an
    offset; returned in UTC."""
    value = text_param(request, name, 40)
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise BadParameter(name, "must be a date-time such as 2022-06-23T15:00:00+05:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    try:
        return moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise BadParameter(name, "out of range") from None


def path_id(request: web.Request, name: str = "id") -> int:
    """A numeric id from the path (the route's pattern admits digits only)."""
    raw = request.match_info[name]
    number = int(raw) if raw.isdigit() and len(raw) <= 10 else 0
    if not 0 < number <= MAX_ID:
        raise NotFound(name)
    return number


# --- responses ---------------------------------------------------------------------------------


def _default(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_body(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, default=_default, separators=(",", ":")).encode()


def json_response(data: object, *, status: int = 200, cache: str = DEFAULT_CACHE) -> web.Response:
    response = web.Response(
        body=json_body(data), status=status, content_type="application/json", charset="utf-8"
    )
    response.headers["Cache-Control"] = cache
    return response


def csv_response(
    headers: Sequence[str], rows: Iterable[Sequence[object]], filename: str
) -> web.Response:
    """UTF-8 CSV (with a byte-order mark, so that spreadsheet programs read it as UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    response = web.Response(
        body=("\ufeff" + buffer.getvalue()).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = DEFAULT_CACHE
    return response


def is_data_path(path: str) -> bool:
    """The open-data side answers in JSON; everything else is a page."""
    return path.startswith(("/api/", "/open311/", "/app/api/"))


def api_error(
    request: web.Request, status: int, message: str, parameter: str | None = None
) -> web.Response:
    """The error body of the route's family: Open311's list of errors, or the API's object."""
    if request.path.startswith("/open311/"):
        return json_response(
            [{"code": status, "description": message}], status=status, cache="no-store"
        )
    error: dict[str, Any] = {"status": status, "message": message}
    if parameter is not None:
        error["parameter"] = parameter
    return json_response({"error": error}, status=status, cache="no-store")


# --- middlewares -------------------------------------------------------------------------------

PageError = Callable[[web.Request, int], Awaitable[web.StreamResponse]]


def error_middleware(page_error: PageError) -> Any:
    """Bad parameters → 400, unknown ids and paths → 404 (JSON on the data side, a translated
    page elsewhere); anything unexpected is logged and answered with 500, never a traceback."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        data = is_data_path(request.path)
        try:
            response = await handler(request)
        except BadParameter as exc:
            if data:
                return api_error(request, 400, f"{exc.name}: {exc.message}", exc.name)
            return await page_error(request, 400)
        except NotFound:
            if data:
                return api_error(request, 404, "not found")
            return await page_error(request, 404)
        except web.HTTPNotFound:
            if data:
                return api_error(request, 404, "not found")
            return await page_error(request, 404)
        except web.HTTPException:
            raise
        except Exception:
            # the path without the query: a query may be what someone typed
            logger.exception("Error serving %s %s", request.method, request.path)
            if data:
                return api_error(request, 500, "internal error")
            return await page_error(request, 500)
        return response

    return middleware


@web.middleware
async def etag_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every successful GET gets an ETag (a hash of its body) and a Cache-Control; a request
    whose If-None-Match names the same body gets 304 without it."""
    response = await handler(request)
    if (
        request.method not in {"GET", "HEAD"}
        or response.status != 200
        or not isinstance(response, web.Response)
        or not isinstance(response.body, bytes)
        or "no-store" in response.headers.get("Cache-Control", "")
    ):
        return response
    tag = hashlib.blake2b(response.body, digest_size=12).hexdigest()
    response.etag = tag
    response.headers.setdefault("Cache-Control", DEFAULT_CACHE)
    if request.if_none_match and any(match.value in {tag, "*"} for match in request.if_none_match):
        not_modified = web.Response(status=304)
        not_modified.etag = tag
        for name in ("Cache-Control", "Vary", "Content-Language"):
            if name in response.headers:
                not_modified.headers[name] = response.headers[name]
        return not_modified
    return response
