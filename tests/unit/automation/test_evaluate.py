from __future__ import annotations

import pytest

from tocsin import (
    AddDynamicPartitionsRequest,
    DagsterInvariantViolationError,
    DagsterUnknownPartitionError,
    DeleteDynamicPartitionsRequest,
    RunRequest,
    SensorResult,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
    schedule,
    sensor,
)
from tocsin.automation.evaluate import evaluate_schedule, evaluate_sensor
from tocsin.errors import CheckError, ScheduleExecutionError, SensorExecutionError

EMPTY = "Sensor function returned an empty result"
RR = RunRequest


def _gen(*items, ret=None):
    def fn():
        yield from items
        return ret

    return fn


def _gen_only_return(value):
    def fn():
        if False:
            yield
        return value

    return fn


# (user function, expected number of requests, expected skip message)
ACCEPTED = {
    "none": (lambda: None, 0, EMPTY),
    "empty_list": (lambda: [], 0, EMPTY),
    "list_of_none": (lambda: [None], 0, EMPTY),
    "empty_generator": (_gen(), 0, EMPTY),
    "skip_without_message": (lambda: SkipReason(), 0, None),
    "skip_with_message": (lambda: SkipReason("x"), 0, "x"),
    "one_run_request": (lambda: RR("a"), 1, None),
    "list_of_run_requests": (lambda: [RR("a"), RR("a")], 2, None),
    "generator_of_run_requests": (_gen(RR("a"), RR("b")), 2, None),
    "empty_sensor_result": (lambda: SensorResult(), 0, EMPTY),
    "sensor_result_str_skip": (lambda: SensorResult(skip_reason="x"), 0, "x"),
    "sensor_result_skip_reason": (lambda: SensorResult(skip_reason=SkipReason("x")), 0, "x"),
    "sensor_result_requests": (lambda: SensorResult(run_requests=[RR("a")]), 1, None),
    "single_element_list_sensor_result": (lambda: [SensorResult(skip_reason="x")], 0, "x"),
    "generator_returning_skip": (_gen_only_return(SkipReason("x")), 0, "x"),
    "generator_returning_request": (_gen_only_return(RR()), 1, None),
    "yield_and_return_request": (_gen(RR("a"), ret=RR("b")), 2, None),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_sensor_result_normalization(case):
    fn, count, skip = ACCEPTED[case]
    result = sensor(job_name="j", name="s")(fn).evaluate_tick(build_sensor_context())
    assert len(result.run_requests) == count
    assert result.skip_message == skip


def test_sensor_result_carries_its_cursor():
    s = sensor(job_name="j", name="s")(lambda: SensorResult(run_requests=[RR("a")], cursor="c"))
    assert s.evaluate_tick(build_sensor_context()).cursor == "c"


def test_duplicate_run_keys_are_not_rejected_at_evaluation():
    s = sensor(job_name="j", name="s")(lambda: [RR("same"), RR("same")])
    assert [r.run_key for r in s.evaluate_tick(build_sensor_context()).run_requests] == [
        "same",
        "same",
    ]


REJECTED = {
    "sensor_result_and_request": (
        lambda: [SensorResult(), RR()],
        CheckError,
        "When a SensorResult is returned from a sensor, it must be the only object returned.",
    ),
    "sensor_result_in_generator": (
        _gen(SensorResult(), RR()),
        CheckError,
        "When a SensorResult is returned from a sensor, it must be the only object returned.",
    ),
    "request_and_skip_list": (
        lambda: [SkipReason("a"), RR()],
        CheckError,
        "Expected a single SkipReason or one or more RunRequests: received both RunRequest "
        "and SkipReason",
    ),
    "yield_request_return_skip": (
        _gen(RR(), ret=SkipReason("x")),
        CheckError,
        "Expected a single SkipReason or one or more RunRequests: received both RunRequest "
        "and SkipReason",
    ),
    "two_skips": (
        lambda: [SkipReason("a"), SkipReason("b")],
        CheckError,
        "Expected a single SkipReason: received multiple SkipReasons",
    ),
    "scalar_dict": (
        lambda: {"a": 1},
        Exception,
        "Error in sensor s: Sensor unexpectedly returned output {'a': 1} of type <class 'dict'>."
        "  Should only return SkipReason or RunRequest objects.",
    ),
    "scalar_str": (lambda: "oops", Exception, "Sensor unexpectedly returned output oops"),
    "list_with_wrong_type": (lambda: [RR(), "x"], CheckError, "Member of list mismatches type"),
    "yielded_int": (
        _gen(5),
        CheckError,
        "Object 5 is not one of ['DagsterRunReaction', 'RunRequest', 'SensorResult', 'SkipReason']",
    ),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_sensor_result_rejections(case):
    fn, error, message = REJECTED[case]
    s = sensor(job_name="j", name="s")(fn)
    with pytest.raises(error) as info:
        s.evaluate_tick(build_sensor_context())
    assert message in str(info.value)


def test_cursor_update_and_sensor_result_cursor_conflict():
    @sensor(job_name="j")
    def both(context):
        context.update_cursor("a")
        return SensorResult(cursor="b")

    with pytest.raises(
        DagsterInvariantViolationError,
        match=r"SensorResult.cursor cannot be set if context.update_cursor\(\) was called.",
    ):
        both.evaluate_tick(build_sensor_context())


def test_cursor_update_with_sensor_result_without_cursor():
    @sensor(job_name="j")
    def updates(context):
        context.update_cursor("a")
        return SensorResult(run_requests=[RR("x")])

    assert updates.evaluate_tick(build_sensor_context()).cursor == "a"


def test_untouched_cursor_is_the_context_cursor():
    s = sensor(job_name="j", name="s")(lambda: None)
    assert s.evaluate_tick(build_sensor_context(cursor="old")).cursor == "old"


def test_user_exception_propagates_unchanged_from_evaluate_tick():
    def fn():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        sensor(job_name="j", name="s")(fn).evaluate_tick(build_sensor_context())


def test_daemon_mode_wraps_the_user_error_and_keeps_the_cursor():
    @sensor(job_name="j")
    def fails(context):
        context.update_cursor("advanced")
        yield RR("before-error")
        raise ValueError("boom")

    result = evaluate_sensor(fails, build_sensor_context(cursor="c0"), wrap_errors=True)
    assert result.run_requests == () and result.cursor == "c0"
    assert result.error.message.startswith(
        "SensorExecutionError: Error occurred during the execution of "
        "evaluation_fn for sensor fails"
    )
    assert result.error.cause.cls_name == "ValueError"
    assert isinstance(result.exception, SensorExecutionError)
    assert isinstance(result.exception.__cause__, ValueError)


def test_daemon_mode_wraps_result_errors_too():
    s = sensor(job_name="j", name="s")(lambda: [RR("m"), SkipReason("x")])
    result = evaluate_sensor(s, build_sensor_context(), wrap_errors=True)
    assert result.error is not None and result.error.cause.cls_name == "CheckError"
    assert "received both RunRequest and SkipReason" in result.error.cause.message


def test_log_lines_are_captured():
    @sensor(job_name="j")
    def logs(context):
        context.log.info("Logging from a sensor!")
        return SkipReason("Nothing to do")

    result = logs.evaluate_tick(build_sensor_context())
    assert [(line.level, line.message) for line in result.log_lines] == [
        ("INFO", "Logging from a sensor!")
    ]
    assert result.log_lines[0].to_dict()["message"] == "Logging from a sensor!"


def test_sensor_name_tag_is_added_and_sensor_tags_are_not_merged():
    s = sensor(job_name="j", name="s", tags={"owner": "me"})(lambda: RR("a", tags={"t": "1"}))
    (request,) = s.evaluate_tick(build_sensor_context()).run_requests
    assert request.tags == {"t": "1", "dagster/sensor_name": "s"}


def test_request_without_target():
    s = sensor(name="s")(lambda: RR())
    with pytest.raises(Exception, match="lacking a specified target") as info:
        s.evaluate_tick(build_sensor_context())
    assert str(info.value).startswith("Error in sensor s: Sensor evaluation function returned")


def test_request_without_job_name_for_several_jobs(two_jobs):
    s = sensor(jobs=two_jobs, name="s")(lambda: RR())
    with pytest.raises(Exception) as info:
        s.evaluate_tick(build_sensor_context())
    assert str(info.value) == (
        "Error in sensor s: Sensor returned a RunRequest that did not specify job_name for the "
        "requested run. Expected one of: ['j', 'j2']"
    )


def test_request_with_an_unknown_job_name(two_jobs):
    s = sensor(job=two_jobs[0], name="s")(lambda: RR(job_name="zzz"))
    with pytest.raises(Exception) as info:
        s.evaluate_tick(build_sensor_context())
    assert str(info.value) == (
        "Error in sensor s: Sensor returned a RunRequest with job_name zzz. Expected one of: ['j']"
    )


def test_request_naming_one_of_several_jobs(two_jobs):
    s = sensor(jobs=two_jobs, name="s")(lambda: RR(job_name="j2"))
    assert s.evaluate_tick(build_sensor_context()).run_requests[0].job_name == "j2"


def test_partitioned_request_needs_definitions():
    s = sensor(job_name="pj", name="s")(lambda: RR(partition_key="a"))
    with pytest.raises(
        DagsterInvariantViolationError, match="Must provide repository def to build_sensor_context"
    ):
        s.evaluate_tick(build_sensor_context())


def test_partitioned_request_is_validated_and_tagged(fake_defs):
    s = sensor(job_name="pj", name="s")(lambda: RR("k", partition_key="a"))
    (request,) = s.evaluate_tick(build_sensor_context(definitions=fake_defs)).run_requests
    assert request.tags == {"dagster/partition": "a", "dagster/sensor_name": "s"}


def test_unknown_partition(fake_defs):
    s = sensor(job_name="pj", name="s")(lambda: RR(partition_key="nope"))
    with pytest.raises(DagsterUnknownPartitionError, match="Could not find a partition"):
        s.evaluate_tick(build_sensor_context(repository_def=fake_defs))


def test_partition_on_an_unpartitioned_job(fake_defs):
    s = sensor(job_name="plain", name="s")(lambda: RR(partition_key="a"))
    with pytest.raises(DagsterUnknownPartitionError, match="is not partitioned"):
        s.evaluate_tick(build_sensor_context(repository_def=fake_defs))


def test_partition_added_in_the_same_tick_is_known(fake_defs):
    s = sensor(job_name="pj", name="s")(
        lambda: SensorResult(
            run_requests=[RR(partition_key="new")],
            dynamic_partitions_requests=[AddDynamicPartitionsRequest("p", ["new"])],
        )
    )
    result = s.evaluate_tick(build_sensor_context(definitions=fake_defs))
    assert result.run_requests[0].partition_key == "new"
    assert len(result.dynamic_partitions_requests) == 1


def test_adding_and_deleting_the_same_key_is_rejected():
    s = sensor(job_name="j", name="s")(
        lambda: SensorResult(
            dynamic_partitions_requests=[
                AddDynamicPartitionsRequest("p", ["k"]),
                DeleteDynamicPartitionsRequest("p", ["k"]),
            ]
        )
    )
    with pytest.raises(DagsterInvariantViolationError, match="both add and delete"):
        s.evaluate_tick(build_sensor_context())


def test_evaluate_sensor_checks_the_context_type():
    s = sensor(job_name="j", name="s")(lambda: None)
    with pytest.raises(CheckError, match="is not a SensorEvaluationContext"):
        evaluate_sensor(s, "ctx")


def test_evaluate_schedule_daemon_mode_returns_the_error():
    @schedule(cron_schedule="0 * * * *", job_name="j")
    def fails():
        raise ValueError("boom")

    result = evaluate_schedule(fails, build_schedule_context(), wrap_errors=True)
    assert result.error.message.startswith(
        "ScheduleExecutionError: Error occurred during the evaluation of schedule fails"
    )
    assert isinstance(result.exception, ScheduleExecutionError)
    with pytest.raises(CheckError, match="is not a ScheduleEvaluationContext"):
        evaluate_schedule(fails, build_sensor_context())


class _Partitions:
    def __init__(self, keys):
        self.keys = keys

    def get_partition_keys(self, current_time=None, dynamic_partitions_store=None):
        extra = (
            dynamic_partitions_store.get_dynamic_partitions("p") if dynamic_partitions_store else []
        )
        return [*self.keys, *extra]


class _Job:
    def __init__(self, name, partitions_def=None):
        self.name = name
        self.partitions_def = partitions_def


class _Defs:
    def __init__(self, *jobs):
        self.jobs = {job.name: job for job in jobs}

    def get_job_def(self, name):
        return self.jobs[name]


@pytest.fixture
def fake_defs():
    return _Defs(_Job("pj", _Partitions(["a", "b"])), _Job("plain"))


@pytest.fixture
def two_jobs():
    return [_JobLike("j"), _JobLike("j2")]


class JobDefinition:
    """Stands in for a job: targets are recognised by class name, like unresolved asset jobs."""


class _JobLike(JobDefinition):
    def __init__(self, name):
        self.name = name
        self.partitions_def = None
