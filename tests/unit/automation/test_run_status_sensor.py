from __future__ import annotations

import json
import smtplib

import pytest

from tocsin.automation.context import build_sensor_context
from tocsin.automation.results import DagsterRunReaction, RunRequest, SensorResult, SkipReason
from tocsin.automation.run_status_sensor import (
    CodeLocationSelector,
    JobSelector,
    RepositorySelector,
    RunFailureSensorContext,
    RunStatusSensorContext,
    RunStatusSensorCursor,
    RunStatusSensorDefinition,
    build_run_status_sensor_context,
    make_email_on_run_failure_sensor,
    run_failure_sensor,
    run_status_sensor,
)
from tocsin.automation.sensor import DefaultSensorStatus
from tocsin.errors import (
    CheckError,
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvariantViolationError,
    ParameterCheckError,
)
from tocsin.model.events import (
    DagsterEvent,
    DagsterEventType,
    EventLogEntry,
    EventLogRecord,
    EventRecordsFilter,
    JobFailureData,
    StepFailureData,
)
from tocsin.model.run import DagsterRun, DagsterRunStatus, RunsFilter

SUCCESS, FAILURE = DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE


class FakeInstance:
    """The few instance methods run status sensors use, over an in-memory event log."""

    def __init__(self):
        self.records: list[EventLogRecord] = []
        self.runs: dict[str, DagsterRun] = {}
        self.queries: list[tuple[EventRecordsFilter, int | None, bool]] = []

    def finish(self, job_name: str, status: DagsterRunStatus, **run_kwargs) -> DagsterRun:
        run = DagsterRun(job_name=job_name, status=status, **run_kwargs)
        self.runs[run.run_id] = run
        kind = {SUCCESS: DagsterEventType.RUN_SUCCESS, FAILURE: DagsterEventType.RUN_FAILURE}
        data = JobFailureData(error=None) if status == FAILURE else None
        self.add(run, kind[status], f"Run {status.value.lower()}", data)
        return run

    def add(self, run, event_type, message="", data=None, step_key=None) -> None:
        event = DagsterEvent(event_type.value, run.job_name, step_key, message, data)
        entry = EventLogEntry(run.run_id, timestamp=1000.0 + len(self.records), dagster_event=event)
        storage_id = len(self.records) + 1
        self.records.append(EventLogRecord(storage_id, entry.with_storage_id(storage_id)))

    def get_event_records(self, records_filter, limit=None, ascending=False):
        self.queries.append((records_filter, limit, ascending))
        found = [
            r
            for r in self.records
            if r.event_log_entry.dagster_event.event_type_value == records_filter.event_type.value
            and (records_filter.after_cursor is None or r.storage_id > records_filter.after_cursor)
        ]
        found.sort(key=lambda r: r.storage_id, reverse=not ascending)
        return found[:limit] if limit is not None else found

    def get_runs(self, filters=None, limit=None, cursor=None):
        assert isinstance(filters, RunsFilter)
        return [self.runs[i] for i in filters.run_ids if i in self.runs]

    def all_logs(self, run_id, of_type=None):
        return [
            r.event_log_entry
            for r in self.records
            if r.run_id == run_id
            and (of_type is None or r.event_log_entry.dagster_event.event_type == of_type)
        ]


class FakeJob:
    """Stands in for a JobDefinition where only the name matters."""

    def __init__(self, name):
        self.name = name


FakeJob.__name__ = "JobDefinition"


def tick(sensor_def, instance, cursor):
    return sensor_def.evaluate_tick(build_sensor_context(instance=instance, cursor=cursor))


def started(sensor_def, instance):
    first = tick(sensor_def, instance, None)
    assert first.skip_message.startswith(f"Initiating {sensor_def.name}.")
    return first.cursor


# -- the cursor ----------------------------------------------------------------------------


def test_cursor_round_trip_and_invalid_text():
    cursor = RunStatusSensorCursor(12, "2024-01-01T00:00:00+00:00")
    assert RunStatusSensorCursor.from_json(cursor.to_json()) == cursor
    assert json.loads(cursor.to_json())["record_id"] == 12
    assert str(cursor) == (
        "RunStatusSensorCursor(record_id=12, update_timestamp='2024-01-01T00:00:00+00:00')"
    )
    for text in [None, "", "12", "{", json.dumps({"record_id": 3}), '{"__class__": "X"}']:
        assert RunStatusSensorCursor.from_json(text) is None
    other = '{"__class__": "RunStatusSensorCursor", "record_id": 4, "record_timestamp": "t"}'
    assert RunStatusSensorCursor.from_json(other) == RunStatusSensorCursor(4, "t")


# -- C9 at the evaluation level ------------------------------------------------------------


def test_first_tick_initiates_after_the_newest_event_and_skips_old_runs():
    instance = FakeInstance()
    instance.finish("the_job", SUCCESS)
    seen = []

    @run_status_sensor(run_status=SUCCESS)
    def returns_none(context):
        seen.append(context.dagster_run.run_id)

    first = tick(returns_none, instance, None)
    assert first.skip_message == (
        "Initiating returns_none. Set cursor to RunStatusSensorCursor(record_id=1, "
        "update_timestamp='1970-01-01T00:16:40+00:00')"
    )
    assert RunStatusSensorCursor.from_json(first.cursor).record_id == 1
    later = tick(returns_none, instance, first.cursor)
    assert later.skip_message == "Sensor function returned an empty result"
    assert seen == []


def test_first_tick_on_an_empty_log_starts_at_minus_one():
    @run_status_sensor(run_status=SUCCESS)
    def s(context):
        return None

    first = tick(s, FakeInstance(), None)
    assert first.skip_message == (
        "Initiating s. Set cursor to RunStatusSensorCursor(record_id=-1, update_timestamp=None)"
    )


def test_returning_none_handles_all_new_runs_in_one_tick():
    instance = FakeInstance()

    @run_status_sensor(run_status=SUCCESS, monitored_jobs=[FakeJob("the_job")])
    def returns_none(context):
        assert isinstance(context, RunStatusSensorContext)
        assert context.dagster_event.event_type == DagsterEventType.RUN_SUCCESS

    cursor = started(returns_none, instance)
    r1 = instance.finish("the_job", SUCCESS)
    r2 = instance.finish("the_job", SUCCESS)
    instance.finish("the_job", FAILURE)
    result = tick(returns_none, instance, cursor)
    assert result.skip_message is None
    assert [r.dagster_run.run_id for r in result.dagster_run_reactions] == [r1.run_id, r2.run_id]
    assert all(r.run_status == SUCCESS and r.error is None for r in result.dagster_run_reactions)
    # storage ids are global: the failure (id 3) is another event type, not read
    assert RunStatusSensorCursor.from_json(result.cursor).record_id == 2
    again = tick(returns_none, instance, result.cursor)
    assert again.skip_message == "Sensor function returned an empty result"
    assert again.dagster_run_reactions == ()


def test_returning_a_value_handles_one_run_per_tick():
    instance = FakeInstance()

    @run_status_sensor(run_status=SUCCESS)
    def returns_skip(context):
        return SkipReason(f"saw {context.dagster_run.run_id}")

    cursor = started(returns_skip, instance)
    r1 = instance.finish("the_job", SUCCESS)
    r2 = instance.finish("the_job", SUCCESS)
    messages = []
    for _ in range(3):
        result = tick(returns_skip, instance, cursor)
        messages.append(result.skip_message)
        cursor = result.cursor
    assert messages == [
        f"saw {r1.run_id}",
        f"saw {r2.run_id}",
        "Sensor function returned an empty result",
    ]


def test_a_user_error_is_reported_per_run_and_the_cursor_moves_past_it():
    instance = FakeInstance()

    @run_status_sensor(run_status=SUCCESS)
    def raises_in_rss(context):
        raise ValueError(f"boom {context.dagster_run.run_id}")

    cursor = started(raises_in_rss, instance)
    r1 = instance.finish("the_job", SUCCESS)
    r2 = instance.finish("the_job", SUCCESS)
    result = tick(raises_in_rss, instance, cursor)
    errors = [r.error for r in result.dagster_run_reactions]
    assert [r.dagster_run.run_id for r in result.dagster_run_reactions] == [r1.run_id, r2.run_id]
    assert all(e is not None and e.cls_name == "ValueError" for e in errors)
    assert f"boom {r1.run_id}" in errors[0].message
    assert RunStatusSensorCursor.from_json(result.cursor).record_id == 2
    assert tick(raises_in_rss, instance, result.cursor).skip_message == (
        "Sensor function returned an empty result"
    )


def test_failure_sensor_requests_a_run_only_for_failures():
    instance = FakeInstance()
    the_job = FakeJob("the_job")

    @run_failure_sensor(request_job=the_job)
    def failure_requests(context):
        assert isinstance(context, RunFailureSensorContext)
        return RunRequest(run_key=context.dagster_run.run_id)

    cursor = started(failure_requests, instance)
    instance.finish("the_job", SUCCESS)
    f1 = instance.finish("the_job", FAILURE)
    instance.finish("the_job", SUCCESS)
    result = tick(failure_requests, instance, cursor)
    assert [r.run_key for r in result.run_requests] == [f1.run_id]
    assert result.run_requests[0].tags["dagster/sensor_name"] == "failure_requests"
    assert tick(failure_requests, instance, result.cursor).run_requests == ()


def test_monitored_jobs_filter_runs_and_still_move_the_cursor():
    instance = FakeInstance()
    seen = []

    @run_status_sensor(run_status=SUCCESS, monitored_jobs=[FakeJob("watched")])
    def s(context):
        seen.append(context.dagster_run.job_name)

    cursor = started(s, instance)
    for name in ["other", "watched", "other"]:
        instance.finish(name, SUCCESS)
    result = tick(s, instance, cursor)
    assert seen == ["watched"]
    assert RunStatusSensorCursor.from_json(result.cursor).record_id == 3


def test_selectors_match_runs_of_other_code_locations():
    instance = FakeInstance()
    seen = []

    def fn(context):
        seen.append(context.dagster_run.job_name)

    by_location = run_status_sensor(
        run_status=SUCCESS, name="by_location", monitored_jobs=[CodeLocationSelector("loc_a")]
    )(fn)
    by_job = run_status_sensor(
        run_status=SUCCESS,
        name="by_job",
        monitored_jobs=[JobSelector(location_name="loc_b", job_name="j2")],
    )(fn)
    everything = run_status_sensor(
        run_status=SUCCESS, name="everything", monitor_all_repositories=True
    )(fn)
    cursors = {s.name: started(s, instance) for s in (by_location, by_job, everything)}
    instance.finish("j1", SUCCESS, code_location="loc_a")
    instance.finish("j2", SUCCESS, code_location="loc_b")
    instance.finish("j3", SUCCESS, code_location="loc_b")
    for s in (by_location, by_job, everything):
        seen.clear()
        tick(s, instance, cursors[s.name])
        expected = {"by_location": ["j1"], "by_job": ["j2"], "everything": ["j1", "j2", "j3"]}
        assert seen == expected[s.name]
    assert by_location.monitored_jobs == [RepositorySelector("loc_a", "__repository__")]


def test_a_backlog_is_worked_off_over_ticks_each_run_seen_once():
    instance = FakeInstance()
    seen: list[str] = []

    @run_failure_sensor
    def on_failure(context):
        seen.append(context.dagster_run.run_id)

    on_failure.events_per_tick = 7
    on_failure.runs_per_tick = 3
    cursor = started(on_failure, instance)
    failed = [instance.finish(f"job_{i % 3}", FAILURE).run_id for i in range(200)]
    ticks = 0
    while True:
        result = tick(on_failure, instance, cursor)
        ticks += 1
        if not result.dagster_run_reactions:
            break
        assert len(result.dagster_run_reactions) <= 3
        cursor = result.cursor
    assert seen == failed
    assert ticks == 68  # ceil(200 / 3) ticks that handled runs, then one empty tick
    filters = [q for q in instance.queries if q[2]]
    assert all(q[1] == 7 and q[0].event_type == DagsterEventType.RUN_FAILURE for q in filters)


def test_returned_sensor_result_with_a_cursor_is_rejected():
    instance = FakeInstance()

    @run_status_sensor(run_status=SUCCESS, request_job=FakeJob("j"))
    def s(context):
        return SensorResult(run_requests=[RunRequest()], cursor="mine")

    cursor = started(s, instance)
    instance.finish("j", SUCCESS)
    with pytest.raises(DagsterInvariantViolationError, match="manages its own cursor"):
        tick(s, instance, cursor)


def test_generator_function_yields_pass_through():
    instance = FakeInstance()

    @run_status_sensor(run_status=SUCCESS, request_job=FakeJob("j"))
    def s(context):
        yield RunRequest(run_key="a")
        yield RunRequest(run_key="b")

    cursor = started(s, instance)
    instance.finish("j", SUCCESS)
    assert [r.run_key for r in tick(s, instance, cursor).run_requests] == ["a", "b"]


# -- contexts and direct invocation --------------------------------------------------------


def _failed_run(instance):
    run = instance.finish("my_job", FAILURE)
    instance.add(
        run, DagsterEventType.STEP_FAILURE, "step failed", StepFailureData(None), step_key="op"
    )
    event = instance.all_logs(run.run_id, DagsterEventType.RUN_FAILURE)[0].dagster_event
    return run, event


def test_build_context_and_for_run_failure():
    instance = FakeInstance()
    run, event = _failed_run(instance)
    context = build_run_status_sensor_context(
        sensor_name="s", dagster_event=event, dagster_instance=instance, dagster_run=run
    )
    assert context.sensor_name == "s"
    assert context.dagster_run is run
    assert context.instance is instance
    assert context.partition_key is None
    failure = context.for_run_failure()
    assert isinstance(failure, RunFailureSensorContext)
    assert failure.failure_event.message == "Run failure"
    assert failure.failure_event == event
    assert failure.failure_event.dagster_event.event_type_value == "PIPELINE_FAILURE"
    steps = failure.get_step_failure_events()
    assert [e.step_key for e in steps] == ["op"]
    context.log.info("logging works without a sensor context")


def test_build_context_rejects_wrong_types():
    instance = FakeInstance()
    run, event = _failed_run(instance)
    with pytest.raises(CheckError, match="dagster_run must be a DagsterRun"):
        build_run_status_sensor_context("s", event, instance, "not a run")
    with pytest.raises(CheckError, match="dagster_event must be a DagsterEvent"):
        build_run_status_sensor_context("s", None, instance, run)
    with pytest.raises(ParameterCheckError, match='"sensor_name" is not a str'):
        build_run_status_sensor_context(3, event, instance, run)


def test_direct_invocation_rules():
    instance = FakeInstance()
    run, event = _failed_run(instance)
    context = build_run_status_sensor_context("s", event, instance, run)

    @run_failure_sensor
    def with_context(context: RunFailureSensorContext):
        return context.failure_event.message

    @run_status_sensor(run_status=SUCCESS)
    def without_context():
        return "called"

    assert with_context(context) == "Run failure"
    assert with_context(context=context.for_run_failure()) == "Run failure"
    assert without_context() == "called"
    with pytest.raises(DagsterInvalidInvocationError, match="expected context argument"):
        with_context()
    with pytest.raises(DagsterInvalidInvocationError, match="expected argument 'context'"):
        with_context(ctx=context)
    with pytest.raises(CheckError, match="is not a RunStatusSensorContext"):
        with_context(build_sensor_context())


def test_direct_invocation_with_resources():
    instance = FakeInstance()
    run, event = _failed_run(instance)

    @run_failure_sensor(required_resource_keys={"notifier"})
    def notify(context):
        return context.resources.notifier

    context = build_run_status_sensor_context(
        "notify", event, instance, run, resources={"notifier": "n"}
    )
    assert notify(context) == "n"
    bare = build_run_status_sensor_context("notify", event, instance, run)
    with pytest.raises(DagsterInvalidDefinitionError, match="Resource with key 'notifier'"):
        notify(bare)


# -- definition-time checks -----------------------------------------------------------------


def test_definition_attributes():
    @run_failure_sensor(
        name="named",
        minimum_interval_seconds=10,
        description="d",
        default_status=DefaultSensorStatus.RUNNING,
        request_job=FakeJob("j"),
    )
    def fn(context):
        return None

    assert isinstance(fn, RunStatusSensorDefinition)
    assert (fn.name, fn.minimum_interval_seconds, fn.description) == ("named", 10, "d")
    assert fn.run_status == FAILURE
    assert fn.event_type == DagsterEventType.RUN_FAILURE
    assert fn.default_status == DefaultSensorStatus.RUNNING
    assert fn.job_name == "j"
    assert fn.targets() == ["j"]

    @run_status_sensor(run_status=SUCCESS)
    def default_interval(context):
        return None

    assert default_interval.minimum_interval_seconds == 30
    assert default_interval.job_name is None


def test_bad_definitions_say_what_is_wrong():
    def fn(context):
        return None

    with pytest.raises(ParameterCheckError, match='"run_status" is not a DagsterRunStatus'):
        run_status_sensor(run_status="SUCCESS")(fn)  # type: ignore[arg-type]
    with pytest.raises(DagsterInvalidDefinitionError, match="NOT_STARTED"):
        run_status_sensor(run_status=DagsterRunStatus.NOT_STARTED)(fn)
    with pytest.raises(DagsterInvalidDefinitionError, match="Cannot specify both"):
        run_status_sensor(
            run_status=SUCCESS,
            monitored_jobs=[CodeLocationSelector("x")],
            monitor_all_code_locations=True,
        )(fn)
    with pytest.raises(CheckError, match="got 'x' of type str"):
        run_status_sensor(run_status=SUCCESS, monitored_jobs=["x"])(fn)
    with pytest.raises(DagsterInvalidDefinitionError, match="older name of monitored_jobs"):
        run_status_sensor(
            run_status=SUCCESS, monitored_jobs=[FakeJob("a")], job_selection=[FakeJob("b")]
        )(fn)
    with pytest.raises(DagsterInvalidDefinitionError, match="they disagree"):
        run_status_sensor(
            run_status=SUCCESS, monitor_all_code_locations=True, monitor_all_repositories=False
        )(fn)
    with pytest.raises(ParameterCheckError, match='"location_name" is not a str'):
        JobSelector(location_name=None)  # type: ignore[arg-type]
    with pytest.raises(ParameterCheckError, match="must be a positive int"):
        RunStatusSensorDefinition("x", SUCCESS, fn, events_per_tick=0)


# -- email ----------------------------------------------------------------------------------


class FakeSMTP:
    sent: list[tuple] = []

    def __init__(self, host, port, context=None):
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self, context=None):
        pass

    def login(self, user, password):
        self.user = user

    def sendmail(self, sender, recipients, message):
        FakeSMTP.sent.append((self.host, self.port, self.user, sender, recipients, message))


def test_email_on_run_failure_sends_through_smtp(monkeypatch):
    monkeypatch.setattr(smtplib, "SMTP_SSL", FakeSMTP)
    FakeSMTP.sent.clear()
    instance = FakeInstance()
    run, event = _failed_run(instance)
    email = make_email_on_run_failure_sensor(
        email_from="no-reply@example.com",
        email_password="secret",
        email_to=["a@example.com", "b@example.com"],
        webserver_base_url="http://ui",
    )
    assert email.name == "email_on_run_failure"
    assert email.run_status == FAILURE
    email(build_run_status_sensor_context("email_on_run_failure", event, instance, run))
    host, port, user, sender, recipients, message = FakeSMTP.sent[0]
    assert (host, port, user, sender) == ("smtp.gmail.com", 465, sender, "no-reply@example.com")
    assert recipients == ["a@example.com", "b@example.com"]
    assert f"Subject: Dagster Run Failed: {run.job_name}" in message
    assert f"Run ID: {run.run_id}" in message
    assert f"http://ui/runs/{run.run_id}" in message


def test_email_sensor_rejects_bad_arguments():
    with pytest.raises(DagsterInvalidDefinitionError, match='smtp_type "TLS" is not supported'):
        make_email_on_run_failure_sensor("a", "p", ["b"], smtp_type="TLS")
    with pytest.raises(CheckError, match="email_to must be a non-empty list"):
        make_email_on_run_failure_sensor("a", "p", "b@example.com")  # type: ignore[arg-type]


def test_reactions_are_the_shared_result_type():
    assert DagsterRunReaction.__module__ == "tocsin.automation.results"


def test_build_context_accepts_the_seeds_instance_spelling():
    instance = FakeInstance()
    run, event = _failed_run(instance)
    context = build_run_status_sensor_context(
        dagster_run=run, dagster_event=event, instance=instance
    )
    assert context.instance is instance
    assert context.sensor_name == "run_status_sensor"
    with pytest.raises(DagsterInvalidInvocationError, match="both dagster_instance and instance"):
        build_run_status_sensor_context("s", event, instance, run, instance=FakeInstance())


def test_partition_key_defaults_to_the_run_partition_tag():
    instance = FakeInstance()
    run = instance.finish("j", SUCCESS, tags={"dagster/partition": "2024-01-01"})
    event = instance.all_logs(run.run_id)[0].dagster_event
    assert build_run_status_sensor_context("s", event, instance, run).partition_key == "2024-01-01"
