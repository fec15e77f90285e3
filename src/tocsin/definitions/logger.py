"""The log manager behind ``context.log``, and logger definitions.

``DagsterLogManager`` turns each ``context.log.info(...)`` call into one record and hands it
to every *sink* (``sink(level, message, extra, tags)``: execution stores records as run
events, the sensor machinery as tick log lines), to the Python ``logging`` logger named
``tocsin`` and to any Python loggers built from ``LoggerDefinition``s. No handler is added to
Python logging here; applications configure it as they like.

``LoggerDefinition`` (usually made with ``@logger``) builds a Python ``logging.Logger`` from
its config; jobs and ``Definitions`` take them by name (``loggers={"json": json_logger}``).
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tocsin.definitions.config import Field, convert_config_schema, process_config
from tocsin.errors import CheckError, DagsterInvalidDefinitionError

__all__ = [
    "DagsterLogManager",
    "InitLoggerContext",
    "LoggerDefinition",
    "build_init_logger_context",
    "coerce_log_level",
    "console_logger",
    "default_loggers",
    "logger",
]

_LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
    "FATAL": logging.CRITICAL,
}

# Tags shown in front of the message in Python logging, in this order, when present.
_PREFIX_TAGS = ("job_name", "run_id", "op_name", "step_key", "sensor_name", "schedule_name")

Sink = Callable[[int, str, dict[str, Any], dict[str, str]], None]


def coerce_log_level(level: int | str) -> int:
    """A log level as an int; names are case-insensitive (``"info"``, ``"WARNING"``).

    Raises:
        CheckError: the name is not a standard level, or the value is neither int nor str.
    """
    if isinstance(level, bool) or not isinstance(level, int | str):
        raise CheckError(f"Log level must be an int or a level name, got {level!r}.")
    if isinstance(level, int):
        return level
    number = _LEVELS.get(level.upper())
    if number is None:
        raise CheckError(
            f"Unknown log level {level!r}. Custom log levels are not supported; use one of "
            f"{', '.join(repr(n.lower()) for n in _LEVELS)} or an int."
        )
    return number


class DagsterLogManager:
    """Structured logging for ops, sensors and schedules (``context.log``).

    Args:
        name: the manager's name, shown in Python logging records.
        logging_tags: tags attached to every record (run id, job name, op name, ...).
        sinks: callables ``sink(level, message, extra, tags)`` that receive every record.
        python_loggers: extra ``logging.Logger``s (from ``LoggerDefinition``s) to forward to.
    """

    def __init__(
        self,
        name: str = "tocsin",
        logging_tags: Mapping[str, Any] | None = None,
        *,
        sinks: Sequence[Sink] = (),
        python_loggers: Sequence[logging.Logger] = (),
    ):
        if not isinstance(name, str):
            raise CheckError(f"DagsterLogManager name must be a str, got {name!r}.")
        self.name = name
        self._tags = {str(k): str(v) for k, v in (logging_tags or {}).items()}
        self._sinks = list(sinks)
        self._python_loggers = list(python_loggers)
        self._base = logging.getLogger("tocsin")

    @property
    def logging_tags(self) -> dict[str, str]:
        return dict(self._tags)

    @property
    def sinks(self) -> list[Sink]:
        return list(self._sinks)

    @property
    def python_loggers(self) -> list[logging.Logger]:
        return list(self._python_loggers)

    def add_sink(self, sink: Sink) -> None:
        """Send every later record to ``sink`` as well (shared with ``with_tags`` copies)."""
        self._sinks.append(sink)

    def with_tags(self, **new_tags: Any) -> DagsterLogManager:
        """A new manager with ``new_tags`` merged into the tags, sharing the same sinks."""
        clone = DagsterLogManager(
            self.name, {**self._tags, **new_tags}, python_loggers=self._python_loggers
        )
        clone._sinks = self._sinks
        return clone

    def log(self, level: int | str, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log ``msg`` at ``level`` (an int or a standard level name).

        Args:
            level: e.g. ``logging.INFO``, ``5`` or ``"warning"``.
            msg: the message; ``%``-formatted with ``args`` when given.
            **kwargs: extra key-values for this record only; ``extra={...}`` is merged in,
                ``exc_info=True`` appends the current traceback.
        """
        self._emit(level, msg, args, kwargs)

    def _emit(
        self, level: int | str, msg: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        number = coerce_log_level(level)
        message = str(msg) % args if args else str(msg)
        extra = self._extra(kwargs)
        if extra.pop("exc_info", None):
            message = _with_traceback(message)
        for sink in self._sinks:
            sink(number, message, dict(extra), dict(self._tags))
        self._to_python(number, message, extra)

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._emit(logging.DEBUG, msg, args, kwargs)

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._emit(logging.INFO, msg, args, kwargs)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._emit(logging.WARNING, msg, args, kwargs)

    warn = warning

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._emit(logging.ERROR, msg, args, kwargs)

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._emit(logging.ERROR, msg, args, {**kwargs, "exc_info": True})

    def critical(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._emit(logging.CRITICAL, msg, args, kwargs)

    fatal = critical

    def isEnabledFor(self, level: int) -> bool:
        return bool(self._sinks) or any(
            lg.isEnabledFor(level) for lg in (self._base, *self._python_loggers)
        )

    def _extra(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.pop("stack_info", None)
        kwargs.pop("stacklevel", None)
        nested = kwargs.pop("extra", None) or {}
        if not isinstance(nested, Mapping):
            raise CheckError(f"Log 'extra' must be a dict, got {nested!r}.")
        return {**nested, **kwargs}

    def _to_python(self, level: int, message: str, extra: dict[str, Any]) -> None:
        prefix = [self._tags[k] for k in _PREFIX_TAGS if self._tags.get(k)]
        text = " - ".join([*prefix, message])
        record_extra = {"tocsin_tags": dict(self._tags), "tocsin_extra": extra}
        for target in (self._base, *self._python_loggers):
            if target.isEnabledFor(level):
                # stacklevel points the record at the user's call, not at this module.
                target.log(level, text, extra=record_extra, stacklevel=4)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise AttributeError(
            f"DagsterLogManager has no attribute {name!r}. Custom log levels are not supported; "
            "use debug, info, warning, error, critical, or log(level, msg)."
        )

    def __repr__(self) -> str:
        return f"DagsterLogManager(name={self.name!r}, logging_tags={self._tags!r})"


def _with_traceback(message: str) -> str:
    if sys.exc_info()[0] is None:
        return message
    return message + "\n" + traceback.format_exc().rstrip()


# --------------------------------------------------------------------------- definitions


class InitLoggerContext:
    """What a logger function receives: the processed ``logger_config`` and where it runs.

    Args:
        logger_config: the logger's config, already validated against its schema.
        logger_def: the definition being initialized.
        job_def: the job the logger is built for, if any.
        run_id: the run the logger is built for, if any.
    """

    def __init__(
        self,
        logger_config: Any,
        logger_def: LoggerDefinition | None = None,
        job_def: Any = None,
        run_id: str | None = None,
    ):
        self.logger_config = logger_config
        self.logger_def = logger_def
        self.job_def = job_def
        self.run_id = run_id


class LoggerDefinition:
    """Builds a Python ``logging.Logger`` from config.

    Args:
        logger_fn: called with an ``InitLoggerContext``; returns a ``logging.Logger``.
        config_schema: schema of the logger's config (``loggers.<name>.config``).
        description: shown in documentation.
    """

    def __init__(
        self,
        logger_fn: Callable[[InitLoggerContext], logging.Logger],
        config_schema: Any = None,
        description: str | None = None,
    ):
        if not callable(logger_fn):
            raise DagsterInvalidDefinitionError(
                f"LoggerDefinition needs a callable logger_fn, got {logger_fn!r}."
            )
        self.logger_fn = logger_fn
        self.config_schema = config_schema
        self.config_type = convert_config_schema(config_schema)
        self.description = description

    @property
    def config_field(self) -> Field | None:
        """The ``config`` field this logger adds under ``loggers.<name>`` in run config."""
        if self.config_schema is None:
            return None
        if isinstance(self.config_schema, Field):
            return self.config_schema
        return Field(self.config_type)

    def initialize(
        self,
        logger_config: Any = None,
        *,
        name: str = "logger",
        job_def: Any = None,
        run_id: str | None = None,
        processed: bool = False,
    ) -> logging.Logger:
        """Build the Python logger; validates ``logger_config`` unless ``processed``.

        Raises:
            DagsterInvalidConfigError: the config does not match the schema.
            DagsterInvalidDefinitionError: the logger function did not return a Logger.
        """
        if not processed:
            logger_config = process_config(
                self.config_schema,
                logger_config,
                path=("loggers", name, "config"),
                preamble=f"Invalid config for logger '{name}'.",
            )
        built = self.logger_fn(InitLoggerContext(logger_config, self, job_def, run_id))
        if not isinstance(built, logging.Logger):
            raise DagsterInvalidDefinitionError(
                f"Logger '{name}': the logger function must return a logging.Logger, got {built!r}."
            )
        return built

    def configured(self, config: Any, description: str | None = None) -> LoggerDefinition:
        """A logger with its config fixed to ``config`` (it takes no config of its own)."""
        fixed = process_config(
            self.config_schema, config, preamble="Invalid config for configured logger."
        )
        return LoggerDefinition(
            lambda ctx: self.logger_fn(InitLoggerContext(fixed, self, ctx.job_def, ctx.run_id)),
            description=description or self.description,
        )

    def __call__(self, init_context: InitLoggerContext) -> logging.Logger:
        return self.logger_fn(init_context)

    def __repr__(self) -> str:
        return f"LoggerDefinition({getattr(self.logger_fn, '__name__', self.logger_fn)!r})"


def logger(config_schema: Any = None, description: str | None = None) -> Any:
    """Make a ``LoggerDefinition`` from a function; usable as ``@logger`` or ``@logger(...)``.

    Args:
        config_schema: schema of the logger's config.
        description: shown in documentation.
    """
    if callable(config_schema) and not _looks_like_schema(config_schema):
        return LoggerDefinition(config_schema)

    def wrap(fn: Callable[[InitLoggerContext], logging.Logger]) -> LoggerDefinition:
        return LoggerDefinition(fn, config_schema=config_schema, description=description)

    return wrap


def _looks_like_schema(value: Any) -> bool:
    return isinstance(value, type) or hasattr(value, "to_config_schema")


def build_init_logger_context(
    logger_config: Any = None, job_def: Any = None, run_id: str | None = None
) -> InitLoggerContext:
    """An ``InitLoggerContext`` for testing a logger function directly."""
    return InitLoggerContext(logger_config, job_def=job_def, run_id=run_id)


def _console_logger_fn(context: InitLoggerContext) -> logging.Logger:
    config = context.logger_config or {}
    built = logging.getLogger(f"tocsin.console.{config.get('name', 'tocsin')}")
    built.setLevel(coerce_log_level(config.get("log_level", "DEBUG")))
    built.propagate = False
    if not built.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s")
        )
        built.addHandler(handler)
    return built


console_logger = LoggerDefinition(
    _console_logger_fn,
    config_schema={
        "log_level": Field(str, default_value="DEBUG", description="The lowest level shown."),
        "name": Field(str, default_value="tocsin", description="Name shown in each line."),
    },
    description="Writes each record to stderr.",
)


def default_loggers() -> dict[str, LoggerDefinition]:
    """The loggers a job has when it declares none: ``{"console": console_logger}``."""
    return {"console": console_logger}
