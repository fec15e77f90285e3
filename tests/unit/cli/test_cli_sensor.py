"""``tocsin sensor``: list, preview (stores nothing), start/stop, cursor, ticks."""

from __future__ import annotations

import json


def test_list_shows_status_and_jobs_as_table_and_json(invoke, defs_file):
    result = invoke("sensor", "list", "-f", defs_file)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split() == ["NAME", "STATUS", "CURSOR", "JOBS"]
    assert "watch" in result.output and "RUNNING" in result.output
    data = json.loads(invoke("sensor", "list", "-f", defs_file, "--json").output)
    assert data == [{"name": "watch", "status": "RUNNING", "cursor": None, "jobs": "compute"}]


def test_preview_evaluates_once_and_stores_nothing(invoke, defs_file, instance):
    result = invoke("sensor", "preview", "watch", "-f", defs_file)
    assert result.exit_code == 0, result.output
    assert "RunRequest run_key='k1' job=compute" in result.output
    assert "New cursor: 'seen'" in result.output
    assert instance.get_runs() == []
    assert instance.ticks.get_ticks("defs:sensor:watch") == []
    assert instance.ticks.get_instigator_state("defs:sensor:watch") is None


def test_preview_with_a_cursor(invoke, defs_file):
    result = invoke("sensor", "preview", "watch", "--cursor", "stop", "-f", defs_file, "--json")
    assert json.loads(result.output)["skip_message"] == "told to stop"


def test_preview_starts_from_the_stored_cursor(invoke, defs_file, instance):
    assert invoke("sensor", "cursor", "watch", "--set", "stop", "-f", defs_file).exit_code == 0
    result = invoke("sensor", "preview", "watch", "-f", defs_file, "--json")
    assert json.loads(result.output)["skip_message"] == "told to stop"
    assert instance.ticks.get_instigator_state("defs:sensor:watch").cursor == "stop"


def test_stop_then_start_is_remembered(invoke, defs_file):
    assert "is now STOPPED" in invoke("sensor", "stop", "watch", "-f", defs_file).output
    listed = json.loads(invoke("sensor", "list", "-f", defs_file, "--json").output)
    assert listed[0]["status"] == "STOPPED"
    assert "is now RUNNING" in invoke("sensor", "start", "watch", "-f", defs_file).output
    listed = json.loads(invoke("sensor", "list", "-f", defs_file, "--json").output)
    assert listed[0]["status"] == "RUNNING"


def test_cursor_set_show_delete(invoke, defs_file, instance):
    assert invoke("sensor", "cursor", "watch", "--set", "42", "-f", defs_file).exit_code == 0
    assert instance.ticks.get_instigator_state("defs:sensor:watch").cursor == "42"
    assert invoke("sensor", "cursor", "watch", "-f", defs_file).output.strip() == "'42'"
    assert invoke("sensor", "cursor", "watch", "--delete", "-f", defs_file).exit_code == 0
    assert instance.ticks.get_instigator_state("defs:sensor:watch").cursor is None


def test_cursor_set_and_delete_together_is_a_usage_error(invoke, defs_file):
    result = invoke("sensor", "cursor", "watch", "--set", "1", "--delete", "-f", defs_file)
    assert result.exit_code == 2
    assert "either --set CURSOR or --delete" in result.output


def test_ticks_lists_what_the_daemon_recorded(invoke, defs_file, instance):
    from datetime import UTC, datetime

    from tocsin.model.ticks import InstigatorType, Tick, TickStatus

    instance.ticks.create_tick(
        Tick(
            instigator_origin_id="defs:sensor:watch",
            instigator_name="watch",
            instigator_type=InstigatorType.SENSOR,
            timestamp=datetime(2024, 1, 1, tzinfo=UTC),
            status=TickStatus.SKIPPED,
            skip_reason="nothing new",
        )
    )
    result = invoke("sensor", "ticks", "watch", "-f", defs_file)
    assert "SKIPPED" in result.output and "nothing new" in result.output
    data = json.loads(
        invoke("sensor", "ticks", "watch", "--limit", "1", "-f", defs_file, "--json").output
    )
    assert len(data) == 1


def test_ticks_limit_must_be_positive(invoke, defs_file):
    result = invoke("sensor", "ticks", "watch", "--limit", "0", "-f", defs_file)
    assert result.exit_code == 2


def test_unknown_sensor_suggests(invoke, defs_file):
    result = invoke("sensor", "start", "wach", "-f", defs_file)
    assert result.exit_code == 1
    assert "Did you mean 'watch'?" in result.output


def test_bad_file_path_is_a_usage_error(invoke, tmp_path):
    result = invoke("sensor", "list", "-f", str(tmp_path / "nope.py"))
    assert result.exit_code == 2
    assert "nope.py: no such file" in result.output


MORE_SENSORS = """
from tocsin import AssetKey, Definitions, RunRequest, asset_sensor, job, op, run_failure_sensor


@op
def noop():
    pass


@job
def j():
    noop()


@asset_sensor(asset_key=AssetKey("a"), job=j)
def on_a(context, event):
    return RunRequest(run_key=str(event.storage_id))


@run_failure_sensor
def on_failure(context):
    pass


defs = Definitions(jobs=[j], sensors=[on_a, on_failure])
"""


def test_a_malformed_cursor_is_refused_and_nothing_is_stored(invoke, tmp_path, instance):
    path = tmp_path / "more.py"
    path.write_text(MORE_SENSORS)
    refused = invoke("sensor", "cursor", "on_a", "--set", "abc", "-f", str(path))
    assert refused.exit_code == 2
    assert "asset sensor" in refused.output and "'abc'" in refused.output
    refused = invoke("sensor", "cursor", "on_failure", "--set", "{oops", "-f", str(path))
    assert refused.exit_code == 2
    assert "JSON object" in refused.output
    refused = invoke("sensor", "preview", "on_failure", "--cursor", "[]", "-f", str(path))
    assert refused.exit_code == 2
    assert instance.ticks.get_instigator_state("more:sensor:on_a") is None
    assert invoke("sensor", "cursor", "on_a", "--set", "12", "-f", str(path)).exit_code == 0
