"""A real browser: headless Chromium (Debian's package) opens the city overview and a measure
page served by the test's own server on 127.0.0.1, and the screenshots are rendered pages
(many colours, the status bars' green and red among them), not blank ones. Skipped, with the
reason, where Chromium is not installed (``.ci/run`` installs it when it can)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.web_support import World, web, web_settings, world

__all__ = ["web", "web_settings", "world"]  # fixtures

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--mute-audio",
)  # fmt: skip
WIDTH, HEIGHT = 412, 1200  # a phone's width


def chromium() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("headless Chromium is not installed (apt-get install chromium)")


async def screenshot(url: str, folder: Path, name: str) -> Path:
    binary = chromium()
    shot = folder / f"{name}.png"
    process = await asyncio.create_subprocess_exec(
        binary, *FLAGS, f"--user-data-dir={folder / ('profile-' + name)}",
        f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode == 0 and shot.exists(), err.decode()[-2000:]
    return shot


def colours(path: Path) -> dict[tuple[int, int, int], int]:
    from PIL import Image

    with Image.open(path) as image:
        assert image.size == (WIDTH, HEIGHT)
        found = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert found is not None
    return {colour: count for count, colour in found}


def near(palette: dict[tuple[int, int, int], int], target: tuple[int, int, int]) -> int:
    """Pixels within a small distance of ``target`` (anti-aliasing shifts the edges)."""
    return sum(
        count
        for colour, count in palette.items()
        if sum(abs(a - b) for a, b in zip(colour, target, strict=True)) <= 24
    )


async def test_the_overview_and_a_measure_page_render_in_chromium(
    web: TestClient[Any, Any], world: World, tmp_path: Path
) -> None:
    base = str(web.make_url("/")).rstrip("/")
    overview = colours(await screenshot(f"{base}/?lang=ru", tmp_path, "overview"))
    assert len(overview) > 50, "text and bars make many colours; a blank page has one"
    assert near(overview, (0x0B, 0x3D, 0x6B)) > 1000, "the header band"
    assert near(overview, (0xCF, 0x22, 0x2E)) > 50, "the red of overdue in the status bars"
    measure = colours(await screenshot(f"{base}/m/{world.measure_ids[0]}?lang=kk", tmp_path, "m"))
    assert len(measure) > 50
    assert near(measure, (0xCF, 0x22, 0x2E)) > 50, "the overdue badge and progress bar"
    white = near(measure, (255, 255, 255))
    assert white < WIDTH * HEIGHT * 0.97, "more than a white page"
