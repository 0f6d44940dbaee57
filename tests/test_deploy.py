"""Deployment as code: the compose file and the example Prometheus rules are valid and sound."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
RULES = ROOT / "deploy" / "prometheus-rules.yml"
REPLICAS = ("bot-1", "bot-2")
#: Names whose values are secrets: they may only come from a variable or the .env file.
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|API_KEY|CLIENT_ID", re.IGNORECASE)
VARIABLE = re.compile(r"\$\{[A-Z_][A-Z0-9_]*(?::?[-?][^}]*)?\}")


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def compose_unavailable() -> str | None:
    if shutil.which("docker") is None:
        return "docker is not installed"
    probe = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, timeout=60
    )
    if probe.returncode != 0:
        said = (probe.stderr or probe.stdout).strip().splitlines()
        return (
            "docker is installed but its compose plugin is not "
            f"(`docker compose` -> {said[0] if said else 'exit ' + str(probe.returncode)})"
        )
    return None


def test_docker_compose_config_validates_the_compose_file() -> None:
    reason = compose_unavailable()
    if reason is not None:
        pytest.skip(reason)
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "POSTGRES_PASSWORD": "only-for-config"},
    )
    assert result.returncode == 0, result.stderr


def test_compose_runs_postgres_a_one_shot_migration_and_two_http_replicas() -> None:
    found = services()
    assert set(found) == {"db", "migrate", *REPLICAS}
    assert found["db"]["image"].startswith("postgres:")
    assert found["migrate"]["command"] == ["stackspend", "db", "upgrade"]
    assert found["migrate"]["restart"] == "no"
    for name in REPLICAS:
        assert found[name]["command"][:3] == ["stackspend", "serve", "--http"]
        assert "ports" not in found[name]  # behind the compose network


def test_health_checks_and_start_order_are_wired() -> None:
    found = services()
    assert "pg_isready" in " ".join(found["db"]["healthcheck"]["test"])
    assert found["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in REPLICAS:
        assert "/readyz" in " ".join(found[name]["healthcheck"]["test"])
        assert found[name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_no_secret_value_is_written_in_the_compose_file() -> None:
    for name, service in services().items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key):
                assert VARIABLE.fullmatch(value), f"{name}: {key} is inlined"
            if "://" in value and "@" in value:  # a URL with credentials
                credentials = value.split("://", 1)[1].rsplit("@", 1)[0]
                password = credentials.split(":", 1)[1] if ":" in credentials else ""
                assert VARIABLE.fullmatch(password), f"{name}: {key} has an inlined password"
        if name != "db":
            assert [e["path"] for e in service["env_file"]] == [".env"]
    text = COMPOSE.read_text()
    assert not re.search(r"xox[a-z]-|xapp-|crsr_", text)


def test_the_example_alert_rules_are_valid_and_use_the_metrics_the_bot_exports() -> None:
    rules = yaml.safe_load(RULES.read_text())
    (group,) = rules["groups"]
    alerts = {rule["alert"]: rule for rule in group["rules"]}
    assert set(alerts) == {
        "StackSpendSyncFailing",
        "StackSpendHistoryAtRisk",
        "StackSpendCursorRateLimited",
    }
    for rule in alerts.values():
        assert rule["expr"].strip() and rule["labels"]["severity"]
        assert rule["annotations"]["summary"]
        assert re.fullmatch(r"\d+[smhd]", rule["for"])
    assert 'outcome="failed"' in alerts["StackSpendSyncFailing"]["expr"]
    assert 'status="429"' in alerts["StackSpendCursorRateLimited"]["expr"]
    exported = set(re.findall(r"stackspend_[a-z_]+", (ROOT / "README.md").read_text()))
    used = set(re.findall(r"stackspend_[a-z_]+", RULES.read_text()))
    assert used <= exported, used - exported
