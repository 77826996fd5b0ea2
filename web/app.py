"""The web application factory: routes, templates, middlewares, static files.

``create_web_app`` builds the public side; bot/webhook.py adds the webhook route to the same
application in webhook mode and runs it in both modes. It serves ``/healthz`` and ``/metrics``
(web/health.py, web/metrics.py) in both modes.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from cachetools import TTLCache
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.settings import Settings
from models.translation import Translator
from web import api, miniapp, open311, pages
from web.context import (
    DISTRICT_SLUGS,
    I18N,
    REDIS,
    SESSION_POOL,
    SETTINGS,
    STATS_CACHE,
    TOTALS_CACHE,
)
from web.health import HEALTH_PATH, healthz
from web.http import Handler, NotFound, error_middleware, etag_middleware
from web.metrics import METRICS, METRICS_PATH, Metrics, metrics_view

HERE = Path(__file__).resolve().parent
STATIC_PATH = "/static"


def create_web_app(
    settings: Settings,
    session_pool: async_sessionmaker[AsyncSession],
    i18n: Translator,
    *,
    redis: object | None = None,
    metrics: Metrics | None = None,
) -> web.Application:
    app = web.Application(
        middlewares=[error_middleware(pages.error_page), etag_middleware],
        client_max_size=2 * 1024**2,
    )
    app[SETTINGS] = settings
    app[SESSION_POOL] = session_pool
    app[I18N] = i18n
    app[REDIS] = redis
    app[STATS_CACHE] = TTLCache(maxsize=256, ttl=api.STATS_SECONDS)
    app[TOTALS_CACHE] = TTLCache(maxsize=1024, ttl=api.TOTAL_SECONDS)
    app[DISTRICT_SLUGS] = {}
    app[METRICS] = metrics or Metrics()
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    app.router.add_get(HEALTH_PATH, healthz)
    app.router.add_get(METRICS_PATH, metrics_view)
    app.add_routes(pages.routes())
    app.add_routes(api.routes())
    app.add_routes(open311.routes())
    app.add_routes(miniapp.routes())
    files = {
        path.name: (path.read_bytes(), STATIC_TYPES[path.suffix])
        for path in (HERE / "static").iterdir()
        if path.suffix in STATIC_TYPES
    }
    app.router.add_get(STATIC_PATH + "/{name}", static_file(files))
    return app


STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".png": "image/png"}


def static_file(files: dict[str, tuple[bytes, str]]) -> Handler:
    """The stylesheet and the script, read once at start (ETag and 304 by the middleware)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        found = files.get(request.match_info["name"])
        if found is None:
            raise NotFound("file")
        body, content_type = found
        response = web.Response(body=body, content_type=content_type, charset="utf-8")
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    return handler
