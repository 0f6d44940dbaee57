"""``stackspend serve``: the Slack app, over Socket Mode or HTTP."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Annotated, NoReturn

import typer
from slack_bolt import App

from bot.assembly import Assembly, assemble, chart_pool, core_services
from bot.cli.common import clean_errors, configure_logging, fail, settings_or_exit
from bot.jobs.scheduler import Scheduler
from bot.jobs.shutdown import stop_gracefully
from bot.ledger_setup import ledger_engine
from bot.readiness import Check, serve_checks
from bot.services import BotServices, CoreServices
from bot.settings import Settings, SettingsError, SlackMode, UninstallData, slack_mode
from bot.slack.app import create_app
from bot.slack.serve import serve_http, serve_socket_mode

logger = logging.getLogger(__name__)


def serve(
    http: Annotated[
        bool, typer.Option("--http", help="Serve HTTP instead of Socket Mode.")
    ] = False,
    port: Annotated[int, typer.Option(help="HTTP port.")] = 3000,
    host: Annotated[str, typer.Option(help="HTTP interface.")] = "0.0.0.0",
) -> None:
    """Run the Slack app (Socket Mode when SLACK_APP_TOKEN is set, or --http).

    One workspace on SLACK_BOT_TOKEN, or many installed through OAuth when
    SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set (over --http: the install pages are
    HTTP routes)."""
    settings = settings_or_exit()
    configure_logging(settings.log_level, settings.log_format)
    _require_slack_settings(settings, http=http)
    assert settings.slack_signing_secret is not None
    with clean_errors():
        app, bot, pool = _build_app(settings, settings.slack_signing_secret.get_secret_value())
    services, scheduler = bot.services, bot.scheduler
    assert scheduler is not None
    # `docker stop` and process managers send SIGTERM: leave through the clean-up below.
    signal.signal(signal.SIGTERM, lambda *_: stop_taking_work(services))
    code = 0
    try:
        scheduler.start()
        ready = serve_checks(services.engine, lambda: scheduler.running)
        _run_server(app, settings, http=http, host=host, port=port, readiness=ready)
    except (SystemExit, KeyboardInterrupt):  # Socket Mode; waitress returns instead
        pass
    except OSError as exc:
        logger.error("could not serve on %s:%s: %s", host, port, exc.strerror or exc)
        code = 1
    finally:
        _stop_and_exit(services, scheduler, pool, code)


def _require_slack_settings(settings: Settings, *, http: bool) -> None:
    """Exit with one line naming every Slack setting this way of serving still needs."""
    try:
        mode = slack_mode(settings)
    except SettingsError as exc:
        fail(f"{exc} See README: Slack app setup.")
    needed = [("SLACK_SIGNING_SECRET", settings.slack_signing_secret)]
    if mode is SlackMode.SINGLE:
        needed.insert(0, ("SLACK_BOT_TOKEN", settings.slack_bot_token))
    missing = [name for name, value in needed if value is None]
    if mode is SlackMode.OAUTH and not http:
        missing.append(
            "--http (OAuth installs need the HTTP routes /slack/install and /slack/oauth_redirect)"
        )
    elif not http and settings.slack_app_token is None:
        missing.append("SLACK_APP_TOKEN (or pass --http)")
    if missing:
        fail("Missing settings: " + ", ".join(missing) + ". See README: Slack app setup.")


def _build_app(
    settings: Settings, signing_secret: str
) -> tuple[App, Assembly, ProcessPoolExecutor]:
    """The Bolt app, the bot's parts (with the scheduler) and the chart-drawing pool."""
    engine = ledger_engine(settings)
    pool = chart_pool()
    bot = assemble(settings, core_services(settings, engine, charts=pool), with_scheduler=True)
    app = create_app(
        bot.services,
        bot.slack,
        signing_secret=signing_secret,
        oauth=bot.oauth,
        uninstall_purges=settings.uninstall_data is UninstallData.PURGE,
    )
    return app, bot, pool


def _run_server(
    app: App,
    settings: Settings,
    *,
    http: bool,
    host: str,
    port: int,
    readiness: Mapping[str, Check] | None = None,
) -> None:
    """Serve over HTTP or Socket Mode until asked to stop."""
    if http:
        assert settings.slack_signing_secret is not None
        serve_http(
            app,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            host=host,
            port=port,
            readiness=readiness,
        )
    else:
        assert settings.slack_app_token is not None
        serve_socket_mode(app, app_token=settings.slack_app_token.get_secret_value())


def _stop_and_exit(
    services: BotServices, scheduler: Scheduler, pool: ProcessPoolExecutor, code: int
) -> NoReturn:
    """Finish running syncs, end the chart workers and leave with ``code``."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut this short
    logger.info("stopping: running syncs finish the page in hand, then the process leaves")
    stop_gracefully(services, scheduler)
    stop_chart_workers(pool)
    logging.shutdown()
    # Threads still waiting on Slack or Cursor must not keep a stopping process alive.
    os._exit(code)


def stop_taking_work(services: CoreServices) -> NoReturn:
    """SIGTERM: no new sync starts from here on; leave the serving loop."""
    services.stopping.set()
    sys.exit(0)


def stop_chart_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel queued charts and end the drawing processes now (one may be mid-chart)."""
    pool.shutdown(wait=False, cancel_futures=True)
    for child in multiprocessing.active_children():
        child.terminate()
    for child in multiprocessing.active_children():
        child.join(timeout=2)
