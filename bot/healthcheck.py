"""``python -m bot.healthcheck``: Docker's HEALTHCHECK, in both modes (polling and webhook).

Asks this container's web server for ``/healthz`` (web/health.py: the database, Redis, the
scheduler, the delivery worker, the queue) and exits 0 when it answers 200, 1 otherwise, with
one line saying why. Only the standard library: it runs every 30 s and must start fast.
With ``WEB_PORT=0`` (no web server, polling only) there is nothing to ask: exit 0.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 4.0


def health_url(environ: dict[str, str]) -> str | None:
    port = environ.get("WEB_PORT") or environ.get("WEBHOOK_PORT") or "8080"
    if port.strip() == "0":
        return None
    host = (environ.get("WEB_HOST") or environ.get("WEBHOOK_HOST") or "").strip()
    if host in {"", "0.0.0.0", "::", "[::]"}:  # listening everywhere: ask on loopback
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port.strip()}/healthz"


def main() -> int:
    url = health_url(dict(os.environ))
    if url is None:
        print("healthy: the web server is off (WEB_PORT=0), nothing to check")  # noqa: T201
        return 0
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            body = response.read().decode("utf-8", "replace")
        print(f"healthy: {body}")  # noqa: T201
        return 0
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")
        try:
            failed = {k: v for k, v in json.loads(body).items() if v not in {"ok"}}
        except ValueError:
            failed = {"status": body[:200]}
        print(f"unhealthy: {exc.code} {failed}")  # noqa: T201
    except (OSError, ValueError) as exc:
        print(f"unhealthy: {url} does not answer ({exc})")  # noqa: T201
    return 1


if __name__ == "__main__":
    sys.exit(main())
