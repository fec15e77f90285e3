"""The one exception tree of tocsin.

Everything tocsin raises derives from ``DagsterError`` (the name users already catch)::

    DagsterError
    ├── DagsterInvalidDefinitionError      a definition is malformed
    │   └── CronParseError (tocsin.cron)   a cron string is malformed (also a ValueError)
    ├── DagsterInvalidInvocationError      a definition was called the wrong way
    ├── DagsterInvariantViolationError     an internal or usage invariant broke
    │   └── DagsterHomeNotSetError         neither TOCSIN_HOME nor DAGSTER_HOME is set
    ├── DagsterInvalidConfigError          run config does not match its schema
    ├── DagsterUnknownPartitionError       a partition key that does not exist
    ├── DagsterUnknownResourceError        a resource key that was not provided
    ├── DagsterStepOutputNotFoundError     an op output that was never produced
    ├── DagsterExecutionInterruptedError   a run was interrupted
    ├── DagsterUserCodeExecutionError      user code raised; the cause is the user's error
    │   ├── DagsterExecutionStepExecutionError
    │   ├── DagsterResourceFunctionError
    │   ├── SensorExecutionError
    │   └── ScheduleExecutionError
    ├── CheckError                         a parameter had the wrong type or value
    │   └── ParameterCheckError
    └── TocsinError                        tocsin's own operational errors
        ├── ConfigError                    tocsin.yaml / workspace.yaml is wrong
        ├── StorageError                   the database refused or failed
        │   └── SchemaVersionError         the database is at another schema revision
        ├── TickClaimLostError             a tick's claim passed to another daemon
        └── NotFoundError                  a run, tick or instigator does not exist
            └── DagsterRunNotFoundError

``Failure`` and ``RetryRequested`` are raised *by user code* inside an op to fail it with
metadata or to ask for a retry; they derive from ``Exception`` as in the reference.

``user_code_error_boundary`` is the one wrapper around calls into user code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any


class DagsterError(Exception):
    """Root of every error tocsin raises."""

    @property
    def is_user_code_error(self) -> bool:
        return False


class DagsterInvalidDefinitionError(DagsterError):
    """A definition (op, job, sensor, schedule, ...) is malformed."""


class DagsterInvalidInvocationError(DagsterError):
    """A definition was invoked with arguments it does not accept."""


class DagsterInvariantViolationError(DagsterError):
    """An invariant of the API was violated."""


class DagsterHomeNotSetError(DagsterInvariantViolationError):
    """No instance home directory is configured."""


class DagsterInvalidConfigError(DagsterError):
    """Config did not match its schema.

    Args:
        preamble: what was being validated.
        errors: one human-readable message per problem, each naming its path.
        config_value: the value that was validated.
    """

    def __init__(self, preamble: str, errors: list[str] | None = None, config_value: Any = None):
        self.errors = list(errors or [])
        self.config_value = config_value
        message = preamble
        if self.errors:
            message += "\n" + "\n".join(f"    {e}" for e in self.errors)
        super().__init__(message)


class DagsterUnknownPartitionError(DagsterError):
    """A partition key that the partitions definition does not contain."""


class DagsterUnknownResourceError(DagsterError, AttributeError):
    """A resource key that was not provided to the context."""

    def __init__(self, resource_name: str, *args: Any):
        self.resource_name = resource_name
        msg = (
            f"Unknown resource `{resource_name}`. Specify `{resource_name}` as a required "
            "resource on the compute / config function that accessed it."
        )
        super().__init__(msg, *args)


class DagsterStepOutputNotFoundError(DagsterError):
    """An output that the op did not produce."""


class DagsterExecutionInterruptedError(DagsterError):
    """A run was interrupted (for example cancelled)."""


class DagsterUserCodeExecutionError(DagsterError):
    """User code raised. The user's exception is ``__cause__`` and ``user_exception``."""

    def __init__(self, *args: Any, user_exception: BaseException | None = None, **kwargs: Any):
        self.user_exception = user_exception
        self.original_exc_info = kwargs.pop("original_exc_info", None)
        super().__init__(*args)

    @property
    def is_user_code_error(self) -> bool:
        return True


class DagsterExecutionStepExecutionError(DagsterUserCodeExecutionError):
    """An op's compute function raised."""

    def __init__(self, *args: Any, **kwargs: Any):
        self.step_key = kwargs.pop("step_key", None)
        self.op_name = kwargs.pop("op_name", None)
        super().__init__(*args, **kwargs)


class DagsterResourceFunctionError(DagsterUserCodeExecutionError):
    """A resource's initialization function raised."""


class SensorExecutionError(DagsterUserCodeExecutionError):
    """A sensor's evaluation function raised."""


class ScheduleExecutionError(DagsterUserCodeExecutionError):
    """A schedule's evaluation function raised."""


class CheckError(DagsterError):
    """A parameter had the wrong type or value (the reference's internal check error)."""


class ParameterCheckError(CheckError):
    """A named parameter had the wrong type."""


class TocsinError(DagsterError):
    """Root of tocsin's own operational errors."""


class ConfigError(TocsinError):
    """A configuration file (tocsin.yaml, workspace.yaml) is wrong."""


class StorageError(TocsinError):
    """The database refused or failed an operation."""


class SchemaVersionError(StorageError):
    """The database schema is at a revision this tocsin cannot use."""


class TickClaimLostError(TocsinError):
    """A tick was not committed because its daemon no longer holds the tick's claim.

    Raised by ``TickStore.write_tick(..., lease=...)`` when the lease ``tick/<origin id>`` is
    held by another daemon, has expired, or is gone. Nothing of the tick was written.

    Attributes:
        lease: the lease name.
        owner: the daemon that expected to hold it.
        holder: who holds it now (None when nobody does: it expired, or was released).
    """

    def __init__(self, lease: str, owner: str, holder: str | None):
        self.lease = lease
        self.owner = owner
        self.holder = holder
        now = (
            f"it is held by daemon {holder}"
            if holder is not None
            else "it expired, or another daemon took it over and released it"
        )
        super().__init__(
            f"Tick not committed: daemon {owner} no longer holds {lease!r}; {now}. The daemon "
            "holding the claim ticks this instigator."
        )


class NotFoundError(TocsinError, KeyError):
    """A run, tick or instigator that does not exist."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DagsterRunNotFoundError(NotFoundError):
    """A run id that is not in the run store."""

    def __init__(self, *args: Any, invalid_run_id: str | None = None):
        self.invalid_run_id = invalid_run_id
        super().__init__(*args)


class Failure(Exception):
    """Raised by user code in an op to fail the step with a description and metadata.

    Args:
        description: why the step failed.
        metadata: metadata shown with the failure.
        allow_retries: whether a retry policy may retry this failure.
    """

    def __init__(
        self,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        allow_retries: bool | None = None,
    ):
        super().__init__(description)
        self.description = description
        self.metadata = dict(metadata or {})
        self.allow_retries = True if allow_retries is None else allow_retries


class RetryRequested(Exception):
    """Raised by user code in an op to ask for the step to be retried.

    Args:
        max_retries: how many times the step may be retried in all.
        seconds_to_wait: delay before the retry.
    """

    def __init__(self, max_retries: int | None = 1, seconds_to_wait: float | None = None):
        super().__init__()
        self.max_retries = 1 if max_retries is None else max_retries
        self.seconds_to_wait = seconds_to_wait


# Exceptions that user code may raise to steer execution; the boundary lets them through.
_CONTROL_FLOW: tuple[type[BaseException], ...] = (Failure, RetryRequested)


@contextlib.contextmanager
def user_code_error_boundary(
    error_cls: type[DagsterUserCodeExecutionError],
    msg_fn: str | Callable[[], str],
    control_flow_exceptions: tuple[type[BaseException], ...] = (),
    **kwargs: Any,
) -> Iterator[None]:
    """Wrap a call into user code so that its errors come out as ``error_cls``.

    Args:
        error_cls: a subclass of ``DagsterUserCodeExecutionError`` to raise.
        msg_fn: the message, or a callable that builds it (called only on error).
        control_flow_exceptions: exception types that pass through unwrapped.
        **kwargs: extra keyword arguments for ``error_cls``.

    Raises:
        error_cls: wrapping whatever the user code raised, with it as ``__cause__``.
    """
    if not (isinstance(error_cls, type) and issubclass(error_cls, DagsterUserCodeExecutionError)):
        raise CheckError(
            f"user_code_error_boundary needs a subclass of DagsterUserCodeExecutionError, "
            f"got {error_cls!r}."
        )
    passthrough: tuple[type[BaseException], ...] = (
        DagsterError,
        *_CONTROL_FLOW,
        *control_flow_exceptions,
    )
    try:
        yield
    except passthrough:
        raise
    except Exception as exc:
        message = msg_fn if isinstance(msg_fn, str) else msg_fn()
        raise error_cls(message, user_exception=exc, **kwargs) from exc
