"""Settings from the environment and an optional ``.env`` file, validated once at start."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/kezdesu.sqlite3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr | None = None  # required to run the bot, not for admin sub-commands
    database_url: str = DEFAULT_DATABASE_URL
    # Database connections per process (models/db.POOL_SIZE: 4 on SQLite, 20 on PostgreSQL).
    database_pool_size: int | None = Field(default=None, ge=1, le=500)
    telegram_api_url: str | None = None
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_locale: Literal["ru", "kk", "en"] = "ru"
    timezone: str = "Asia/Almaty"
    redis_url: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # "json": one JSON object per line on stderr, with the update's id (bot/logs.py).
    log_format: Literal["text", "json"] = "text"

    # Deadline reminders: days before the due date.
    reminder_days: Annotated[tuple[int, ...], NoDecode] = (30, 7, 1)
    # Residents' questions.
    question_limit_per_meeting: int = Field(default=5, ge=1, le=100)
    # Department invitations.
    invitation_ttl_days: int = Field(default=7, ge=1, le=365)
    # Delivery of the notification queue.
    rate_limit_per_second: float = Field(default=25.0, gt=0, le=30)
    quiet_hours_start: int = Field(default=22, ge=0, le=23)
    quiet_hours_end: int = Field(default=8, ge=0, le=23)
    # How long a worker's claim on a message lasts unless renewed (it renews every third of
    # it while alive): a message claimed by a killed process is sent again after about this.
    delivery_lease_seconds: float = Field(default=30.0, ge=5, le=600)

    # The one HTTP server of the process (web/): public pages, open data, the Mini App, the
    # health check and, in webhook mode, the webhook. WEB_PORT=0 switches it off (polling only).
    # WEBHOOK_HOST/WEBHOOK_PORT, this server's former names, are still read.
    web_host: str = Field(
        default="0.0.0.0", validation_alias=AliasChoices("web_host", "webhook_host")
    )
    web_port: int = Field(
        default=8080, ge=0, le=65535, validation_alias=AliasChoices("web_port", "webhook_port")
    )
    # The public https address of that server, which the bot links to (card, menu button).
    web_public_url: str | None = None

    # GET /healthz answers 503 when a due notification has waited longer than this (no worker
    # drains the queue, or it cannot keep up).
    health_queue_max_age_seconds: float = Field(default=900.0, gt=0, le=7 * 86400)

    # Webhook mode (long polling when WEBHOOK_URL is empty), served by the same server.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_path: str = "/telegram/webhook"

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        token = value.get_secret_value().strip()
        left, _, right = token.partition(":")
        if not left.isdigit() or not right:
            raise ValueError("must look like 123456:ABC-DEF… (as given by @BotFather)")
        return SecretStr(token)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in value.replace(";", ",").replace(" ", ",").split(",") if p]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError:
                raise ValueError("must be Telegram user ids separated by commas") from None
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("reminder_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                days = sorted(
                    {int(p) for p in value.replace(" ", "").split(",") if p}, reverse=True
                )
            except ValueError:
                raise ValueError("must be whole numbers of days separated by commas") from None
            if any(d <= 0 for d in days):
                raise ValueError("must be positive numbers of days")
            return tuple(days)
        return value

    @field_validator("web_public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be the site's https:// address, such as https://kezdesu.kz")
        return value.strip().rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _database_driver(cls, value: str) -> str:
        if value.startswith(("postgresql://", "postgres://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.split(":///", 1)[1]
        if not (value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://"))):
            raise ValueError("must start with sqlite+aiosqlite:/// or postgresql+asyncpg://")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def token(self) -> str:
        if self.bot_token is None:
            raise ConfigError("BOT_TOKEN is not set (put it in the environment or in .env)")
        return self.bot_token.get_secret_value()


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "settings"
        if err["type"] == "missing":
            raise ConfigError(f"{name} is not set (put it in the environment or in .env)") from None
        message = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{name} is invalid: {message}") from None
