"""matplotlib and openpyxl (with numpy and Pillow, about 90 MiB) are loaded by the first chart,
plan import or export, not by starting the bot. Checked in a fresh interpreter, so the imports
of other tests do not count."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("matplotlib", "openpyxl")

SCRIPT = """
import json, sys

HEAVY = set(sys.argv[2:])

def loaded():
    return sorted({name.split(".")[0] for name in sys.modules} & HEAVY)

# What `python -m bot` loads: the command line with every sub-command, the app, the handlers,
# the scheduler, and a dispatcher built as the tests' fixtures build it.
from bot.cli import build_parser
build_parser()
import bot.app, handlers, scheduler.runtime
from bot.app import create_dispatcher
from models.settings import Settings
from bot.i18n import create_i18n
from models.db import create_engine, create_session_pool

settings = Settings(bot_token="42:TEST-TOKEN", database_url=sys.argv[1], _env_file=None)
engine = create_engine(settings.database_url)
create_dispatcher(settings, create_session_pool(engine), create_i18n("ru"))
at_start = loaded()

# The first chart and the first export do load them (so the names above are the right ones).
from bot.charts import category_bar_chart
from models.exports import Table, to_xlsx
category_bar_chart(["a"], [1], ["1"], "title", "count")
to_xlsx([Table("sheet", ["header"], [["cell"]])])
print(json.dumps({"at_start": at_start, "after_use": loaded()}))
"""


def test_starting_the_bot_does_not_import_matplotlib_or_openpyxl(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/kezdesu.sqlite3"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, url, *HEAVY],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["at_start"] == []
    assert result["after_use"] == sorted(HEAVY)
