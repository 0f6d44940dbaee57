"""Settings, read once at start-up from the environment or ``.env``.

Names carry the ``STACKSPEND_`` prefix, except Slack's own (``SLACK_BOT_TOKEN``
and friends). A missing or malformed setting stops the process with a message
that names it.
"""

from __future__ import annotations

import enum
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from connectors.cursor.endpoints import DEFAULT_BASE_URL
from ledger.db import DatabaseUrlError
from ledger.errors import SecretKeyError

if TYPE_CHECKING:
    from ledger.secrets import SecretBox

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it and says what to do."""


def _slack(name: str) -> AliasChoices:
    return AliasChoices(name, f"STACKSPEND_{name}")


class UninstallData(enum.StrEnum):
    """What an uninstall does with the workspace's ledger rows (its tokens always go)."""

    KEEP = "keep"
    PURGE = "purge"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STACKSPEND_",
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str = "sqlite:///stackspend.db"
    secret_key: SecretStr | None = None
    cursor_base_url: str = DEFAULT_BASE_URL
    cursor_api_key: SecretStr | None = None
    slack_api_url: str | None = None
    slack_bot_token: SecretStr | None = Field(None, validation_alias=_slack("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_slack("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(None, validation_alias=_slack("SLACK_APP_TOKEN"))
    #: Distribution (OAuth): the app's credentials; see :func:`slack_mode`.
    slack_client_id: str | None = Field(None, validation_alias=_slack("SLACK_CLIENT_ID"))
    slack_client_secret: SecretStr | None = Field(
        None, validation_alias=_slack("SLACK_CLIENT_SECRET")
    )
    #: The redirect URL Slack sends installers back to (one of oauth_config.redirect_urls).
    slack_redirect_uri: str | None = Field(None, validation_alias=_slack("SLACK_REDIRECT_URI"))
    #: A rotating bot token is refreshed when it expires within this many minutes.
    token_rotation_minutes: int = Field(120, ge=1, le=11 * 60)
    #: After `app_uninstalled`: keep the workspace's spend history, or purge it.
    uninstall_data: UninstallData = UninstallData.KEEP
    #: Slack user ids allowed to administer the bot besides workspace admins and owners.
    admin_user_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: How often the light sync runs (on the hour): it reads the events since the newest
    #: synced instant less ``sync_light_overlap_hours``. Before deep syncs existed this was
    #: the one sync's interval (24 by default); 24 now means a light sync a day beside the deep.
    sync_interval_hours: int = Field(1, ge=1, le=24 * 7)
    #: How far back a light sync re-reads before the newest synced instant.
    sync_light_overlap_hours: int = Field(2, ge=0, le=48)
    #: The local hour (reporting timezone, 0-23) of the daily deep sync: members, spend,
    #: daily usage and ``sync_overlap_hours`` of events re-read (Cursor revises recent hours).
    sync_deep_hour: int = Field(3, ge=0, le=23)
    sync_overlap_hours: int = Field(48, ge=1, le=24 * 30)
    #: A sync's lease lives this long unrenewed: a killed process's sync is taken over after it.
    sync_lease_seconds: int = Field(90, ge=2, le=3600)
    #: How often each replica looks for syncs that are due or that a stopped replica left.
    sync_sweep_seconds: int = Field(60, ge=1, le=3600)
    #: How often each replica re-reads schedules and connections changed through another
    #: replica, and sends digests that fell due while it was not looking.
    reconcile_seconds: int = Field(300, ge=1, le=3600)
    #: Alerts: a day at this many times the trailing 7-day average is unusual...
    anomaly_factor: Decimal = Field(Decimal(3), gt=1)
    #: ...when it also costs at least this many dollars.
    anomaly_floor_dollars: Decimal = Field(Decimal(20), ge=0)
    #: A connection failing for longer than this raises a health alert.
    failing_alert_hours: int = Field(6, ge=1)
    #: Days of usage Cursor keeps; alerts warn a day before unsynced history is lost.
    cursor_retention_days: int = Field(7, ge=2)
    #: A digest due while the bot was down is still sent this many hours late, then skipped.
    digest_grace_hours: int = Field(3, ge=0, le=23)
    #: The largest Cursor usage export the bot downloads from Slack for an import, in MB.
    import_max_mb: int = Field(200, ge=1, le=4096)
    log_level: str = "INFO"
    #: ``text`` lines, or ``json`` (one object a line, with team, user, job and request ids).
    log_format: Literal["text", "json"] = "text"

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cursor_base_url", "slack_api_url", "slack_redirect_uri")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level: use one of {', '.join(LOG_LEVELS)}")
        return level

    def secret_box(self) -> SecretBox:
        """The cipher for provider keys; a clear error when STACKSPEND_SECRET_KEY is unusable."""
        from ledger.secrets import SecretBox, parse_secret_keys  # cryptography: only when used

        raw = self.secret_key.get_secret_value() if self.secret_key else ""
        try:
            return SecretBox(parse_secret_keys(raw))
        except SecretKeyError as exc:
            raise SettingsError(str(exc)) from None


class SlackMode(enum.StrEnum):
    """How the bot meets Slack: one workspace on a static bot token, or many through OAuth."""

    SINGLE = "single"
    OAUTH = "oauth"


def slack_mode(settings: Settings) -> SlackMode:
    """The mode the present settings choose; a half-configured one names what is missing.

    ``SLACK_BOT_TOKEN`` alone: one workspace (the default for self-hosting).
    ``SLACK_CLIENT_ID`` with ``SLACK_CLIENT_SECRET``: distribution, installs through OAuth.
    """
    has_id = settings.slack_client_id is not None
    has_secret = settings.slack_client_secret is not None
    if has_id != has_secret:
        missing = "SLACK_CLIENT_SECRET" if has_id else "SLACK_CLIENT_ID"
        present = "SLACK_CLIENT_ID" if has_id else "SLACK_CLIENT_SECRET"
        raise SettingsError(
            f"{present} is set but {missing} is missing: OAuth distribution needs both "
            f"(or remove {present} to run on SLACK_BOT_TOKEN in one workspace)."
        )
    if has_id and settings.slack_bot_token is not None:
        raise SettingsError(
            "SLACK_BOT_TOKEN is set together with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: "
            "remove SLACK_BOT_TOKEN to install through OAuth, or remove SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET to run in one workspace."
        )
    return SlackMode.OAUTH if has_id else SlackMode.SINGLE


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with errors that name the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            field = str(error["loc"][0]) if error["loc"] else "settings"
            name = (
                field.upper()
                if field.upper().startswith("SLACK_")
                else f"STACKSPEND_{field.upper()}"
            )
            problems.append(f"{name}: {error['msg']}")
        raise SettingsError("Invalid settings: " + "; ".join(problems)) from None


DATABASE_URL_SETTING = "STACKSPEND_DATABASE_URL"

#: What a database that cannot be reached, opened or logged into raises on first use.
DATABASE_UNREACHABLE = (OperationalError, InterfaceError)


def database_error(exc: Exception, url: str | None = None) -> SettingsError:
    """A one-line error for a database that cannot be used, naming the setting.

    ``url`` (when known) is shown with its password hidden; the password never
    appears in the message, even where the driver repeats it.
    """
    if isinstance(exc, DatabaseUrlError):
        return SettingsError(f"{DATABASE_URL_SETTING} cannot be used: {exc}")
    parsed = _parsed(url)
    reason = _reason(exc, parsed.password if parsed else None)
    if parsed is None:
        return SettingsError(
            f"the database cannot be used ({reason}): check {DATABASE_URL_SETTING} "
            "and that the database is reachable."
        )
    if parsed.get_backend_name() == "sqlite":
        where = parsed.database or "(in memory)"
        return SettingsError(
            f"cannot use the SQLite database {where} ({reason}): set {DATABASE_URL_SETTING} "
            "to a file in a directory that exists and that this process can write."
        )
    shown = parsed.render_as_string(hide_password=True)
    return SettingsError(
        f"cannot use the database at {shown} ({reason}): check {DATABASE_URL_SETTING} "
        "and that the database server is running and accepts connections."
    )


_CREDENTIALS = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def _reason(exc: Exception, password: str | None) -> str:
    """The driver's own first line: no SQL, no line break, no password."""
    cause: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig else exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    text = lines[0] if lines else type(cause).__name__
    if password:
        text = text.replace(password, "***")
    return _CREDENTIALS.sub(r"\1***@", text)[:300]


def _parsed(url: str | None) -> URL | None:
    if not url:
        return None
    try:
        return make_url(url)
    except (SQLAlchemyError, ValueError):
        return None
