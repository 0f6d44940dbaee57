"""Rendering a workspace's digest for a channel: the message, and its chart when asked for."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from bot.services import CoreServices
from bot.usecases.budget_view import alert_lines, budget_lines
from bot.usecases.seat_digest import with_seats
from digests.blocks import Message
from digests.chart import chart_description, chart_title, render_chart
from digests.daily import compose
from digests.daily_render import render_blocks
from ledger.db import session_scope
from ledger.digest_data import digest_inputs
from ledger.group_digest import group_digest_inputs
from ledger.group_report import require_groups
from ledger.models import Workspace
from ledger.queries import scope_for
from ledger.visibility import Viewer


@dataclass(frozen=True)
class Rendered:
    message: Message
    chart_png: bytes | None
    chart_title: str = ""
    chart_alt_text: str = ""


def render_digest(
    services: CoreServices,
    workspace: Workspace,
    *,
    today: date,
    top: int = 5,
    chart: bool = True,
    group: tuple[str, str] | None = None,
) -> Rendered:
    """The workspace's digest, or with ``group`` (id, name) that billing group's own: its
    people and models, its budgets, alerts and forecast."""
    now = services.clock()
    # A digest goes to a channel: team figures, and people's only where the policy says all.
    viewer = Viewer.channel(workspace.visibility)
    with session_scope(services.engine) as session:
        scope = scope_for(session, workspace)
        if group is None:
            inputs = digest_inputs(session, scope, today=today, top=top, now=now, viewer=viewer)
        else:
            require_groups(session, scope.connection_id)
            inputs = group_digest_inputs(
                session,
                scope,
                group_id=group[0],
                group_name=group[1],
                today=today,
                top=top,
                now=now,
                viewer=viewer,
            )
        group_id = group[0] if group else None
        inputs = replace(
            inputs,
            budget_lines=budget_lines(session, workspace, now, viewer, group_id=group_id),
            alert_lines=alert_lines(session, workspace, viewer, group=group[1] if group else None),
        )
        inputs = with_seats(session, scope, inputs)
    message = render_blocks(compose(inputs))
    if not chart:
        return Rendered(message, None)
    if services.chart_pool is None:
        png = render_chart(inputs)
    else:
        png = services.chart_pool.submit(render_chart, inputs).result()
    return Rendered(message, png, chart_title(inputs), chart_description(inputs))
