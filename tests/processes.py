"""The real bot process in tests: a free port, the process's environment, starting it and
waiting for its server (the process tests of polling, webhook, replicas, health and outages)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "42:TEST-TOKEN"


def free_port() -> int:
    """A port nobody listens on (yet): for the process's server, or a peer that never answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_env(database_url: str, api_url: str, **settings: str) -> dict[str, str]:
    """This process's environment with the bot's token, the Bot API at ``api_url``, the database
    and warnings-only logs, then ``settings``; Redis and webhook mode only when given there."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "WEBHOOK_URL"}}
    return env | {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        **settings,
    }


async def start_bot(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    """``python -m bot <args>`` from the project's folder, its output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def wait_listening(port: int, process: asyncio.subprocess.Process) -> None:
    """Until the process's server accepts connections on ``port``."""
    deadline = time.monotonic() + 180  # only reports a hang; a loaded machine starts slowly
    while time.monotonic() < deadline:
        assert process.returncode is None, "the bot process exited"
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise AssertionError("the web server did not start")


async def stop_bot(
    process: asyncio.subprocess.Process, sig: int = signal.SIGTERM, timeout: float = 120
) -> bytes:
    """Stop the process with ``sig`` (unless it has ended) and wait for it: what it wrote to
    stderr since it was last read."""
    if process.returncode is None:
        process.send_signal(sig)
    _out, err = await asyncio.wait_for(process.communicate(), timeout)
    return err
