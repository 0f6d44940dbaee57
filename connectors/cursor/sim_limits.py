"""``POST /teams/user-spend-limit`` in the simulator (reference sections 6.6 and 10.8).

The documented body is ``{"userEmail": string, "spendLimitDollars": integer | null}``:
both fields are required, the dollars are whole (``0`` is a $0 cap, ``null`` removes the
limit), and the person must already be on the team. Anything else is refused with
``{"outcome": "error", "message": ...}``, among them the undocumented
``{email, hardLimitDollars}`` shape one public client sends. The HTTP status of that
refusal is undocumented: 200 by default, ``SimulatorConfig.limit_error_status`` to change.

A change is stored on the member at once: the next ``/teams/spend`` shows it as
``monthlyLimitDollars`` and in ``effectivePerUserLimitDollars``.
"""

from __future__ import annotations

import re

from connectors.cursor.sim_routes import Payload, Window
from connectors.cursor.sim_team import Team

#: Roughly what Cursor's form check accepts (inferred: the docs quote "Invalid email format").
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class LimitRefused(Exception):
    """An ``outcome: error`` answer, with Cursor's message."""


def user_spend_limit_payload(team: Team, body: Payload, _window: Window) -> Payload:
    email, dollars = _read(body)
    found = [m for m in team.members if m.email.lower() == email.lower() and not m.is_removed]
    if not found:
        raise LimitRefused("User is not a member of this team")
    found[0].monthly_limit_dollars = dollars
    if dollars is None:
        return {"outcome": "success", "message": f"Spend limit removed for user {email}"}
    return {"outcome": "success", "message": f"Spend limit set to ${dollars} for user {email}"}


def _read(body: Payload) -> tuple[str, int | None]:
    if "userEmail" not in body or "spendLimitDollars" not in body:
        raise LimitRefused("userEmail and spendLimitDollars are required")
    email, dollars = body["userEmail"], body["spendLimitDollars"]
    if not isinstance(email, str) or not _EMAIL.fullmatch(email.strip()):
        raise LimitRefused("Invalid email format")
    if dollars is not None and (type(dollars) is not int or dollars < 0):
        raise LimitRefused("spendLimitDollars must be a whole number of dollars (or null)")
    return email.strip(), dollars
