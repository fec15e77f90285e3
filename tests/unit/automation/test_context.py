from __future__ import annotations

import datetime as dt

import pytest

from tocsin import (
    DagsterInvariantViolationError,
    DagsterUnknownResourceError,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    build_schedule_context,
    build_sensor_context,
    resource,
)
from tocsin.errors import CheckError, ParameterCheckError


class _Instance:
    is_ephemeral = True


class _PersistentInstance:
    is_ephemeral = False

    def get_ref(self):
        return "ref"


def test_sensor_context_defaults():
    context = build_sensor_context()
    assert isinstance(context, SensorEvaluationContext)
    assert context.cursor is None and context.last_tick_completion_time is None
    assert context.last_run_key is None and context.repository_name is None
    assert context.repository_def is None and context.sensor_name is None
    assert context.last_sensor_start_time is None and context.instance_ref is None
    assert context.is_first_tick_since_sensor_start is True


def test_sensor_context_values():
    context = build_sensor_context(
        cursor="c", repository_name="r", sensor_name="s", last_sensor_start_time=5.0
    )
    assert (context.cursor, context.repository_name, context.sensor_name) == ("c", "r", "s")
    assert context.last_sensor_start_time == 5.0


def test_first_tick_since_start():
    context = SensorEvaluationContext(last_tick_completion_time=10.0, last_sensor_start_time=20.0)
    assert context.is_first_tick_since_sensor_start is True
    later = SensorEvaluationContext(last_tick_completion_time=30.0, last_sensor_start_time=20.0)
    assert later.is_first_tick_since_sensor_start is False


def test_update_cursor_is_visible_at_once():
    context = build_sensor_context(cursor="a")
    context.update_cursor("b")
    assert context.cursor == "b" and context.cursor_updated
    context.update_cursor(None)
    assert context.cursor is None


def test_non_str_cursor():
    with pytest.raises(ParameterCheckError, match='Param "cursor" is not a str'):
        build_sensor_context(cursor=5)
    with pytest.raises(ParameterCheckError, match='Param "cursor" is not a str'):
        build_sensor_context().update_cursor(5)


def test_repository_def_and_definitions_exclude_each_other():
    with pytest.raises(CheckError) as info:
        build_sensor_context(repository_def=object(), definitions=object())
    assert "Exactly one of `definitions` or `repository_def` must be provided." in str(info.value)


def test_definitions_serve_as_repository_def():
    defs = object()
    assert build_sensor_context(definitions=defs).repository_def is defs


def test_sensor_context_without_instance():
    with pytest.raises(DagsterInvariantViolationError) as info:
        _ = build_sensor_context().instance
    assert str(info.value) == (
        "Attempted to initialize dagster instance, but no instance reference was provided."
    )


def test_sensor_context_keeps_an_ephemeral_instance():
    instance = _Instance()
    assert build_sensor_context(instance=instance).instance is instance


def test_log_works_without_instance():
    context = build_sensor_context()
    context.log.warning("careful")
    assert [(line.level, line.message) for line in context.log_lines] == [("WARNING", "careful")]


def test_resources_as_attributes():
    context = build_sensor_context(resources={"a": 1})
    assert context.resources.a == 1
    with pytest.raises(DagsterUnknownResourceError, match="Unknown resource `zz`"):
        _ = context.resources.zz


@resource
def generator_resource(_):
    yield "opened"


def test_generator_resource_needs_the_with_block():
    with pytest.raises(DagsterInvariantViolationError) as info:
        _ = build_sensor_context(resources={"r": generator_resource}).resources
    assert "`with build_sensor_context(...) as context:`" in str(info.value)


def test_generator_resource_inside_the_with_block():
    with build_sensor_context(resources={"r": generator_resource}) as context:
        assert context.resources.r == "opened"


def test_schedule_context_defaults():
    context = build_schedule_context()
    assert isinstance(context, ScheduleEvaluationContext)
    with pytest.raises(CheckError) as info:
        _ = context.scheduled_execution_time
    assert "Attempting to access scheduled_execution_time, but no scheduled_execution_time " in (
        str(info.value)
    )


@pytest.mark.parametrize(
    "when", [dt.datetime(2023, 1, 16, 8, 0), dt.datetime(2023, 1, 16, 8, 0, tzinfo=dt.UTC)]
)
def test_scheduled_execution_time_is_kept_as_given(when):
    assert build_schedule_context(scheduled_execution_time=when).scheduled_execution_time == when


def test_schedule_context_drops_an_ephemeral_instance():
    context = build_schedule_context(instance=_Instance())
    with pytest.raises(DagsterInvariantViolationError, match="no instance reference"):
        _ = context.instance


def test_schedule_context_keeps_a_persistent_instance():
    instance = _PersistentInstance()
    context = build_schedule_context(instance=instance)
    assert context.instance is instance and context.instance_ref == "ref"


def test_schedule_context_log_and_resources():
    with build_schedule_context(resources={"r": generator_resource}) as context:
        context.log.info("x")
        assert context.resources.r == "opened"
    assert context.log_lines[0].message == "x"


def test_bad_scheduled_time():
    with pytest.raises(CheckError, match="scheduled_execution_time"):
        build_schedule_context(scheduled_execution_time="2024-01-01")
