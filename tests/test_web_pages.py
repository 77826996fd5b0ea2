"""The public pages through aiohttp's test client, on both databases: the language from ?lang,
then Accept-Language; the bot card's content with a progress bar and the history; friendly
translated 404s; escaped text; accessible structure; nothing loaded from elsewhere."""

from __future__ import annotations

import html.parser
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.entities import Measure
from tests.web_support import World, web, web_settings, world
from web.locale import accept_language

__all__ = ["web", "web_settings", "world"]  # fixtures


class Page(html.parser.HTMLParser):
    """What the tests read of a page: headings, text, the URLs it loads, svg labels."""

    def __init__(self, body: str) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[tuple[str, str]] = []
        self.loads: list[str] = []
        self.svgs: list[dict[str, str | None]] = []
        self.text_parts: list[str] = []
        self.lang = ""
        self._heading: str | None = None
        self.feed(body)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang") or ""
        if tag in {"h1", "h2", "h3"}:
            self._heading = tag
            self.headings.append((tag, ""))
        if tag in {"script", "img", "iframe"} and values.get("src"):
            self.loads.append(values["src"] or "")
        if tag == "link" and values.get("rel") == "stylesheet":
            self.loads.append(values.get("href") or "")
        if tag == "svg":
            self.svgs.append(values)

    def handle_endtag(self, tag: str) -> None:
        if tag == self._heading:
            self._heading = None

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)
        if self._heading is not None:
            tag, text = self.headings[-1]
            self.headings[-1] = (tag, text + data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text_parts))


async def page(client: TestClient[Any, Any], url: str, status: int = 200, **headers: str) -> Page:
    response = await client.get(url, headers=headers)
    assert response.status == status, (url, response.status)
    assert response.content_type == "text/html" and response.charset == "utf-8"
    parsed = Page(await response.text())
    assert parsed.lang == response.headers["Content-Language"]
    assert [tag for tag, _text in parsed.headings].count("h1") == 1, url
    assert all(src.startswith("/") and not src.startswith("//") for src in parsed.loads), url
    for svg in parsed.svgs:
        assert svg.get("role") == "img" and svg.get("aria-label"), "every chart has alt text"
    return parsed


async def test_overview_in_three_languages(web: TestClient[Any, Any], world: World) -> None:
    ru = await page(web, "/")
    assert ru.lang == "ru" and "Весь город" in ru.text and "Алмалинский район" in ru.text
    kk = await page(web, "/?lang=kk")
    assert "Бүкіл қала" in kk.text and "Алмалы ауданы" in kk.text
    en = await page(web, "/?lang=en")
    assert "Whole city" in en.text and "Almaly" in en.text
    assert len(ru.svgs) == 9, "a status bar for the city and each district"
    assert "просрочено" in ru.svgs[0]["aria-label"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("header", "lang"),
    [("kk-KZ,kk;q=0.9,ru;q=0.8", "kk"), ("en-US,en;q=0.9", "en"), ("de-DE,en;q=0.5", "en"),
     ("de, fr;q=0.5", "ru"), ("", "ru"), ("kz", "kk"), (";;,q=abc", "ru")],
)  # fmt: skip
async def test_accept_language_when_no_lang_is_asked(
    web: TestClient[Any, Any], world: World, header: str, lang: str
) -> None:
    assert (await page(web, "/departments", **{"Accept-Language": header})).lang == lang
    asked = await page(web, "/departments?lang=ru", **{"Accept-Language": header})
    assert asked.lang == "ru"


def test_accept_language_parsing() -> None:
    assert accept_language("ru;q=0.5, kk-KZ, en;q=0.8") == ["kk_kz", "en", "ru"]
    assert accept_language("en;q=0, *") == []


async def test_measure_page_is_the_bot_card_with_progress_and_history(
    web: TestClient[Any, Any], world: World
) -> None:
    found = await page(web, f"/m/{world.measure_ids[0]}?lang=ru")
    text = found.text
    assert "Модернизация 81 км" in text and "Инженерные сети" in text
    assert "просрочено" in text and "2022 год → 31 декабря 2022 г." in text
    assert re.search(r"просрочено на \d+ дн", text)
    assert "Ответственные исполнители" in text and "40%" in text
    assert "Работы начаты, подрядчик на объекте." in text
    assert "1 житель не согласен" in text or "не согласны" in text or "не согласен" in text
    en = await page(web, f"/m/{world.measure_ids[0]}?lang=en")
    assert "History" in en.text and "days overdue" in en.text
    assert ("h2", "History") in en.headings
    response = await web.get(f"/m/{world.measure_ids[0]}")
    assert 'role="progressbar"' in await response.text() and 'aria-valuenow="40"' in (
        await response.text()
    )


async def test_district_and_meeting_pages(web: TestClient[Any, Any], world: World) -> None:
    district = await page(web, "/d/almaly?lang=en")
    assert "Meeting of" in district.text and "93" not in district.headings[0][1]
    meeting = await page(web, f"/meetings/{world.meeting_id}?lang=ru")
    assert "Проблемный вопрос 1. Инженерные сети" in meeting.text
    assert "Участники" in meeting.text or "93" in meeting.text
    empty = await page(web, "/d/turksib?lang=en")
    assert "No meetings of this district" in empty.text
    league = await page(web, "/departments?lang=kk")
    assert "Мерзімінде орындалды" in league.text


@pytest.mark.parametrize(
    "url",
    ["/m/999999", "/m/99999999999999", "/meetings/777", "/d/atlantis", "/nothing/here",
     "/static/missing.css"],
)  # fmt: skip
async def test_unknown_pages_are_a_friendly_404_in_the_page_language(
    web: TestClient[Any, Any], world: World, url: str
) -> None:
    kk = await page(web, f"{url}?lang=kk", 404)
    assert "Бет табылмады" in kk.text and "Қала бойынша жиынтыққа оралу" in kk.text
    en = await page(web, url, 404, **{"Accept-Language": "en"})
    assert "Page not found" in en.text


async def test_a_bad_parameter_on_a_page_is_a_400_page(
    web: TestClient[Any, Any], world: World
) -> None:
    found = await page(web, "/d/almaly?page=abc&lang=en", 400)
    assert "The address has a mistake" in found.text


async def test_text_is_escaped(
    web: TestClient[Any, Any], world: World, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    async with session_pool() as session:
        measure = await session.get(Measure, world.measure_ids[1])
        assert measure is not None
        measure.text = '<script>alert("x")</script> & <b>bold</b>'
        await session.commit()
    response = await web.get(f"/m/{world.measure_ids[1]}")
    body = await response.text()
    assert "<script>alert" not in body and "&lt;script&gt;alert" in body
    assert Page(body).loads == ["/static/site.css", "/static/app.js"]


async def test_static_files_are_served_by_the_app(web: TestClient[Any, Any]) -> None:
    css = await web.get("/static/site.css")
    assert css.status == 200 and "text/css" in css.headers["Content-Type"]
    script = await web.get("/static/app.js")
    assert script.status == 200 and "tgWebAppData" in await script.text()
    assert "url(" not in await css.text() and "@import" not in await css.text()


def test_the_web_package_reads_through_models_only() -> None:
    """web/ imports models/ (and aiogram's initData check), never handlers/, bot/ or
    scheduler/; no module is over 700 lines."""
    import ast
    from pathlib import Path

    for path in (Path(__file__).resolve().parent.parent / "web").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert len(source.splitlines()) <= 700, path
        for node in ast.walk(ast.parse(source)):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top not in {"bot", "handlers", "scheduler"}, (path.name, name)
                if top == "aiogram":
                    assert name == "aiogram.utils.web_app", (path.name, name)
