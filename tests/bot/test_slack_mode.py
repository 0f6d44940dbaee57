"""The Slack mode: chosen by which settings are present; a half-configured one stops start-up."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from bot.settings import SettingsError, SlackMode, UninstallData, load_settings, slack_mode
from bot.slack.app import create_app
from bot.slack.oauth import BOT_SCOPES
from bot.testing.signed_requests import SIGNING_SECRET
from tests.bot.cli_support import run
from tests.bot.harness import Harness
from tests.bot.harness import test_settings as settings_of

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def _mode(**values: Any) -> SlackMode:
    return slack_mode(settings_of(**values))


def test_a_bot_token_alone_is_single_workspace_mode() -> None:
    assert _mode(slack_bot_token="xoxb-1") is SlackMode.SINGLE
    assert _mode() is SlackMode.SINGLE


def test_client_id_and_secret_together_are_oauth_mode() -> None:
    assert _mode(slack_client_id="1.2", slack_client_secret="s") is SlackMode.OAUTH


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ({"slack_client_id": "1.2"}, "SLACK_CLIENT_SECRET is missing"),
        ({"slack_client_secret": "s"}, "SLACK_CLIENT_ID is missing"),
    ],
)
def test_half_of_the_oauth_credentials_names_the_other_half(
    values: dict[str, str], missing: str
) -> None:
    with pytest.raises(SettingsError, match=missing):
        _mode(**values)


def test_a_bot_token_with_oauth_credentials_is_ambiguous_and_says_what_to_remove() -> None:
    with pytest.raises(SettingsError, match="remove SLACK_BOT_TOKEN to install through OAuth"):
        _mode(slack_bot_token="xoxb-1", slack_client_id="1.2", slack_client_secret="s")


def test_the_uninstall_data_setting_keeps_by_default_and_names_itself_when_wrong(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert settings_of().uninstall_data is UninstallData.KEEP
    monkeypatch.setenv("STACKSPEND_UNINSTALL_DATA", "shred")
    with pytest.raises(SettingsError, match="STACKSPEND_UNINSTALL_DATA"):
        load_settings(_env_file=None)


@pytest.mark.parametrize(
    ("extra", "args", "expected"),
    [
        ({"SLACK_CLIENT_ID": "1.2"}, ["--http"], "SLACK_CLIENT_SECRET is missing"),
        ({"SLACK_CLIENT_SECRET": "s"}, ["--http"], "SLACK_CLIENT_ID is missing"),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1"},
            ["--http"],
            "remove SLACK_BOT_TOKEN",
        ),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"},
            ["--http"],
            "SLACK_SIGNING_SECRET",
        ),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x"},
            [],
            "--http (OAuth installs need the HTTP routes",
        ),
    ],
)
def test_serve_stops_at_start_up_naming_the_missing_or_conflicting_setting(
    env: dict[str, str], extra: dict[str, str], args: list[str], expected: str
) -> None:
    code, _out, err = run({**env, **extra}, "serve", *args)
    assert code == 1
    assert expected in err


def test_the_oauth_scopes_are_the_manifests_bot_scopes() -> None:
    text = MANIFEST.read_text()
    block = text.split("oauth_config:")[1].split("settings:")[0]
    bot = block.split("bot:")[1]
    scopes = re.findall(r"^\s+- ([a-z:.]+)", bot, re.MULTILINE)
    assert tuple(scopes) == BOT_SCOPES


def test_the_manifest_subscribes_to_uninstall_and_revocation_events() -> None:
    text = MANIFEST.read_text()
    assert "- app_uninstalled" in text and "- tokens_revoked" in text
    assert "/slack/oauth_redirect" in text


def test_empty_oauth_variables_do_not_turn_bolt_oauth_on_in_single_workspace_mode(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`SLACK_CLIENT_ID=` lines in an env file: Bolt would switch to its default OAuth (a
    file store, the bot token ignored) on their mere presence."""
    monkeypatch.setenv("SLACK_CLIENT_ID", "")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", " ")
    app = create_app(
        bot.services,
        bot.app.client,
        signing_secret=SIGNING_SECRET,
        token_verification_enabled=False,
    )
    assert app.oauth_flow is None and app.installation_store is None
    assert "SLACK_CLIENT_ID" not in os.environ and "SLACK_CLIENT_SECRET" not in os.environ
