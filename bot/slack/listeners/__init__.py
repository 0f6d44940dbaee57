"""Slack listeners, registered on the Bolt app by kind."""

from __future__ import annotations

from slack_bolt import App

from bot.services import BotServices
from bot.slack.listeners import actions, alerts, commands, connect, home


def register_listeners(app: App, services: BotServices) -> None:
    commands.register(app, services)
    connect.register(app, services)
    actions.register(app, services)
    home.register(app, services)
    alerts.register(app, services)
