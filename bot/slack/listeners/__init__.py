"""Slack listeners: module-level functions, registered on the Bolt app here.

Each listener names what it needs as arguments: Bolt's own (``ack``, ``body``, ``client``,
``respond``…) and ``services``, which the middleware below puts in every request's context
(Bolt passes context entries to listeners by name). The middleware also sets the team and
user ids that log lines carry (``bot.log_context``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from slack_bolt import App, BoltContext

from bot import log_context
from bot.services import BotServices
from bot.slack import ids
from bot.slack.listeners import actions, alerts, commands, connect, home, limits, uploads
from digests.alerts import BREAKDOWN, SET_LIMIT


def register_listeners(app: App, services: BotServices) -> None:
    def provide_services(context: BoltContext, next: Callable[[], None]) -> None:
        context["services"] = services
        log_context.bind_request(team_id=context.team_id, user_id=context.user_id)
        next()

    app.use(provide_services)
    app.command(ids.COMMAND)(commands.on_spend)
    app.view(ids.CONNECT_VIEW)(connect.on_submit)
    app.action(ids.DISCONNECT_CONFIRM)(actions.on_disconnect)
    app.action(ids.DISCONNECT_CANCEL)(actions.on_cancel)
    app.action(re.compile("^quick_"))(actions.on_quick)
    app.event("app_home_opened")(home.on_home_opened)
    app.event("file_shared")(uploads.on_file_shared)
    for action_id in alerts.ACTIONS:
        app.action(action_id)(alerts.on_state)
    app.action(BREAKDOWN)(alerts.on_breakdown)
    app.action(SET_LIMIT)(limits.on_button)
    app.view(ids.LIMIT_VIEW)(limits.on_submit)
