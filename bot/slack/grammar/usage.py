"""The texts `/spend` answers with: the help, each command's usage and the secret advice."""

from __future__ import annotations

from bot.slack.grammar.seat_usage import SEAT_PRICE_LINE, SEAT_USAGE
from digests.errors import PERIOD_USAGE

SECRET_ADVICE = (
    "That looked like an API key, so I ignored it and kept nothing. Text typed into a slash "
    "command can end up in logs: rotate that key in Cursor's dashboard now, then run "
    "`/spend cursor connect` and paste the new key into the form it opens."
)

_EXAMPLES = {
    "cursor": "`/spend cursor 7d by model`",
    "me": "`/spend me 30d`",
    "settings": "`/spend settings timezone Europe/Paris`",
    "digest": "`/spend digest add #eng-spend 09:00 weekdays`",
    "budget": "`/spend budget set cursor $5000 at 50,80,100`",
    "alerts": "`/spend alerts`",
    "periods": "`/spend cursor 2025-01-01..2025-01-31`",
}
USAGE: dict[str, str] = {
    "help": "`/spend help [cursor|me|settings|digest|budget|alerts|limit|seats|adoption|periods]`, "
    "e.g. `/spend help budget`",
    "cursor": "`/spend cursor [period] [by user|model|day|kind] [top N] [@person|email] "
    "[vs previous|vs PERIOD] [chart] [public] [csv]`\n• `/spend cursor` (this billing cycle, "
    "by person)\n• `/spend cursor 7d by model`\n• `/spend cursor last-cycle top 10`\n"
    "• `/spend cursor last month by model`\n• `/spend cursor 7d vs previous` (what changed)\n"
    "• `/spend cursor 30d chart by model` (a chart, sent to you)\n"
    "• `/spend cursor @alice 30d`\n• `/spend cursor 2025-01-01..2025-01-31 csv`\n"
    '• `/spend cursor by group` • `/spend cursor group "Platform" [by user|model]` '
    "(Cursor Enterprise billing groups)\n"
    "`public` posts the answer to the channel; `csv` attaches the rows.\n"
    "Admins: `/spend cursor connect` (opens a form for the key), `/spend cursor status`, "
    "`/spend cursor sync`, `/spend cursor disconnect`, `/spend cursor import` (history from "
    f"Cursor's CSV export, uploaded in a DM to the bot)\n{PERIOD_USAGE}",
    "me": "`/spend me [period] [by day|model|kind]`: your own spend, e.g. `/spend me 7d`\n"
    "• `/spend me daily [HH:MM]` or `/spend me weekly [HH:MM]`: your own line by DM at your "
    "local time (09:00 unless you say), `/spend me off` to stop it\n" + PERIOD_USAGE,
    "settings": "`/spend settings` shows them.\n"
    "• `/spend settings timezone Europe/Paris` (an IANA name)\n"
    "• `/spend settings visibility own` (members see their own spend and team totals) "
    "or `all` (members see everyone's)\n"
    "• `/spend settings link @alice alice@company.com` when a Slack email differs from Cursor's\n"
    + SEAT_PRICE_LINE,
    "digest": "• `/spend digest add #channel 09:00 [daily|weekdays|mon..sun]`\n"
    '• `/spend digest add #channel 09:00 group "Platform"` (that billing group\'s own)\n'
    "• `/spend digest list` • `/spend digest preview` • `/spend digest send 3` "
    "• `/spend digest remove 3`",
    "budget": "• `/spend budget set cursor $5000 [cycle|month|week|day] [at 50,80,100] "
    "[notify @a @b #channel]`\n• `/spend budget set @alice $200 month`\n"
    '• `/spend budget set group "Platform" $2000 cycle notify #channel @alice`\n'
    "• `/spend budget list` • `/spend budget remove 3`",
    "alerts": "`/spend alerts` lists open budget and anomaly alerts.",
    "limit": "Admins, a person's Cursor spend limit (Enterprise teams; whole dollars, "
    "confirmed in a dialog):\n• `/spend limit @alice $200` (or her email)\n"
    "• `/spend limit @alice` opens the dialog with her current limit\n"
    "• `/spend limit @alice off` removes it\n• `/spend limits` everyone with a limit\n"
    "• `/spend limits history` the changes made, and Cursor's answers",
    "periods": f"{PERIOD_USAGE} Examples: {_EXAMPLES['periods']}, `/spend cursor last week`, "
    "`/spend me since monday`, `/spend cursor oct 2026 by model`, `/spend cursor 2026-q3`, "
    "`/spend cursor this month vs last month`.",
    **SEAT_USAGE,
}
HELP_TEXT = "*`/spend` commands*\n" + "\n".join(
    [
        "• `/spend cursor 7d by model`: Cursor spend (add `@person`, `top 10`, `public`, `csv`)",
        "• `/spend cursor 7d vs previous`: what changed, biggest movers first",
        "• `/spend cursor 30d chart by model`: a chart, sent to you (`public` for the channel)",
        "• `/spend help periods`: every period form, with today's dates",
        "• `/spend me 30d`: your own spend (`/spend me daily`: a line of it by DM each day)",
        "• `/spend me last week`: periods as you say them",
        "• `/spend cursor connect`: connect Cursor (the key goes in a form, never in chat)",
        "• `/spend cursor status`: connection and last sync (also `sync`, `disconnect`)",
        "• `/spend cursor import`: import months of history from Cursor's CSV export",
        "• `/spend cursor seats`: seats paid, active and idle, cost per active seat (admins)",
        "• `/spend cursor adoption 30d`: active days, accepted lines and requests next to spend",
        f"• {_EXAMPLES['settings']}: timezone and who sees what",
        f"• {_EXAMPLES['digest']}: a daily digest",
        f"• {_EXAMPLES['budget']}: budgets and alerts",
        "• `/spend alerts`: open alerts",
        "• `/spend limit @alice $200`: a person's Cursor spend limit (also `/spend limits`)",
        "• `/spend help cursor`: details on one command",
    ]
)
#: Examples the App Home shows under its quick buttons.
HOME_EXAMPLES = (
    "Ask in your own words: `/spend me last week`, `/spend cursor this month vs last month`, "
    "`/spend cursor 30d chart by model`, `/spend help periods`."
)
#: The word after `/spend help` (or a command's own name) to the `USAGE` topic it asks for.
HELP_TOPICS = {
    **{topic: topic for topic in USAGE if topic != "help"},
    "connect": "cursor",
    "import": "cursor",
    "period": "periods",
    "timezone": "settings",
    "digests": "digest",
    "budgets": "budget",
    "alert": "alerts",
    "limits": "limit",
}
