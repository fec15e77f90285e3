from __future__ import annotations

import logging

import pytest

from tocsin.definitions.logger import (
    DagsterLogManager,
    InitLoggerContext,
    LoggerDefinition,
    build_init_logger_context,
    coerce_log_level,
    console_logger,
    default_loggers,
    logger,
)
from tocsin.errors import CheckError, DagsterInvalidConfigError, DagsterInvalidDefinitionError


class Recorder:
    def __init__(self):
        self.records: list[tuple[int, str, dict, dict]] = []

    def __call__(self, level, message, extra, tags):
        self.records.append((level, message, extra, tags))


@pytest.fixture
def sink() -> Recorder:
    return Recorder()


@pytest.mark.parametrize(
    ("method", "level"),
    [
        ("debug", logging.DEBUG),
        ("info", logging.INFO),
        ("warning", logging.WARNING),
        ("warn", logging.WARNING),
        ("error", logging.ERROR),
        ("critical", logging.CRITICAL),
        ("fatal", logging.CRITICAL),
    ],
)
def test_level_methods_reach_every_sink(method, level):
    first, second = Recorder(), Recorder()
    manager = DagsterLogManager(logging_tags={"run_id": "r1"}, sinks=[first, second])
    getattr(manager, method)("hello")
    assert first.records == [(level, "hello", {}, {"run_id": "r1"})]
    assert second.records == first.records


def test_kwargs_and_extra_are_recorded_per_message(sink):
    manager = DagsterLogManager(sinks=[sink])
    manager.info("one", rows=3, extra={"table": "t"})
    manager.info("two")
    assert sink.records[0][2] == {"table": "t", "rows": 3}
    assert sink.records[1][2] == {}


def test_percent_formatting(sink):
    DagsterLogManager(sinks=[sink]).info("found %d files in %s", 3, "/in")
    assert sink.records[0][1] == "found 3 files in /in"


def test_log_with_int_and_names(sink):
    manager = DagsterLogManager(sinks=[sink])
    manager.log(5, "low")
    manager.log("warning", "named")
    manager.log("INFO", "upper")
    assert [r[0] for r in sink.records] == [5, logging.WARNING, logging.INFO]


def test_unknown_level_name_raises():
    with pytest.raises(CheckError, match=r"Unknown log level 'trace'\. Custom log levels"):
        DagsterLogManager().log("trace", "x")


def test_unknown_level_method_raises():
    manager = DagsterLogManager()
    with pytest.raises(AttributeError, match=r"no attribute 'trace'\. Custom log levels"):
        manager.trace("x")


def test_bad_level_type_and_extra():
    with pytest.raises(CheckError, match="must be an int or a level name"):
        coerce_log_level(True)
    with pytest.raises(CheckError, match="'extra' must be a dict"):
        DagsterLogManager().info("x", extra=[1])


def test_with_tags_merges_and_shares_sinks(sink):
    base = DagsterLogManager(logging_tags={"run_id": "r1", "job_name": "j"}, sinks=[sink])
    child = base.with_tags(op_name="o", job_name="j2")
    child.info("from child")
    base.add_sink(lambda *a: sink.records.append(("late", *a)))
    child.info("after add")
    assert sink.records[0][3] == {"run_id": "r1", "job_name": "j2", "op_name": "o"}
    assert base.logging_tags == {"run_id": "r1", "job_name": "j"}
    assert len(sink.records) == 3  # the sink added on the parent also sees the child


def test_exc_info_appends_traceback(sink):
    manager = DagsterLogManager(sinks=[sink])
    try:
        raise ValueError("boom")
    except ValueError:
        manager.exception("failed")
    message = sink.records[0][1]
    assert message.startswith("failed\nTraceback")
    assert "ValueError: boom" in message
    assert "exc_info" not in sink.records[0][2]


def test_works_with_no_sinks_and_goes_to_python_logging(caplog):
    manager = DagsterLogManager(logging_tags={"job_name": "j", "run_id": "r"})
    with caplog.at_level(logging.INFO, logger="tocsin"):
        manager.info("to python", n=1)
    (record,) = [r for r in caplog.records if r.name == "tocsin"]
    assert record.getMessage() == "j - r - to python"
    assert record.levelno == logging.INFO
    assert record.tocsin_extra == {"n": 1}
    assert record.tocsin_tags == {"job_name": "j", "run_id": "r"}


def test_python_loggers_receive_records(caplog):
    extra_logger = logging.getLogger("tocsin_test_extra")
    manager = DagsterLogManager(python_loggers=[extra_logger])
    with caplog.at_level(logging.DEBUG, logger="tocsin_test_extra"):
        manager.debug("dbg")
        assert manager.isEnabledFor(logging.DEBUG)
    assert [r.getMessage() for r in caplog.records if r.name == "tocsin_test_extra"] == ["dbg"]
    assert manager.python_loggers == [extra_logger]
    (record,) = [r for r in caplog.records if r.name == "tocsin_test_extra"]
    assert record.filename == "test_logger.py"  # points at the caller


def test_no_handlers_added_to_the_tocsin_logger():
    DagsterLogManager().info("x")
    assert logging.getLogger("tocsin").handlers == []


def test_name_must_be_str():
    with pytest.raises(CheckError, match="name must be a str"):
        DagsterLogManager(3)


# --------------------------------------------------------------------------- definitions


def test_logger_decorator_with_config():
    @logger(config_schema={"level": str}, description="json logs")
    def json_logger(init_context: InitLoggerContext) -> logging.Logger:
        built = logging.getLogger("tocsin_test_json")
        built.setLevel(init_context.logger_config["level"])
        return built

    assert isinstance(json_logger, LoggerDefinition)
    assert json_logger.description == "json logs"
    built = json_logger.initialize({"level": "ERROR"}, name="json", run_id="r")
    assert built.level == logging.ERROR
    assert json_logger.config_field.is_required


def test_bare_logger_decorator():
    @logger
    def plain(_context):
        return logging.getLogger("tocsin_test_plain")

    assert isinstance(plain, LoggerDefinition)
    assert plain.config_field is None
    assert plain(build_init_logger_context()).name == "tocsin_test_plain"


def test_logger_config_errors_have_paths():
    definition = LoggerDefinition(lambda c: logging.getLogger("x"), config_schema={"level": str})
    with pytest.raises(DagsterInvalidConfigError) as info:
        definition.initialize({"level": 3}, name="json")
    assert info.value.errors == ["loggers.json.config.level: expected String, got 3 (int)."]


def test_logger_fn_must_return_a_logger():
    definition = LoggerDefinition(lambda c: "nope")
    with pytest.raises(DagsterInvalidDefinitionError, match=r"must return a logging\.Logger"):
        definition.initialize()


def test_logger_definition_needs_callable():
    with pytest.raises(DagsterInvalidDefinitionError, match="needs a callable logger_fn"):
        LoggerDefinition("not callable")


def test_configured_logger_fixes_config():
    seen = []

    def fn(context):
        seen.append(context.logger_config)
        return logging.getLogger("tocsin_test_configured")

    definition = LoggerDefinition(fn, config_schema={"level": str, "x": Field_default()})
    fixed = definition.configured({"level": "INFO"})
    assert fixed.config_schema is None
    fixed.initialize(run_id="r")
    assert seen == [{"level": "INFO", "x": 1}]


def Field_default():
    from tocsin.definitions.config import Field

    return Field(int, default_value=1)


def test_console_logger_defaults_and_level():
    assert set(default_loggers()) == {"console"}
    built = console_logger.initialize({"log_level": "warning", "name": "unit"})
    assert built.level == logging.WARNING
    assert built.name == "tocsin.console.unit"
    assert not built.propagate
    assert len(built.handlers) == 1
    with pytest.raises(DagsterInvalidConfigError, match="log_level"):
        console_logger.initialize({"log_level": 10}, name="console")
