"""`/spend cursor seats`, `/spend cursor adoption` and `/spend settings seat-price`, through
signed requests to the Bolt app, a synced simulator and the fake Slack Web API."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine

from bot.testing.fake_slack import FakeSlack
from bot.testing.signed_requests import app_home_opened_body, bolt_request
from bot.usecases.seat_reports import adoption_for, seats_for
from digests.format import dollars
from tests.bot.harness import ADMIN, MEMBER, Harness, build_harness


def _synced(bot: Harness) -> Harness:
    bot.connect_and_sync()
    return bot


def test_an_admin_sets_the_seat_price_and_settings_show_it(bot: Harness) -> None:
    _synced(bot)
    _, key = bot.command("settings seat-price $40")
    assert "$40.00 a month" in bot.reply_text(key)
    _, key = bot.command("settings")
    assert "*Seat price:* $40.00 a month" in bot.reply_text(key)
    _, key = bot.command("settings seat-price off")
    assert "cleared" in bot.reply_text(key)
    _, key = bot.command("settings")
    assert "*Seat price:* not set" in bot.reply_text(key)


def test_a_member_can_neither_set_the_seat_price_nor_see_seats(bot: Harness) -> None:
    _synced(bot)
    _, key = bot.command("settings seat-price $40", user=MEMBER)
    assert "Only workspace admins" in bot.reply_text(key)
    _, key = bot.command("settings", user=MEMBER)
    assert "not set" in bot.reply_text(key)
    _, key = bot.command("cursor seats", user=MEMBER)
    text = bot.reply_text(key)
    assert "Only workspace admins" in text and "seats" in text
    assert "Seats paid" not in text


def test_bad_seat_words_are_refused_with_the_usage_at_once(bot: Harness) -> None:
    for text, expected in (
        ("settings seat-price forty", "monthly price of one seat"),
        ("settings seat-price $-4", "monthly price of one seat"),
        ("cursor seats idle 0", "`idle` needs a number of days"),
        ("cursor seats bogus", "`/spend cursor seats [period] [idle N]`"),
        ("cursor adoption by model", "`by user` or `by group`"),
    ):
        response, _ = bot.command(text)
        assert expected in json.loads(response.body)["text"], text


def test_the_seats_reply_carries_the_ledgers_figures(bot: Harness) -> None:
    _synced(bot)
    _, key = bot.command("settings seat-price $40")
    bot.replies(key)
    _, key = bot.command("cursor seats 14d idle 7")
    text = bot.reply_text(key)
    report = seats_for(
        bot.engine, workspace_ref="T1", period_text="14d", now=bot.clock.now, idle_days=7
    )
    assert report.seat_price_cents == 4000 and report.seats_paid > 0
    assert f"*Seats paid*\n{report.seats_paid}" in text
    assert f"*Active*\n{report.active_seats}" in text
    assert f"*Usage cost*\n{dollars(report.usage_cost_cents)}" in text
    per_seat = report.cost_per_active_seat_cents
    assert per_seat is not None and f"*Cost per active seat*\n{dollars(Decimal(per_seat))}" in text


def test_without_a_seat_price_the_seats_reply_says_how_to_set_one(bot: Harness) -> None:
    _synced(bot)
    _, key = bot.command("cursor seats")
    text = bot.reply_text(key)
    assert "*Seat cost*\nn/a" in text
    assert "/spend settings seat-price $40" in text and "Cursor invoice" in text


def test_adoption_under_own_shows_a_member_their_row_and_team_totals_only(bot: Harness) -> None:
    _synced(bot)
    report = adoption_for(bot.engine, workspace_ref="T1", period_text="cycle", now=bot.clock.now)
    others = [row.email for row in report.rows if row.email != bot.emails[1]]
    assert others
    _, key = bot.command("cursor adoption", user=MEMBER)
    text = bot.reply_text(key)
    assert "Cursor adoption and spend" in text
    assert f"*Accepted lines*\n{report.team.usage.accepted_lines:,}" in text
    assert not any(email in text for email in others)
    _, key = bot.command("cursor adoption")
    admin_text = bot.reply_text(key)
    assert all(email[:31] in admin_text for email in [r.email for r in report.rows][:15])


def test_adoption_under_all_shows_everyone_to_a_member(bot: Harness) -> None:
    _synced(bot)
    _, key = bot.command("settings visibility all")
    bot.replies(key)
    report = adoption_for(bot.engine, workspace_ref="T1", period_text="cycle", now=bot.clock.now)
    _, key = bot.command("cursor adoption", user=MEMBER)
    text = bot.reply_text(key)
    assert all(row.email[:31] in text for row in report.rows[:15])


def test_adoption_by_group_says_it_is_not_available_yet(bot: Harness) -> None:
    _synced(bot)
    _, key = bot.command("cursor adoption 30d by group")
    assert "billing group isn't available yet" in bot.reply_text(key)


def _idle_team(sqlite_engine: Engine, slack: FakeSlack) -> Harness:
    harness = build_harness(sqlite_engine, slack, users=12, days=60, idle_fraction=0.25, seed=3)
    harness.connect_and_sync()
    return harness


def test_the_digest_has_one_line_for_idle_seats_and_their_monthly_cost(
    sqlite_engine: Engine, slack: FakeSlack
) -> None:
    bot = _idle_team(sqlite_engine, slack)
    try:
        _, key = bot.command("settings seat-price $40")
        bot.replies(key)
        yesterday = bot.clock.now.date() - timedelta(days=1)
        report = seats_for(
            bot.engine, workspace_ref="T1", period_text=yesterday.isoformat(), now=bot.clock.now
        )
        assert report.idle, "the team has idle seats"
        _, key = bot.command("digest preview")
        text = bot.reply_text(key)
        count = len(report.idle)
        assert f"*Seats:* {count} idle seats, {dollars(Decimal(4000 * count))} a month" in text
    finally:
        bot.close()


def test_app_home_shows_admins_a_seats_card_and_members_none(
    sqlite_engine: Engine, slack: FakeSlack
) -> None:
    bot = _idle_team(sqlite_engine, slack)
    try:
        report = seats_for(bot.engine, workspace_ref="T1", period_text="cycle", now=bot.clock.now)
        bot.app.dispatch(bolt_request(app_home_opened_body(user_id=ADMIN)))
        admin_view = bot.slack.wait_for("views.publish")[0].all_text()
        assert f"*Seats this cycle:* {report.seats_paid} paid" in admin_view
        assert f"{len(report.idle)} idle seats" in admin_view
        assert "seat-price $40" in admin_view
        bot.app.dispatch(bolt_request(app_home_opened_body(user_id=MEMBER)))
        views = bot.slack.wait_for("views.publish", count=2)
        member_view = views[1].all_text()
        assert "Your spend this cycle" in member_view and "Seats this cycle" not in member_view
    finally:
        bot.close()


def test_seats_for_the_calendar_s_first_days_answer_rather_than_fail(bot: Harness) -> None:
    _synced(bot)
    _, key = bot.command("cursor seats 0001-01-01..0001-01-05", user=ADMIN)
    text = bot.reply_text(key)
    assert "Cursor seats 0001-01-01 to 0001-01-05" in text
    assert "went wrong" not in text


def test_adoption_on_the_calendar_s_last_day_answers_rather_than_fails(bot: Harness) -> None:
    _synced(bot)
    _, key = bot.command("cursor adoption 9999-12-31", user=ADMIN)
    text = bot.reply_text(key)
    assert "went wrong" not in text
    assert "9999-12-31" in text
