"""Billing groups: the simulator's routes (reference 6.9) and the connector that reads them."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import httpx
import pytest

from connectors.cursor.client import ClientOptions, CursorAdminClient
from connectors.cursor.endpoints import GROUPS
from connectors.cursor.group_source import read_cycle_groups
from connectors.cursor.group_wire import to_instant
from connectors.cursor.sim_team import DEMO_API_KEY, SimulatorConfig
from connectors.cursor.simulator import CursorSimulator
from connectors.errors import MalformedResponseError, PlanError

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def simulator(**config: object) -> CursorSimulator:
    settings: dict[str, object] = {"users": 10, "days": 40, "groups": 3, "seed": 3, **config}
    return CursorSimulator(SimulatorConfig(**settings), clock=lambda: NOW)  # type: ignore[arg-type]


def http(sim: CursorSimulator, key: str = DEMO_API_KEY) -> httpx.Client:
    return httpx.Client(transport=sim.transport(), base_url="http://cursor.test", auth=(key, ""))


def client(sim: CursorSimulator, **options: object) -> CursorAdminClient:
    settings = ClientOptions(base_url="http://cursor.test", **options)  # type: ignore[arg-type]
    return CursorAdminClient(DEMO_API_KEY, settings, transport=sim.transport())


def test_the_list_has_the_documented_shape_and_picks_the_cycle_of_a_date() -> None:
    sim = simulator()
    body = http(sim).get(GROUPS, params={"billingCycle": "2026-10-05"}).json()

    assert body["billingCycle"] == {
        "cycleStart": "2026-10-01T00:00:00.000Z",
        "cycleEnd": "2026-11-01T00:00:00.000Z",
    }
    assert body["unassignedGroup"]["id"] == "group_unassigned"
    group = body["groups"][0]
    assert set(group) >= {"id", "name", "type", "directoryGroupId", "memberCount", "createdAt"}
    assert group["type"] == "BILLING" and group["id"].startswith("group_")
    member = group["currentMembers"][0]
    assert set(member) == {"userId", "name", "email", "joinedAt", "leftAt", "spendCents"}
    assert math.isclose(group["spendCents"], sum(m["spendCents"] for m in group["currentMembers"]))
    assert http(sim).get(GROUPS).json()["billingCycle"]["cycleStart"].startswith("2026-11-01")


def test_groups_and_unassigned_add_up_to_everyones_spend_in_the_cycle() -> None:
    sim = simulator()
    body = http(sim).get(GROUPS).json()
    spend = http(sim).post("/teams/spend", json={"pageSize": 100}).json()
    groups = sum(g["spendCents"] for g in body["groups"]) + body["unassignedGroup"]["spendCents"]
    assert math.isclose(groups, sum(r["overallSpendCents"] for r in spend["teamMemberSpend"]))


def test_the_detail_gives_each_current_member_their_daily_spend() -> None:
    sim = simulator()
    group_id = http(sim).get(GROUPS).json()["groups"][0]["id"]
    body = http(sim).get(f"{GROUPS}/{group_id}").json()
    member = body["group"]["currentMembers"][0]
    assert {"date", "spendCents"} == set(member["dailySpend"][0])
    assert math.isclose(member["spendCents"], sum(d["spendCents"] for d in member["dailySpend"]))
    assert http(sim).get(f"{GROUPS}/group_nope").status_code == 404


def test_writes_create_rename_add_remove_and_delete() -> None:
    sim = simulator()
    api = http(sim)
    created = api.post(GROUPS, json={"name": "Research"}).json()["group"]
    assert (created["memberCount"], created["members"]) == (0, [])
    assert api.post(GROUPS, json={"name": "Research", "type": "OTHER"}).status_code == 400
    renamed = api.patch(f"{GROUPS}/{created['id']}", json={"name": "R&D"}).json()["group"]
    assert renamed["name"] == "R&D"
    both = api.patch(f"{GROUPS}/{created['id']}", json={"name": "x", "directoryGroupId": None})
    assert both.status_code == 400

    in_group = next(
        m for m in sim.team.members if sim.groups.current_of(m.index) and not m.is_removed
    )
    free = next(
        m for m in sim.team.members if sim.groups.current_of(m.index) is None and not m.is_removed
    )
    members = f"{GROUPS}/{created['id']}/members"
    taken = api.post(members, json={"userIds": [in_group.user_id]})
    assert taken.status_code == 400 and "another group" in taken.json()["message"]
    added = api.post(members, json={"userIds": [free.user_id]}).json()["group"]
    assert [m["email"] for m in added["members"]] == [free.email]
    removed = api.request("DELETE", members, json={"userIds": [free.user_id]}).json()["group"]
    assert removed["members"] == []
    unassigned = api.get(GROUPS).json()["unassignedGroup"]["currentMembers"]
    assert free.email in {m["email"] for m in unassigned}

    deleted = api.request("DELETE", f"{GROUPS}/{created['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert created["id"] not in {g["id"] for g in api.get(GROUPS).json()["groups"]}


def test_deleting_a_group_moves_its_usage_to_unassigned_in_every_cycle() -> None:
    sim = simulator()
    october = {"billingCycle": "2026-10-15"}
    before = http(sim).get(GROUPS, params=october).json()
    doomed = before["groups"][0]
    sim.delete_group(doomed["name"])
    after = http(sim).get(GROUPS, params=october).json()
    assert doomed["id"] not in {g["id"] for g in after["groups"]}
    assert math.isclose(
        after["unassignedGroup"]["spendCents"],
        before["unassignedGroup"]["spendCents"] + doomed["spendCents"],
    )


def test_a_move_leaves_a_former_member_with_left_at() -> None:
    sim = simulator()
    member = next(m for m in sim.team.members if sim.groups.current_of(m.index) is not None)
    old = sim.groups.get(sim.groups.current_of(member.index).group_id)  # type: ignore[union-attr]
    target = next(g for g in sim.groups.live() if g.id != old.id)
    sim.move_to_group(member.email, target.name)
    groups = {g["id"]: g for g in http(sim).get(GROUPS).json()["groups"]}
    former = {m["email"]: m for m in groups[old.id]["formerMembers"]}
    assert former[member.email]["leftAt"] == "2026-11-20T12:00:00.000Z"
    current = {m["email"] for m in groups[target.id]["currentMembers"]}
    assert member.email in current


def test_non_enterprise_teams_get_403_on_groups_only() -> None:
    sim = simulator()
    sim.add_key("crsr_team_plan", "non-enterprise")
    api = http(sim, "crsr_team_plan")
    refused = api.get(GROUPS)
    assert refused.status_code == 403
    assert refused.json() == {"error": "Forbidden", "message": "Enterprise access required"}
    assert api.get("/teams/members").status_code == 200
    with pytest.raises(PlanError):
        read_cycle_groups(
            CursorAdminClient(
                "crsr_team_plan", ClientOptions(base_url="http://x"), transport=sim.transport()
            ),
            date(2026, 11, 20),
        )


def test_a_bad_billing_cycle_is_a_400() -> None:
    response = http(simulator()).get(GROUPS, params={"billingCycle": "November"})
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.json()["message"]


def test_the_connector_reads_a_cycle_and_asks_for_details_only_when_needed() -> None:
    sim = simulator()
    cycle = read_cycle_groups(client(sim), date(2026, 11, 20))
    assert cycle.requests == 1
    assert cycle.cycle_start == datetime(2026, 11, 1, tzinfo=UTC)
    assert {g.name for g in cycle.groups} == {g.name for g in sim.groups.live()}
    assert all(s.email.endswith("@acme.test") for g in cycle.groups for s in g.stays)

    lean = simulator(group_list_members=False)
    detailed = read_cycle_groups(client(lean), date(2026, 11, 20))
    assert detailed.requests == 1 + len(lean.groups.live())
    assert [len(g.stays) for g in detailed.groups] == [len(g.stays) for g in cycle.groups]


def test_group_reads_are_paced_under_twenty_a_minute() -> None:
    sim = simulator(
        rate_limiting=True, minute_seconds=2.0, group_list_members=False, groups=12, users=60
    )
    paced = client(sim, window_seconds=2.0)
    made = read_cycle_groups(paced, date(2026, 11, 20)).requests
    made += read_cycle_groups(paced, date(2026, 10, 20)).requests
    statuses = [status for _, path, status in sim.calls if path.startswith(GROUPS)]
    assert len(statuses) == made > 20 and set(statuses) == {200}
    assert paced.stats.rate_limited == 0 and paced.stats.waited_for_pacing_seconds > 0


def test_instants_are_read_from_iso_strings_or_epoch_ms() -> None:
    assert to_instant("2026-11-01T00:00:00.000Z") == datetime(2026, 11, 1, tzinfo=UTC)
    assert to_instant("2026-11-01T01:00:00+01:00") == datetime(2026, 11, 1, tzinfo=UTC)
    assert to_instant(1_793_491_200_000) == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        to_instant("yesterday")


def test_a_group_list_that_is_not_the_documented_shape_is_refused() -> None:
    sim = simulator()

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"groups": [{"id": "group_x"}]})

    bad = CursorAdminClient(
        DEMO_API_KEY, ClientOptions(base_url="http://x"), transport=httpx.MockTransport(broken)
    )
    with pytest.raises(MalformedResponseError, match="groups"):
        read_cycle_groups(bad, date(2026, 11, 20))
    assert sim.calls == []
