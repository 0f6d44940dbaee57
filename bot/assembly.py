"""Builds the bot once, from settings: the one place where its parts are put together.

``core_services`` holds the shared parts (the database, the cipher, Cursor, the clock);
``assemble`` adds the Slack client, the digest sender, the alert notifier and, for
``stackspend serve``, the scheduler, in an order that needs no field set afterwards.
Tests and benchmarks call the same two functions, replacing only the network edges
(Cursor's transport, Slack's URL) and the clock.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.jobs.scheduler import Scheduler
from bot.ledger_setup import cursor_access, sync_options
from bot.services import BotServices, CoreServices, NoScheduler, utc_now
from bot.settings import Settings, SlackMode, slack_mode
from bot.slack.client import slack_client
from bot.slack.directory import SlackDirectory
from bot.slack.oauth import OAuthConfig, OAuthParts, oauth_parts
from bot.usecases.alert_delivery import AlertNotifier
from bot.usecases.digest_delivery import DigestSender
from bot.usecases.installs import workspace_installed
from bot.usecases.personal_delivery import PersonalSender
from bot.usecases.report_cache import ReportCache
from connectors.cursor.access import CursorAccess
from ledger.alerts.evaluate import AlertSettings
from ledger.models import Workspace


def alert_settings(settings: Settings) -> AlertSettings:
    return AlertSettings(
        anomaly_factor=settings.anomaly_factor,
        anomaly_floor_cents=settings.anomaly_floor_dollars * 100,
        failing_hours=settings.failing_alert_hours,
        retention_days=settings.cursor_retention_days,
    )


def chart_pool() -> ProcessPoolExecutor:
    """Processes for drawing charts, so that a burst of digests uses every core.

    Started with ``spawn``: forking a process that already runs threads is unsafe.
    """
    from digests.chart import warm_up  # matplotlib: loaded only by processes that draw

    workers = max(1, os.cpu_count() or 1)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    for _ in range(workers):
        pool.submit(warm_up)
    return pool


def core_services(
    settings: Settings,
    engine: Engine,
    *,
    cursor: Callable[[], CursorAccess] | None = None,
    cursor_check: Callable[[], CursorAccess] | None = None,
    clock: Callable[[], datetime] = utc_now,
    charts: Executor | None = None,
    reports: ReportCache | None = None,
) -> CoreServices:
    """The shared parts; ``cursor``/``cursor_check`` replace how Cursor is reached (tests)."""
    return CoreServices(
        engine=engine,
        box=settings.secret_box(),
        cursor_access=cursor or (lambda: cursor_access(settings)),
        cursor_check_access=cursor_check
        or (lambda: CursorAccess.for_key_check(settings.cursor_base_url)),
        admin_user_ids=frozenset(settings.admin_user_ids),
        sync_options=sync_options(settings),
        directory=SlackDirectory(),
        clock=clock,
        alert_settings=alert_settings(settings),
        chart_pool=charts,
        reports=reports or ReportCache(),
        import_max_bytes=settings.import_max_mb * 1024 * 1024,
    )


@dataclass(frozen=True)
class Assembly:
    """The bot's parts, each built once."""

    services: BotServices
    slack: WebClient
    sender: DigestSender
    notifier: AlertNotifier
    #: Only in a process that runs the clock (``stackspend serve``).
    scheduler: Scheduler | None
    #: OAuth mode only: the installations and Bolt's OAuth settings.
    oauth: OAuthParts | None = None


def assemble(
    settings: Settings,
    core: CoreServices,
    *,
    slack: WebClient | None = None,
    with_scheduler: bool = False,
) -> Assembly:
    """Everything that talks to Slack, on ``core``: the sender, the notifier, the scheduler.

    ``slack`` defaults to a client for the configured bot token and Slack API URL. In OAuth
    mode (:func:`~bot.settings.slack_mode`) it has no token: each workspace's messages go
    out with the bot token of its own installation.
    """
    if slack is None:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        slack = slack_client(token, settings.slack_api_url)
    client = slack
    oauth: OAuthParts | None = None
    if slack_mode(settings) is SlackMode.OAUTH:

        def on_installed(enterprise_id: str | None, team_id: str | None, name: str) -> None:
            workspace_installed(services, enterprise_id=enterprise_id, team_id=team_id, name=name)

        oauth = oauth_parts(_oauth_config(settings), core.engine, client, on_installed)
    client_for = _client_for(client, oauth)
    notifier = AlertNotifier(core, client_for)
    sender = DigestSender(core, client_for, grace=timedelta(hours=settings.digest_grace_hours))
    scheduler = (
        Scheduler(
            core,
            sender,
            sync_interval=timedelta(hours=settings.sync_interval_hours),
            deep_hour=settings.sync_deep_hour,
            sync_sweep=timedelta(seconds=settings.sync_sweep_seconds),
            reconcile_every=timedelta(seconds=settings.reconcile_seconds),
            alerts=notifier,
            personal=PersonalSender(core, client_for, grace=sender.grace),
        )
        if with_scheduler
        else None
    )
    services = BotServices.around(
        core,
        jobs=scheduler if scheduler is not None else NoScheduler(),
        alerts=notifier,
        digests=sender,
    )
    return Assembly(services, client, sender, notifier, scheduler, oauth)


def _client_for(client: WebClient, oauth: OAuthParts | None) -> Callable[[Workspace], WebClient]:
    """The client a workspace's messages go out with: the one bot token, or its own."""
    if oauth is None:
        return lambda _workspace: client
    installations = oauth.installations
    return lambda workspace: installations.client_for(
        workspace.slack_team_id, workspace.enterprise_id
    )


def _oauth_config(settings: Settings) -> OAuthConfig:
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    return OAuthConfig(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        redirect_uri=settings.slack_redirect_uri,
        rotation_minutes=settings.token_rotation_minutes,
    )
