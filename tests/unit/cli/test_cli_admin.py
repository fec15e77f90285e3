"""``tocsin asset``, ``tocsin daemon status``, ``tocsin instance info|migrate`` and --help."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.cli.main import _COMMANDS


def test_asset_materialize_list_and_wipe(invoke, defs_file, instance):
    result = invoke("asset", "materialize", "plain", "-f", defs_file)
    assert result.exit_code == 0, result.output
    assert "SUCCESS" in result.output
    listed = json.loads(invoke("asset", "list", "--json").output)
    assert [a["key"] for a in listed] == ["plain"] and listed[0]["run_id"]
    defined = invoke("asset", "list", "-f", defs_file).output
    assert "report" in defined and "never" in defined
    assert invoke("asset", "wipe", "plain", "--yes").exit_code == 0
    assert instance.get_latest_materialization_event(_key("plain")) is None


def _key(text):
    from tocsin.model.asset_key import AssetKey

    return AssetKey(text)


def test_asset_materialize_a_partition(invoke, defs_file):
    result = invoke("asset", "materialize", "report", "--partition", "2024-01-05", "-f", defs_file)
    assert result.exit_code == 0, result.output


def test_asset_unknown_keys(invoke, defs_file):
    result = invoke("asset", "materialize", "plian", "-f", defs_file)
    assert result.exit_code == 1 and "Did you mean 'plain'?" in result.output
    wipe = invoke("asset", "wipe", "plain", "--yes")
    assert wipe.exit_code == 1 and "No materialized asset named 'plain'" in wipe.output


def test_daemon_status_lists_heartbeats_and_leases(invoke, instance):
    from tocsin.storage.base import DaemonHeartbeat

    now = datetime.now(UTC)
    instance.add_daemon_heartbeat(DaemonHeartbeat(timestamp=now, daemon_type="SENSOR", errors=()))
    instance.leases.claim_lease("sensor-loop", "me", timedelta(minutes=1), now)
    result = invoke("daemon", "status")
    assert result.exit_code == 0, result.output
    assert "SENSOR" in result.output and "sensor-loop" in result.output and "held" in result.output
    data = json.loads(invoke("daemon", "status", "--json").output)
    assert data["heartbeats"][0]["daemon_type"] == "SENSOR"
    assert data["leases"][0]["owner"] == "me"


def test_daemon_status_without_a_daemon(invoke):
    assert "No daemon has run" in invoke("daemon", "status").output


def test_instance_info(invoke, home):
    result = invoke("instance", "info", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["home"] == str(home) and data["storage"] == "sqlite"
    assert data["schema_revision"]
    assert "storage: sqlite" in invoke("instance", "info").output


def test_instance_migrate_is_idempotent(invoke):
    first = invoke("instance", "migrate")
    assert first.exit_code == 0, first.output
    assert "already at" in invoke("instance", "migrate").output


def test_no_home_is_a_clear_error(monkeypatch):
    from click.testing import CliRunner

    from tocsin.cli.main import cli

    monkeypatch.delenv("TOCSIN_HOME", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    result = CliRunner().invoke(cli, ["run", "list"])
    assert result.exit_code == 1 and "TOCSIN_HOME" in result.output


@pytest.mark.parametrize("name", sorted(_COMMANDS))
def test_every_command_has_help(name):
    from click.testing import CliRunner

    from tocsin.cli.main import cli

    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    command = cli.get_command(None, name)  # type: ignore[arg-type]
    for sub in getattr(command, "commands", {}):
        sub_help = CliRunner().invoke(cli, [name, sub, "--help"])
        assert sub_help.exit_code == 0, sub_help.output


def test_commands_use_the_dev_home_in_this_directory_when_no_home_is_set(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from tocsin.cli.main import cli

    for name in ("TOCSIN_HOME", "DAGSTER_HOME"):
        monkeypatch.setenv(name, "unused")  # so the variable is restored (unset) afterwards
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    refused = runner.invoke(cli, ["run", "list"])
    assert refused.exit_code != 0
    assert "TOCSIN_HOME" in refused.output
    (tmp_path / ".tocsin").mkdir()
    result = runner.invoke(cli, ["run", "list", "--json"])
    assert result.exit_code == 0, result.output
