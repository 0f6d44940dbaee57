"""Alerts: raised by evaluating budgets, anomalies and connection health; acted upon in Slack.

``evaluate.evaluate`` runs after every sync and hourly. Each alert has a unique dedupe
key, and alerts are inserted with ON CONFLICT DO NOTHING on it (``store``), so repeats,
restarts and evaluators running side by side never raise one twice:

- ``threshold:{budget_id}:{period_start}:{pct}``: a budget's period reached pct% of it;
- ``forecast:{budget_id}:{period_start}``: the period is projected to end over budget
  (``projected_day`` is when it is crossed; see ``ledger.budget_rules.project``);
- ``anomaly:{connection_id}:{email}:{day}`` and ``anomaly-team:{connection_id}:{day}``:
  yesterday (the last complete local day) was unusual for a person or for the team;
- ``health:{connection_id}:revoked:{day}``, ``health:{connection_id}:failing:{day}``
  (since then, for more than ``failing_hours``) and ``health:{connection_id}:stale:{day}``
  (no successful sync since then, for longer than the provider's retention minus a day).

Days are local calendar days in the workspace's timezone. Spend is read from the
rollups in one grouped query per connection (``spend``); every budget is then
measured from that in memory.

An alert row holds facts only (kind, subject, provider, period, amounts, threshold,
rates, cause, ...): ``digests.alert_words`` says them, for Slack and for the CLI.

Modules: ``spend`` (reading spend), ``evaluate`` (budgets and anomalies), ``health``
(connection health), ``store`` (rows and the bulk insert), ``lifecycle`` (acting,
what is due, what was sent). Budget status lives in ``ledger.budget_status``.

Lifecycle: ``open`` -> ``acknowledged`` (never told again), or ``snoozed`` until a time,
then ``open`` again and told once more; ``resolved`` when the condition went away
(a health alert whose connection recovered; a budget alert whose amount was changed).
``due_notifications`` says what to send now; the sender calls ``mark_notified``.
"""
