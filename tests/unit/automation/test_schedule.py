from __future__ import annotations

import datetime as dt

import pytest

from tocsin import (
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvariantViolationError,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    SensorResult,
    SkipReason,
    build_schedule_context,
    schedule,
)
from tocsin.errors import CheckError, ParameterCheckError, ScheduleExecutionError

UTC = dt.UTC
EMPTY = "Schedule function returned an empty result"


def ctx():
    return build_schedule_context(scheduled_execution_time=dt.datetime(2024, 1, 1, tzinfo=UTC))


def _sched(fn, **kwargs):
    return schedule(cron_schedule="0 * * * *", job_name="j", name="s", **kwargs)(fn)


# -- 2.5 definition and validation --------------------------------------------------------


def test_defaults():
    s = ScheduleDefinition(cron_schedule="0 * * * *", job_name="j")
    assert s.name == "j_schedule" and s.execution_timezone is None
    assert s.default_status is DefaultScheduleStatus.STOPPED
    assert s.targets() == ["j"] and s.tags == {} and s.metadata == {}
    assert s.environment_vars is None and s.description is None


def test_decorator_names_the_schedule_after_the_function():
    s = schedule(cron_schedule="0 * * * *", job_name="j")(lambda_free_fn)
    assert s.name == "lambda_free_fn" and s.cron_schedule == "0 * * * *"


def lambda_free_fn():
    return {}


@pytest.mark.parametrize(
    "cron",
    ["0 * * * * *", "@reboot", "H * * * *", "0 0 30 2 *", [], ["0 * * * *", "@reboot"]],
)
def test_invalid_cron(cron):
    with pytest.raises(DagsterInvalidDefinitionError) as info:
        ScheduleDefinition(cron_schedule=cron, job_name="j")
    assert str(info.value) == (
        f"Found invalid cron schedule '{cron}' for schedule 'None''. Dagster recognizes standard "
        "cron expressions consisting of 5 fields."
    )


def test_invalid_cron_names_the_schedule():
    with pytest.raises(DagsterInvalidDefinitionError, match="for schedule 'nightly''"):
        ScheduleDefinition(name="nightly", cron_schedule="61 2 * * *", job_name="j")


def test_list_of_crons_is_allowed():
    s = ScheduleDefinition(cron_schedule=["0 1 * * *", "30 2 * * *"], job_name="j")
    assert s.cron_schedule == ["0 1 * * *", "30 2 * * *"]


def test_cron_of_the_wrong_type():
    with pytest.raises(ParameterCheckError, match=r"Param \"cron_schedule\" is not one of"):
        ScheduleDefinition(cron_schedule=5, job_name="j")


def test_bad_timezone():
    with pytest.raises(DagsterInvalidDefinitionError) as info:
        ScheduleDefinition(
            name="s", cron_schedule="0 * * * *", job_name="j", execution_timezone="Mars/Base"
        )
    assert str(info.value) == "Invalid execution timezone Mars/Base for s"


def test_no_target():
    with pytest.raises(CheckError, match="Must provide target, job, or job_name"):
        ScheduleDefinition(cron_schedule="0 * * * *")


def test_more_than_one_target():
    with pytest.raises(DagsterInvalidDefinitionError, match="more than one of 'job', 'job_name'"):
        ScheduleDefinition(cron_schedule="0 * * * *", job_name="a", target="b")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"run_config": {"a": 1}, "run_config_fn": lambda c: {}}, "both run_config_fn and"),
        ({"tags": {"a": "1"}, "tags_fn": lambda c: {}}, "both tags_fn and tags"),
        ({"execution_fn": lambda c: {}, "should_execute": lambda c: True}, "both execution_fn"),
        ({"execution_fn": lambda c: {}, "run_config": {"a": 1}}, "both execution_fn"),
        ({"execution_fn": lambda c: {}, "tags_fn": lambda c: {}}, "both execution_fn"),
        ({"execution_fn": lambda c: {}, "run_config_fn": lambda c: {}}, "both execution_fn"),
    ],
)
def test_mutually_exclusive_arguments(kwargs, message):
    with pytest.raises(DagsterInvalidDefinitionError, match=message):
        ScheduleDefinition(cron_schedule="0 * * * *", job_name="j", **kwargs)


def test_exclusions_are_truthiness_based():
    s = ScheduleDefinition(
        cron_schedule="0 * * * *", job_name="j", run_config={}, run_config_fn=lambda c: {"a": 1}
    )
    assert s.evaluate_tick(ctx()).run_requests[0].run_config == {"a": 1}


def test_reserved_tag_prefix():
    with pytest.raises(DagsterInvalidDefinitionError) as info:
        ScheduleDefinition(cron_schedule="0 * * * *", job_name="j", tags={"dagster/foo": "x"})
    assert str(info.value) == "Attempted to set tag with reserved system prefix: dagster/foo"


def test_bare_decorator_is_not_supported():
    inner = schedule(lambda_free_fn)
    with pytest.raises(ParameterCheckError, match='Param "cron_schedule"'):
        inner(lambda_free_fn)


def test_tocsin_scheduling_options_are_stored():
    s = ScheduleDefinition(
        cron_schedule="0 * * * *",
        job_name="j",
        dst_policy="gap=skip,fold=both",
        catchup=True,
        max_catchup_runs=3,
        catchup_window=dt.timedelta(hours=2),
        overlap="skip",
        jitter=5,
        pause_after_failures=2,
    )
    assert str(s.dst_policy) == "gap=skip,fold=both" and s.catchup == "all"
    assert s.max_catchup_runs == 3 and s.catchup_window == dt.timedelta(hours=2)
    assert s.overlap == "skip" and s.jitter == 5 and s.pause_after_failures == 2


@pytest.mark.parametrize(
    ("given", "stored"),
    [(None, None), ("latest", "latest"), ("all", "all"), ("none", "none"), (False, "none")],
)
def test_catchup_takes_the_policy_names_and_the_old_booleans(given, stored):
    s = ScheduleDefinition(cron_schedule="0 * * * *", job_name="j", catchup=given)
    assert s.catchup == stored


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("catchup", "yes"),
        ("catchup", "ALL"),
        ("catchup_window", -60),
        ("jitter", dt.timedelta(seconds=-1)),
        ("max_catchup_runs", -1),
        ("catchup_window", "2h"),
        ("jitter", "5s"),
        ("pause_after_failures", 1.5),
        ("dst_policy", "gap=never"),
        ("overlap", "SKIP"),
        ("overlap", ["skip"]),
    ],
)
def test_bad_scheduling_options(option, value):
    with pytest.raises(DagsterInvalidDefinitionError, match=option):
        ScheduleDefinition(cron_schedule="0 * * * *", job_name="j", **{option: value})


def test_tick_times_come_from_the_cron_engine():
    s = ScheduleDefinition(
        cron_schedule="30 2 * * *", job_name="j", execution_timezone="America/New_York"
    )
    after = dt.datetime(2024, 3, 9, 12, 0, tzinfo=UTC)
    first = s.next_tick_after(after)
    assert first.astimezone(UTC) == dt.datetime(2024, 3, 10, 7, 0, tzinfo=UTC)
    ticks = s.iter_ticks(after)
    assert [next(ticks).astimezone(UTC).hour for _ in range(2)] == [7, 6]


# -- 2.6 what schedule functions may return ------------------------------------------------


RETURNS = {
    "none": (lambda: None, 0, EMPTY),
    "empty_list": (lambda: [], 0, EMPTY),
    "skip": (lambda: SkipReason("x"), 0, "x"),
    "run_request": (lambda: RunRequest(), 1, None),
    "dict": (lambda: {"a": 1}, 1, None),
    "list_with_run_keys": (lambda: [RunRequest("a"), RunRequest("b")], 2, None),
    "generator_with_run_keys": (lambda: (r for r in [RunRequest("a"), RunRequest("b")]), 2, None),
}


@pytest.mark.parametrize("case", sorted(RETURNS))
def test_evaluate_tick_accepts(case):
    fn, count, skip = RETURNS[case]
    result = _sched(fn).evaluate_tick(ctx())
    assert len(result.run_requests) == count and result.skip_message == skip
    assert all(r.tags["dagster/schedule_name"] == "s" for r in result.run_requests)


REJECTS = {
    "two_without_run_key": (
        lambda: [RunRequest(), RunRequest()],
        "Invariant failed. Description: Schedules that return multiple RunRequests must specify "
        "a run_key in each RunRequest",
    ),
    "request_and_skip": (
        lambda: [RunRequest("a"), SkipReason()],
        "Member of list mismatches type. Expected <class 'tocsin.automation.results.RunRequest'>",
    ),
    "str": (lambda: "x", "Object 'x' is not one of ['RunRequest', 'SkipReason']"),
    "sensor_result": (lambda: SensorResult(), "is not one of ['RunRequest', 'SkipReason']"),
}


@pytest.mark.parametrize("case", sorted(REJECTS))
def test_evaluate_tick_rejects(case):
    fn, message = REJECTS[case]
    with pytest.raises(CheckError) as info:
        _sched(fn).evaluate_tick(ctx())
    assert message in str(info.value)


@pytest.mark.parametrize("case", sorted(REJECTS))
def test_direct_call_returns_invalid_results_as_is(case):
    fn, _ = REJECTS[case]
    result = _sched(fn)(ctx())
    assert type(result) is type(fn())


@pytest.mark.parametrize("case", ["none", "empty_list", "skip", "run_request"])
def test_direct_call_returns_the_raw_value(case):
    fn, _, _ = RETURNS[case]
    assert _sched(fn)(ctx()) == fn()


def test_direct_call_returns_a_deep_copy_of_a_dict():
    config = {"ops": {"a": {"config": {"x": 1}}}}
    s = _sched(lambda: config)
    result = s(ctx())
    assert result == config and result is not config
    assert result["ops"] is not config["ops"]


def test_dict_becomes_a_request_with_decorator_tags():
    s = _sched(lambda: {"a": 1}, tags={"t": "1"})
    (request,) = s.evaluate_tick(ctx()).run_requests
    assert request.run_key is None and request.run_config == {"a": 1}
    assert request.tags == {"t": "1", "dagster/schedule_name": "s"}


def test_returned_request_does_not_get_decorator_tags():
    s = _sched(lambda: RunRequest(tags={"u": "2"}), tags={"t": "1"})
    assert s.evaluate_tick(ctx()).run_requests[0].tags == {"u": "2", "dagster/schedule_name": "s"}


def test_tags_fn_tags_a_dict_result():
    s = _sched(lambda: {}, tags_fn=lambda c: {"a": 1})
    assert s.evaluate_tick(ctx()).run_requests[0].tags == {"a": "1", "dagster/schedule_name": "s"}


def test_should_execute_false_skips():
    s = _sched(lambda: {}, should_execute=lambda c: False)
    assert s.evaluate_tick(ctx()).skip_message == "should_execute function for s returned false."
    assert s(ctx()) == {}


def test_user_exception_is_wrapped_by_evaluate_tick_only():
    def fn():
        raise ValueError("boom")

    s = _sched(fn)
    with pytest.raises(ScheduleExecutionError) as info:
        s.evaluate_tick(ctx())
    assert str(info.value) == "Error occurred during the evaluation of schedule s"
    assert isinstance(info.value.__cause__, ValueError)
    with pytest.raises(ValueError, match="boom"):
        s(ctx())


def test_plain_definition_with_execution_fn_rejects_dicts():
    s = ScheduleDefinition(cron_schedule="0 * * * *", job_name="j", execution_fn=lambda c: {"a": 1})
    with pytest.raises(CheckError, match=r"Object \{'a': 1\} is not one of"):
        s.evaluate_tick(ctx())


def test_plain_definition_requests_one_run_with_config_and_tags():
    s = ScheduleDefinition(
        cron_schedule="0 * * * *", job_name="j", run_config={"a": 1}, tags={"x": "y"}
    )
    (request,) = s.evaluate_tick(ctx()).run_requests
    assert request.run_config == {"a": 1}
    assert request.tags == {"x": "y", "dagster/schedule_name": "j_schedule"}


def test_plain_definition_should_execute():
    s = ScheduleDefinition(cron_schedule="0 * * * *", job_name="j", should_execute=lambda c: False)
    assert s.evaluate_tick(ctx()).skip_message.startswith("should_execute function for j_sch")


def test_plain_definition_cannot_be_invoked():
    with pytest.raises(DagsterInvalidInvocationError) as info:
        ScheduleDefinition(cron_schedule="0 * * * *", job_name="j")(ctx())
    assert str(info.value) == (
        "Schedule invocation is only supported for schedules created via the schedule decorators."
    )


def test_partitioned_request_needs_definitions():
    s = _sched(lambda: RunRequest(partition_key="x"))
    with pytest.raises(DagsterInvariantViolationError, match="no repository_def was provided"):
        s.evaluate_tick(ctx())


def test_log_lines_are_captured():
    def fn(context):
        context.log.info("hi")
        return [RunRequest("a"), RunRequest("b")]

    result = _sched(fn).evaluate_tick(ctx())
    assert [line.message for line in result.log_lines] == ["hi"]


# -- direct invocation --------------------------------------------------------------------


@schedule(cron_schedule="0 * * * *", job_name="j")
def needs_context(context):
    return {"t": context.scheduled_execution_time.isoformat()}


def test_missing_context():
    with pytest.raises(DagsterInvalidInvocationError) as info:
        needs_context()
    assert str(info.value) == (
        "Schedule evaluation function expected context argument, but no context argument was "
        "provided when invoking."
    )


def test_wrong_keyword():
    with pytest.raises(DagsterInvalidInvocationError) as info:
        needs_context(x=ctx())
    assert str(info.value) == "Schedule invocation expected argument 'context'."


def test_two_contexts():
    with pytest.raises(DagsterInvalidInvocationError, match="multiple non-resource arguments"):
        needs_context(ctx(), ctx())


def test_non_context_positional():
    with pytest.raises(CheckError, match="Object 'x' is not a ScheduleEvaluationContext"):
        needs_context("x")


def test_context_by_keyword():
    assert needs_context(context=ctx()) == {"t": "2024-01-01T00:00:00+00:00"}


def test_missing_resource():
    @schedule(cron_schedule="0 * * * *", job_name="j", required_resource_keys={"my_resource"})
    def uses(context):
        return {}

    with pytest.raises(DagsterInvalidDefinitionError) as info:
        uses(ctx())
    assert str(info.value) == (
        "Resource with key 'my_resource' required by schedule 'uses' was not provided."
    )
