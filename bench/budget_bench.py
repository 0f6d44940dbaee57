"""Budget evaluation: 10,000 budgets over a 1,000-user ledger, target under one second.

The ledger is ``bench.ledger_bench.build_ledger``'s: a year of rollups for 1,000 users
(``user0000@acme.test`` ...) in workspace TBENCH, spend snapshots for the October and
November cycles, the clock at Wednesday 2026-11-25 14:30 UTC. Then 10,000 budgets are
inserted in bulk (as rows, not through ``add_budget``, which allows 100 a workspace and one
per subject and period): 100 team budgets over the four periods with amounts around the
team's own spend, and 9,900 personal budgets, about ten per person over the four periods
(so several per person and period, at different amounts), with amounts around what a
person spends in such a period.

``ledger.alerts.evaluate.evaluate`` is then timed as the scheduler runs it, in one transaction:
the first run raises the thresholds, forecasts, anomalies and health alerts that are due
(and inserts them), the second finds them all raised already and creates none. Then
``budget_status`` for the same 10,000 budgets. SQLite, then PostgreSQL when it answers.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import Engine, Table, func, select

from bench.ledger_bench import NOW, TEAM_ID, build_ledger, databases, line
from ledger.accounts import find_workspace
from ledger.alerts.evaluate import AlertSettings, evaluate
from ledger.budget_status import budget_status
from ledger.db import make_engine, session_scope
from ledger.models import Alert, Budget
from ledger.secrets import SecretBox, generate_secret_key

BUDGETS: Table = Budget.__table__  # type: ignore[attr-defined]
ALERTS: Table = Alert.__table__  # type: ignore[attr-defined]

TARGET_S = 1.0
TEAM_BUDGETS = 100
PERSONAL_BUDGETS = 9_900
USERS = 1000
PERIODS = ("cycle", "month", "week", "day")
#: Rough dollars a period: (team, one person), for amounts that some spends cross.
TYPICAL_DOLLARS = {
    "cycle": (60_000, 90),
    "month": (60_000, 90),
    "week": (15_000, 25),
    "day": (2_500, 4),
}
THRESHOLD_SETS = ("50,80,100", "75,100", "25,50,75,90,100", "100")


def budget_rows(workspace_id: int, seed: int = 5) -> list[dict[str, object]]:
    rng = random.Random(seed)

    def amount(period: str, team: bool) -> int:
        typical = TYPICAL_DOLLARS[period][0 if team else 1]
        return max(100, int(typical * rng.uniform(0.5, 4.0) * 100))

    rows: list[dict[str, object]] = []
    for index in range(TEAM_BUDGETS + PERSONAL_BUDGETS):
        team = index < TEAM_BUDGETS
        period = PERIODS[index % len(PERIODS)]
        user = (index - TEAM_BUDGETS) % USERS
        rows.append(
            {
                "workspace_id": workspace_id,
                "provider": "cursor",
                "subject_email": None if team else f"user{user:04d}@acme.test",
                "subject_user_id": None if team else f"U{user:06d}",
                "amount_cents": amount(period, team),
                "period": period,
                "thresholds": rng.choice(THRESHOLD_SETS),
                "notify_user_ids": "UBENCH",
                "notify_channel_id": "CBENCH" if team else None,
                "dm_subject": not team,
                "created_by": "UBENCH",
                "created_at": NOW - timedelta(days=40),
                "enabled": True,
            }
        )
    return rows


def timed_evaluate(engine: Engine) -> tuple[float, list[Alert]]:
    started = time.perf_counter()
    with session_scope(engine) as session:
        alerts = evaluate(session, now=NOW, settings=AlertSettings())
    return time.perf_counter() - started, alerts


def bench_evaluate() -> None:
    box = SecretBox([generate_secret_key()])
    for label, url in databases():
        engine = make_engine(url)
        try:
            started = time.perf_counter()
            rows = build_ledger(engine, box)
            with session_scope(engine) as session:
                workspace = find_workspace(session, TEAM_ID)
                assert workspace.id is not None
                session.execute(BUDGETS.insert(), budget_rows(workspace.id))
                workspace_id = workspace.id
            if engine.dialect.name == "postgresql":
                with engine.begin() as connection:
                    connection.exec_driver_sql("ANALYZE")
            print(
                f"   {label} ledger: {rows:,} usage_rollup rows, "
                f"{TEAM_BUDGETS + PERSONAL_BUDGETS:,} budgets, "
                f"built in {time.perf_counter() - started:.1f} s"
            )
            first, alerts = timed_evaluate(engine)
            kinds = Counter(alert.kind for alert in alerts)
            shown = ", ".join(f"{count:,} {kind}" for kind, count in sorted(kinds.items()))
            line(
                f"evaluate first run {label}",
                f"{first * 1000:,.0f} ms",
                f"target < {TARGET_S:.0f} s",
                f"{len(alerts):,} alerts raised and inserted ({shown or 'none'})",
            )
            second, again = timed_evaluate(engine)
            with session_scope(engine) as session:
                stored = session.execute(select(func.count()).select_from(ALERTS)).scalar()
            line(
                f"evaluate again {label}",
                f"{second * 1000:,.0f} ms",
                f"target < {TARGET_S:.0f} s",
                f"{len(again)} new alerts (all raised already); {stored:,} alerts stored",
            )
            started = time.perf_counter()
            with session_scope(engine) as session:
                workspace = find_workspace(session, TEAM_ID)
                statuses = budget_status(session, workspace, now=NOW)
            elapsed = time.perf_counter() - started
            over = sum(1 for status in statuses if status.percent >= 100)
            line(
                f"budget_status {label}",
                f"{elapsed * 1000:,.0f} ms",
                "no target",
                f"{len(statuses):,} budgets of workspace {workspace_id}, {over:,} at or over 100%",
            )
        finally:
            engine.dispose()


def main() -> None:
    started = time.perf_counter()
    print("-- budget evaluation")
    bench_evaluate()
    print(f"   (budget evaluation: {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
