# Kezdesu bot image: `docker compose up` (see docker-compose.yml) or
#   docker build -t kezdesu . && docker run --env-file .env kezdesu
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (cached while only the code changes): exactly the versions of
# constraints/locked.txt (regenerated with `python3.11 tools/lock.py`), nothing resolved anew.
COPY constraints/locked.txt /tmp/locked.txt
RUN pip install --no-deps -r /tmp/locked.txt

COPY . .
# pip check: the build stops if the lock no longer satisfies pyproject.toml.
RUN pip install --no-deps -e . \
    && pip check \
    && useradd --system --uid 10001 --home-dir /app kezdesu \
    && mkdir -p /app/data && chown kezdesu /app/data

USER kezdesu
# The process's web server (WEB_PORT): the public site, open data, the Mini App, /healthz and,
# in webhook mode, the webhook; served in both modes unless WEB_PORT=0.
EXPOSE 8080
# /healthz in both modes (polling and webhook): the database, Redis, the scheduler, the delivery
# worker and the queue's age (bot/healthcheck.py; exit 0 when WEB_PORT=0: nothing to ask).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot.healthcheck"]

CMD ["kezdesu"]
