"""``build_schedule_from_partitioned_job``: a schedule that runs each partition as it closes.

For a job with time-window partitions (hourly, daily, ...) the schedule's cron is the
partitions' own cadence, with the minute / hour / day offsets optionally moved, and each
tick requests the partition that has just ended (run key and ``dagster/partition`` tag =
the partition key), so a tick re-evaluated after a crash asks for the same run.

Jobs with static or dynamic partitions have no cadence: give ``cron_schedule``, and each
tick requests every partition (run key = partition key, so each runs once).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tocsin.automation.results import RunRequest, SkipReason
from tocsin.automation.schedule import DefaultScheduleStatus, ScheduleDefinition, schedule
from tocsin.errors import CheckError, DagsterInvalidDefinitionError
from tocsin.model.tags import PARTITION_NAME_TAG


def _is_time_window(partitions_def: Any) -> bool:
    return hasattr(partitions_def, "get_last_partition_key") and hasattr(
        partitions_def, "cron_schedule"
    )


def _override_cron(
    cron: str,
    minute_of_hour: int | None,
    hour_of_day: int | None,
    day_of_week: int | None,
    day_of_month: int | None,
) -> str:
    fields = cron.split()
    if len(fields) != 5:
        raise DagsterInvalidDefinitionError(
            f"The job's partitions have cron schedule {cron!r}, which has no minute / hour / day "
            "fields to move; pass cron_schedule to build_schedule_from_partitioned_job instead."
        )
    overrides: tuple[tuple[int, int | None, bool], ...] = (
        (0, minute_of_hour, False),
        (1, hour_of_day, False),
        (2, day_of_month, True),
        (4, day_of_week, True),
    )
    for index, value, only_if_set in overrides:
        if value is None or (only_if_set and fields[index] == "*"):
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise CheckError(
                f"Offsets of build_schedule_from_partitioned_job must be ints, got {value!r}."
            )
        fields[index] = str(value)
    return " ".join(fields)


def _request(job: Any, key: str, tags: Mapping[str, str]) -> RunRequest:
    config_for_key = getattr(job, "get_run_config_for_partition_key", None)
    run_config = config_for_key(key) if callable(config_for_key) else None
    return RunRequest(
        run_key=key,
        run_config=run_config,
        tags={**tags, PARTITION_NAME_TAG: key},
        partition_key=key,
    )


def _store(context: Any) -> Any:
    if context._instance is None and context.instance_ref is None:
        return None
    return context.instance


def _evaluation_fn(job: Any, partitions_def: Any, tags: Mapping[str, str]) -> Any:
    def evaluate(context: Any) -> Any:
        now = context.scheduled_execution_time if context.has_scheduled_execution_time else None
        if _is_time_window(partitions_def):
            key = partitions_def.get_last_partition_key(current_time=now)
            if key is None:
                return SkipReason("The job's PartitionsDefinition has no partitions")
            return _request(job, key, tags)
        keys = partitions_def.get_partition_keys(
            current_time=now, dynamic_partitions_store=_store(context)
        )
        return [_request(job, key, tags) for key in keys]

    return evaluate


def build_schedule_from_partitioned_job(
    job: Any,
    description: str | None = None,
    name: str | None = None,
    minute_of_hour: int | None = None,
    hour_of_day: int | None = None,
    day_of_week: int | None = None,
    day_of_month: int | None = None,
    default_status: DefaultScheduleStatus = DefaultScheduleStatus.STOPPED,
    tags: Mapping[str, str] | None = None,
    cron_schedule: str | None = None,
    execution_timezone: str | None = None,
    *,
    timezone: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    owners: list[str] | None = None,
    **extras: Any,
) -> ScheduleDefinition:
    """A schedule that requests the job's latest closed partition at each tick.

    Args:
        job: a partitioned job.
        description: shown in the UI.
        name: defaults to ``<job name>_schedule``.
        minute_of_hour, hour_of_day, day_of_week, day_of_month: move the tick within the
            partition cadence (e.g. daily partitions, ticking at 02:00).
        default_status: RUNNING to start as soon as it is deployed.
        tags: tags for the runs.
        cron_schedule: required for static / dynamic partitions; not allowed for time windows.
        execution_timezone: the time zone of ``cron_schedule`` (static / dynamic partitions).
        timezone: the time zone the ticks are read in, also for time-window partitions
            (defaults to the partitions' own zone).
        metadata, owners: of the schedule.
        **extras: tocsin's scheduling options (see ``ScheduleDefinition``).

    Raises:
        CheckError: the job is not partitioned, or the arguments contradict each other.
    """
    if day_of_week is not None and day_of_month is not None:
        raise CheckError(
            "Invariant failed. Description: Cannot provide both day_of_month and day_of_week "
            "parameter to build_schedule_from_partitioned_job."
        )
    offsets = (minute_of_hour, hour_of_day, day_of_week, day_of_month)
    if (cron_schedule or execution_timezone) and any(o is not None for o in offsets):
        raise CheckError(
            "Invariant failed. Description: Cannot provide both cron_schedule / "
            "execution_timezone parameters and day_of_month / day_of_week / hour_of_day / "
            "minute_of_hour parameters to build_schedule_from_partitioned_job."
        )
    partitions_def = getattr(job, "partitions_def", None)
    if partitions_def is None:
        raise CheckError(
            f"Failure condition: The provided job is not partitioned (job "
            f"{getattr(job, 'name', job)!r}). Give it a partitions_def, or use @schedule."
        )
    if _is_time_window(partitions_def):
        if cron_schedule or execution_timezone:
            raise CheckError(
                "Failure condition: Cannot provide cron_schedule or execution_timezone to "
                "build_schedule_from_partitioned_job for a time-partitioned job."
            )
        cron_schedule = _override_cron(partitions_def.cron_schedule, *offsets)
        execution_timezone = timezone or getattr(partitions_def, "timezone", None)
    else:
        if cron_schedule is None:
            raise CheckError(
                "Expected non-None value: Creating a schedule from a static partitions "
                "definition requires a cron schedule"
            )
        execution_timezone = execution_timezone or timezone
    return schedule(
        cron_schedule=cron_schedule,
        job=job,
        default_status=default_status,
        execution_timezone=execution_timezone,
        name=name if name is not None else f"{job.name}_schedule",
        description=description,
        metadata=metadata,
        owners=owners,
        **extras,
    )(_evaluation_fn(job, partitions_def, dict(tags or {})))
