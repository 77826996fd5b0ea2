"""Developer helper: regenerate ``constraints/locked.txt``, the exact versions the Docker image
installs.

    python3.11 tools/lock.py

It installs the runtime dependencies of ``pyproject.toml`` (the newest versions they allow) into
a throwaway virtual environment and writes ``pip freeze`` of it. Run it with the image's Python
(3.11), after changing a dependency and whenever the image should take newer releases; commit
the result. Only the standard library is used, so any Python 3.11 will do."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "constraints" / "locked.txt"
IMAGE_PYTHON = (3, 11)  # the Dockerfile's base image
HEADER = """\
# Exact versions of the bot's runtime dependencies, installed by the Dockerfile (pip install
# --no-deps -r, then pip check). Generated from pyproject.toml on Python {python}; do not edit:
# regenerate with `python3.11 tools/lock.py` (README, "Production").
"""


def main() -> int:
    if sys.version_info[:2] != IMAGE_PYTHON:
        wanted = ".".join(map(str, IMAGE_PYTHON))
        print(f"run this with Python {wanted}, as the image", file=sys.stderr)  # noqa: T201
        return 2
    with (ROOT / "pyproject.toml").open("rb") as fh:
        requirements = tomllib.load(fh)["project"]["dependencies"]
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip"]
        subprocess.run([*pip, "install", "-q", *requirements], check=True)
        frozen = subprocess.run([*pip, "freeze"], check=True, capture_output=True, text=True).stdout
    python = ".".join(map(str, sys.version_info[:2]))
    LOCK.write_text(HEADER.format(python=python) + frozen)
    print(f"wrote {LOCK.relative_to(ROOT)}: {len(frozen.splitlines())} packages")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
