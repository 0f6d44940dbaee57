"""`POST /teams/user-spend-limit`: the documented body, Cursor's answers, and a write that is
never sent twice once it may have landed (reference sections 2, 4 and 6.6)."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from connectors.cursor.client import ClientOptions, CursorAdminClient
from connectors.cursor.endpoints import SPEND, USER_SPEND_LIMIT
from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator
from connectors.cursor.transform import to_member_spend
from connectors.cursor.wire import MemberSpend
from connectors.errors import AuthError, OutcomeUnknownError, PlanError, RateLimitedError
from tests.connectors.test_cursor_client import Sleeps, make_client, scripted


@pytest.fixture
def sim() -> CursorSimulator:
    return CursorSimulator(SimulatorConfig(users=6, days=5, rate_limiting=False))


def client_of(sim: CursorSimulator, key: str = DEMO_API_KEY) -> CursorAdminClient:
    options = ClientOptions(base_url="http://cursor.test", rate_limits={})
    return CursorAdminClient(key, options, transport=sim.transport(), sleep=Sleeps())


def member(sim: CursorSimulator) -> str:
    return next(m.email for m in sim.team.members if not m.is_removed)


def limit_posts(sim: CursorSimulator) -> list[tuple[str, str, int]]:
    return [call for call in sim.calls if call[1] == USER_SPEND_LIMIT]


def spend_row(sim: CursorSimulator, email: str) -> dict[str, object]:
    with httpx.Client(transport=sim.transport(), base_url="http://cursor.test") as http:
        body = http.post(SPEND, json={}, auth=(DEMO_API_KEY, "")).json()
    return next(row for row in body["teamMemberSpend"] if row["email"] == email)


def test_a_limit_is_sent_in_the_documented_body_and_shows_in_the_next_spend_snapshot(
    sim: CursorSimulator,
) -> None:
    email = member(sim)
    answer = client_of(sim).set_user_spend_limit(email=email, dollars=200)
    assert answer.outcome == "success"
    assert answer.message == f"Spend limit set to $200 for user {email}"
    (sent,) = [r for r in sim.requests if r.path == USER_SPEND_LIMIT]
    assert sent.body == {"userEmail": email, "spendLimitDollars": 200}
    row = spend_row(sim, email)
    assert row["monthlyLimitDollars"] == 200
    assert row["effectivePerUserLimitDollars"] == 200


def test_null_removes_the_limit_and_zero_is_a_zero_dollar_cap(sim: CursorSimulator) -> None:
    email = member(sim)
    client = client_of(sim)
    assert client.set_user_spend_limit(email=email, dollars=0).outcome == "success"
    assert spend_row(sim, email)["monthlyLimitDollars"] == 0
    assert client.set_user_spend_limit(email=email, dollars=None).outcome == "success"
    assert spend_row(sim, email)["monthlyLimitDollars"] is None
    bodies = [r.body for r in sim.requests if r.path == USER_SPEND_LIMIT]
    assert bodies[-1] == {"userEmail": email, "spendLimitDollars": None}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"email": "x@acme.test", "hardLimitDollars": 200}, "are required"),
        ({"userEmail": "x@acme.test"}, "are required"),
        ({"userEmail": "not-an-email", "spendLimitDollars": 5}, "Invalid email format"),
        ({"userEmail": "MEMBER", "spendLimitDollars": 199.99}, "whole number"),
        ({"userEmail": "MEMBER", "spendLimitDollars": "200"}, "whole number"),
        ({"userEmail": "MEMBER", "spendLimitDollars": -1}, "whole number"),
        ({"userEmail": "ghost@nowhere.test", "spendLimitDollars": 5}, "not a member"),
    ],
)
@pytest.mark.parametrize("status", [200, 400])
def test_the_simulator_refuses_what_the_docs_do_not_allow_with_outcome_error(
    body: dict[str, object], message: str, status: int
) -> None:
    sim = CursorSimulator(
        SimulatorConfig(users=6, days=5, rate_limiting=False, limit_error_status=status)
    )
    email = member(sim)
    body = {k: (email if v == "MEMBER" else v) for k, v in body.items()}
    before = spend_row(sim, email)["monthlyLimitDollars"]
    with httpx.Client(transport=sim.transport(), base_url="http://cursor.test") as http:
        response = http.post(USER_SPEND_LIMIT, json=body, auth=(DEMO_API_KEY, ""))
    assert response.status_code == status
    assert response.json()["outcome"] == "error"
    assert message in response.json()["message"]
    assert spend_row(sim, email)["monthlyLimitDollars"] == before


@pytest.mark.parametrize("status", [200, 400])
def test_outcome_error_comes_back_as_cursors_answer_whatever_its_status(status: int) -> None:
    sim = CursorSimulator(
        SimulatorConfig(users=6, days=5, rate_limiting=False, limit_error_status=status)
    )
    answer = client_of(sim).set_user_spend_limit(email="ghost@nowhere.test", dollars=10)
    assert (answer.outcome, answer.message) == ("error", "User is not a member of this team")
    assert len(limit_posts(sim)) == 1


def test_a_team_without_enterprise_gets_a_plan_error(sim: CursorSimulator) -> None:
    sim.add_key("crsr_team_plan", "no-enterprise")
    with pytest.raises(PlanError):
        client_of(sim, "crsr_team_plan").set_user_spend_limit(email=member(sim), dollars=5)


def test_a_revoked_key_is_an_auth_error(sim: CursorSimulator) -> None:
    with pytest.raises(AuthError):
        client_of(sim, "crsr_unknown").set_user_spend_limit(email=member(sim), dollars=5)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_not_retried_since_the_change_may_have_landed(
    sim: CursorSimulator, status: int
) -> None:
    sim.faults.fail_next(status, 3, path=USER_SPEND_LIMIT)
    with pytest.raises(OutcomeUnknownError, match="may or may not have been made"):
        client_of(sim).set_user_spend_limit(email=member(sim), dollars=5)
    assert len(limit_posts(sim)) == 1


def test_a_timeout_after_sending_is_not_retried() -> None:
    handler, seen = scripted(httpx.ReadTimeout("slow"), httpx.Response(200, json={}))
    with pytest.raises(OutcomeUnknownError):
        make_client(handler).set_user_spend_limit(email="a@b.co", dollars=5)
    assert len(seen) == 1


def test_a_rate_limited_write_is_retried_since_cursor_refused_it_before_acting(
    sim: CursorSimulator,
) -> None:
    sim.faults.fail_next(429, 2, path=USER_SPEND_LIMIT, retry_after=1)
    answer = client_of(sim).set_user_spend_limit(email=member(sim), dollars=5)
    assert answer.outcome == "success"
    assert [status for _, _, status in limit_posts(sim)] == [429, 429, 200]


def test_a_write_that_never_reached_cursor_is_retried() -> None:
    ok = httpx.Response(200, json={"outcome": "success", "message": "Spend limit set"})
    handler, seen = scripted(httpx.ConnectError("refused"), ok)
    answer = make_client(handler).set_user_spend_limit(email="a@b.co", dollars=5)
    assert answer.outcome == "success"
    assert len(seen) == 2
    assert json.loads(seen[1].content) == {"userEmail": "a@b.co", "spendLimitDollars": 5}


def test_rate_limiting_that_never_ends_says_so(sim: CursorSimulator) -> None:
    sim.faults.fail_next(429, 50, path=USER_SPEND_LIMIT)
    options = ClientOptions(base_url="http://cursor.test", rate_limits={}, max_attempts=3)
    client = CursorAdminClient(DEMO_API_KEY, options, transport=sim.transport(), sleep=Sleeps())
    with pytest.raises(RateLimitedError):
        client.set_user_spend_limit(email=member(sim), dollars=5)


@pytest.mark.parametrize("dollars", [1.5, -1, True, "200"])
def test_the_client_sends_whole_dollars_only(dollars: object) -> None:
    handler, seen = scripted(httpx.Response(200, json={}))
    with pytest.raises(ValueError, match="whole number"):
        make_client(handler).set_user_spend_limit(email="a@b.co", dollars=dollars)  # type: ignore[arg-type]
    assert seen == []


def test_the_spend_snapshot_keeps_the_persons_own_limit_and_the_override() -> None:
    row = MemberSpend.model_validate(
        {
            "email": "Tomas@Acme.test",
            "spendCents": 1375.2,
            "overallSpendCents": 5375.2,
            "hardLimitOverrideDollars": 100,
            "monthlyLimitDollars": 200,
            "effectivePerUserLimitDollars": 100,
        }
    )
    spend = to_member_spend(row, 1771891200000)
    assert spend.monthly_limit_dollars == Decimal(200)
    assert spend.limit_override_dollars == Decimal(100)
    assert spend.limit_dollars == Decimal(100)
