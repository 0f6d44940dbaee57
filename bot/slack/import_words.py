"""What the bot says about importing Cursor's usage export in Slack (help, refusals, progress).

File names come from whoever uploaded the file: every one is escaped for mrkdwn.
"""

from __future__ import annotations

from bot.slack.file_download import megabytes
from bot.usecases.callers import ADMIN_ONLY
from digests.format import escape, escape_code
from digests.imports import summary_lines
from ledger.import_summary import ImportProgress, ImportSummary

REFUSED = ADMIN_ONLY.format(what="import Cursor history")
MAX_SETTING = "STACKSPEND_IMPORT_MAX_MB"


def how_to_import(max_bytes: int) -> str:
    """`/spend cursor import`: where the export comes from and how to hand it over."""
    return (
        "*Import Cursor history from before the connection*\n"
        "Cursor's API returns only about a week of usage; its dashboard exports months.\n"
        "1. In Cursor's dashboard, open *Usage* and choose *Export CSV* (a team export, "
        "with the `User` column).\n"
        "2. Upload the `.csv` file here, in a direct message to me (the *Messages* tab of my "
        "App Home).\n"
        f"• Files up to {megabytes(max_bytes)} (`{MAX_SETTING}`); split a longer export by "
        "date range.\n"
        "• Days Cursor's API already covers (from the first sync on) are skipped: the API's "
        "own events are kept for them.\n"
        "• Rows that cannot be read are skipped and reported with their line numbers.\n"
        "• Importing the same file again adds nothing.\n"
        "I post one message with the progress, and the summary when the import ends."
    )


def not_csv(name: str) -> str:
    return (
        f":warning: `{escape_code(name)}` isn't a CSV file, so I did not import it. "
        "Upload the usage export from Cursor's dashboard (Usage → Export CSV), "
        "a `.csv` file. `/spend cursor import` explains how."
    )


def too_large(name: str, size: int, max_bytes: int) -> str:
    return (
        f":warning: `{escape_code(name)}` is {megabytes(size)}; I import files up to "
        f"{megabytes(max_bytes)} (`{MAX_SETTING}`), so I did not download it. "
        "Export a shorter date range from Cursor's dashboard and upload each file."
    )


def unreadable(name: str) -> str:
    return (
        f":warning: I could not read `{escape_code(name)}` from Slack. "
        "Upload it again as a file (not a link or a snippet)."
    )


def downloading(name: str, got: int, total: int | None) -> str:
    of = f" of {megabytes(total)}" if total else ""
    return f":inbox_tray: Importing `{escape_code(name)}`: downloaded {megabytes(got)}{of}…"


def received(name: str, size: int | None) -> str:
    said = f" ({megabytes(size)})" if size else ""
    return f":inbox_tray: Importing `{escape_code(name)}`{said}: downloading…"


def failed(name: str, reason: str) -> str:
    return f":x: Could not import `{escape_code(name)}`: {reason}"


def importing(name: str, progress: ImportProgress) -> str:
    share = ""
    if progress.total_bytes:
        share = f"{min(100, progress.bytes_read * 100 // progress.total_bytes)}% read, "
    return (
        f":hourglass_flowing_sand: Importing `{escape_code(name)}`: {share}{progress.rows:,} rows…"
    )


def summary(name: str, result: ImportSummary) -> str:
    """The import's summary (the CLI's lines, in a code block)."""
    lines = "\n".join(escape_code(line) for line in summary_lines(result))
    return f":white_check_mark: Imported `{escape_code(name)}`.\n```\n{lines}\n```"


def refused(name: str, reason: str) -> str:
    """The file was read and refused (not an export, Cursor not connected)."""
    return f":x: Could not import `{escape_code(name)}`: {escape(reason)}"
