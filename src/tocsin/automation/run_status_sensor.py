"""Run status sensors: the ``@run_status_sensor`` / ``@run_failure_sensor`` decorators.

Also ``make_email_on_run_failure_sensor``. How such a sensor ticks is described in
``run_status_definition``, which defines ``RunStatusSensorDefinition``; it and the context
types (``run_status_context``) stay importable from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tocsin.automation.run_status_context import (
    CodeLocationSelector,
    JobSelector,
    RepositorySelector,
    RunFailureEvent,
    RunFailureSensorContext,
    RunStatusSensorContext,
    RunStatusSensorCursor,
    build_run_status_sensor_context,
)
from tocsin.automation.run_status_definition import (
    RunStatusSensorDefinition as RunStatusSensorDefinition,
)
from tocsin.automation.run_status_definition import report_run_reactions as report_run_reactions
from tocsin.automation.sensor import DefaultSensorStatus
from tocsin.errors import CheckError, DagsterInvalidDefinitionError
from tocsin.model.run import DagsterRunStatus

# ----------------------------------------------------------------------------------------------
# Decorators


def _resolve_monitor_all(monitor_all_code_locations: Any, monitor_all_repositories: Any) -> Any:
    both = monitor_all_repositories is not None and monitor_all_code_locations is not None
    if both and bool(monitor_all_repositories) != bool(monitor_all_code_locations):
        raise DagsterInvalidDefinitionError(
            "monitor_all_repositories is the older name of monitor_all_code_locations; "
            f"they disagree ({monitor_all_repositories!r} vs "
            f"{monitor_all_code_locations!r}). Pass only monitor_all_code_locations."
        )
    return (
        monitor_all_code_locations
        if monitor_all_code_locations is not None
        else (monitor_all_repositories)
    )


def _resolve_monitored(monitored_jobs: Any, job_selection: Any) -> Any:
    if monitored_jobs and job_selection:
        raise DagsterInvalidDefinitionError(
            "job_selection is the older name of monitored_jobs; pass only monitored_jobs."
        )
    return monitored_jobs if monitored_jobs else job_selection


def run_status_sensor(
    run_status: DagsterRunStatus,
    name: str | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    monitored_jobs: Sequence[Any] | None = None,
    job_selection: Sequence[Any] | None = None,
    monitor_all_code_locations: bool | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    request_job: Any = None,
    request_jobs: Sequence[Any] | None = None,
    monitor_all_repositories: bool | None = None,
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    required_resource_keys: set[str] | None = None,
) -> Callable[[Callable[..., Any]], RunStatusSensorDefinition]:
    """Decorate a function to call it for each run that reaches ``run_status``.

    The function takes an optional ``RunStatusSensorContext`` (``context.dagster_run``,
    ``context.dagster_event``) and may return None (just react), or a RunRequest /
    SkipReason / SensorResult for ``request_job``.
    """
    monitored = _resolve_monitored(monitored_jobs, job_selection)
    monitor_all = _resolve_monitor_all(monitor_all_code_locations, monitor_all_repositories)

    def inner(fn: Callable[..., Any]) -> RunStatusSensorDefinition:
        if not callable(fn):
            raise CheckError(f"@run_status_sensor must decorate a function, got {fn!r}.")
        return RunStatusSensorDefinition(
            name=name or fn.__name__,
            run_status=run_status,
            run_status_sensor_fn=fn,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            monitored_jobs=monitored,
            monitor_all_code_locations=monitor_all,
            default_status=default_status,
            request_job=request_job,
            request_jobs=request_jobs,
            tags=tags,
            metadata=metadata,
            required_resource_keys=required_resource_keys,
        )

    return inner


def run_failure_sensor(
    name: Callable[..., Any] | str | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    monitored_jobs: Sequence[Any] | None = None,
    job_selection: Sequence[Any] | None = None,
    monitor_all_code_locations: bool | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    request_job: Any = None,
    request_jobs: Sequence[Any] | None = None,
    monitor_all_repositories: bool | None = None,
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    required_resource_keys: set[str] | None = None,
) -> Any:
    """Decorate a function to call it for each failed run (``@run_failure_sensor`` works bare).

    The function takes an optional ``RunFailureSensorContext`` (``context.failure_event``,
    ``context.get_step_failure_events()``).
    """

    def inner(fn: Callable[..., Any]) -> RunStatusSensorDefinition:
        sensor_name = name if isinstance(name, str) else None
        return run_status_sensor(
            DagsterRunStatus.FAILURE,
            name=sensor_name or fn.__name__,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            monitored_jobs=monitored_jobs,
            job_selection=job_selection,
            monitor_all_code_locations=monitor_all_code_locations,
            default_status=default_status,
            request_job=request_job,
            request_jobs=request_jobs,
            monitor_all_repositories=monitor_all_repositories,
            tags=tags,
            metadata=metadata,
            required_resource_keys=required_resource_keys,
        )(fn)

    if callable(name):
        return inner(name)
    return inner


# ----------------------------------------------------------------------------------------------
# Email on failure


def _default_email_body(context: RunFailureSensorContext) -> str:
    return "<br>".join(
        [
            f"Pipeline {context.dagster_run.job_name} failed!",
            f"Run ID: {context.dagster_run.run_id}",
            f"Mode: {getattr(context.dagster_run, 'mode', 'default')}",
            f"Error: {context.failure_event.message}",
        ]
    )


def _default_email_subject(context: RunFailureSensorContext) -> str:
    return f"Dagster Run Failed: {context.dagster_run.job_name}"


def _send_email(
    *,
    smtp_type: str,
    host: str,
    port: int,
    user: str,
    password: str,
    sender: str,
    recipients: Sequence[str],
    message: str,
) -> None:
    import smtplib
    import ssl

    if smtp_type == "SSL":
        with smtplib.SMTP_SSL(host, port, context=ssl.create_default_context()) as server:
            server.login(user, password)
            server.sendmail(sender, list(recipients), message)
    else:
        with smtplib.SMTP(host, port) as server:
            server.starttls(context=ssl.create_default_context())
            server.login(user, password)
            server.sendmail(sender, list(recipients), message)


def make_email_on_run_failure_sensor(
    email_from: str,
    email_password: str,
    email_to: Sequence[str],
    email_body_fn: Callable[[RunFailureSensorContext], str] = _default_email_body,
    email_subject_fn: Callable[[RunFailureSensorContext], str] = _default_email_subject,
    smtp_host: str = "smtp.gmail.com",
    smtp_type: str = "SSL",
    smtp_port: int | None = None,
    smtp_user: str | None = None,
    name: str | None = None,
    webserver_base_url: str | None = None,
    monitored_jobs: Sequence[Any] | None = None,
    job_selection: Sequence[Any] | None = None,
    monitor_all_code_locations: bool = False,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    monitor_all_repositories: bool = False,
) -> RunStatusSensorDefinition:
    """A run failure sensor that emails ``email_to`` through SMTP for each failed run.

    Args:
        email_from: sender address (also the SMTP login unless ``smtp_user`` is given).
        email_password: SMTP password.
        email_to: recipients.
        email_body_fn / email_subject_fn: build the HTML body and the subject from the context.
        smtp_host, smtp_type ("SSL" or "STARTTLS"), smtp_port (465 / 587), smtp_user: server.
        name: the sensor's name (default ``email_on_run_failure``).
        webserver_base_url: when set, the body links to the run's page.
    """
    if smtp_type not in ("SSL", "STARTTLS"):
        raise DagsterInvalidDefinitionError(
            f'smtp_type "{smtp_type}" is not supported. Use "SSL" (port 465) or "STARTTLS" '
            "(port 587)."
        )
    if isinstance(email_to, str) or not isinstance(email_to, Sequence) or not email_to:
        raise CheckError(f"email_to must be a non-empty list of addresses, got {email_to!r}.")
    port = smtp_port or (465 if smtp_type == "SSL" else 587)

    @run_failure_sensor(
        name=name or "email_on_run_failure",
        monitored_jobs=monitored_jobs,
        job_selection=job_selection,
        monitor_all_code_locations=monitor_all_code_locations or None,
        monitor_all_repositories=monitor_all_repositories or None,
        default_status=default_status,
    )
    def email_on_run_failure(context: RunFailureSensorContext) -> None:
        body = email_body_fn(context)
        if webserver_base_url:
            url = f"{webserver_base_url.rstrip('/')}/runs/{context.dagster_run.run_id}"
            body += f'<br><a href="{url}">View in tocsin</a>'
        message = (
            f"From: {email_from}\nTo: {', '.join(email_to)}\n"
            f"Subject: {email_subject_fn(context)}\n"
            f"Content-Type: text/html; charset=utf-8\n\n{body}"
        )
        _send_email(
            smtp_type=smtp_type,
            host=smtp_host,
            port=port,
            user=smtp_user or email_from,
            password=email_password,
            sender=email_from,
            recipients=email_to,
            message=message,
        )

    return email_on_run_failure


__all__ = [
    "CodeLocationSelector",
    "RunFailureEvent",
    "JobSelector",
    "RepositorySelector",
    "RunFailureSensorContext",
    "RunStatusSensorContext",
    "RunStatusSensorCursor",
    "RunStatusSensorDefinition",
    "build_run_status_sensor_context",
    "make_email_on_run_failure_sensor",
    "report_run_reactions",
    "run_failure_sensor",
    "run_status_sensor",
]
