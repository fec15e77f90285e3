"""tocsin: sensors, schedules and a daemon that turns what they ask for into runs, exactly once.

Every public name is listed in ``_EXPORTS`` below, grouped by layer, and loaded on first
access, so ``import tocsin`` costs almost nothing and user code pays only for what it uses.
The names are the reference's (``sensor``, ``RunRequest``, ``DagsterInstance``, ...), so
moving user code over means changing its import line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # errors
    "DagsterError": "tocsin.errors",
    "DagsterExecutionInterruptedError": "tocsin.errors",
    "DagsterExecutionStepExecutionError": "tocsin.errors",
    "DagsterHomeNotSetError": "tocsin.errors",
    "DagsterInvalidConfigError": "tocsin.errors",
    "DagsterInvalidDefinitionError": "tocsin.errors",
    "DagsterInvalidInvocationError": "tocsin.errors",
    "DagsterInvariantViolationError": "tocsin.errors",
    "DagsterResourceFunctionError": "tocsin.errors",
    "DagsterRunNotFoundError": "tocsin.errors",
    "DagsterStepOutputNotFoundError": "tocsin.errors",
    "DagsterUnknownPartitionError": "tocsin.errors",
    "DagsterUnknownResourceError": "tocsin.errors",
    "DagsterUserCodeExecutionError": "tocsin.errors",
    "Failure": "tocsin.errors",
    "RetryRequested": "tocsin.errors",
    "user_code_error_boundary": "tocsin.errors",
    # model: runs, events, asset keys, metadata
    "AssetKey": "tocsin.model.asset_key",
    "AssetMaterialization": "tocsin.model.events",
    "AssetObservation": "tocsin.model.events",
    "DagsterEvent": "tocsin.model.events",
    "DagsterEventType": "tocsin.model.events",
    "DagsterRun": "tocsin.model.run",
    "DagsterRunStatus": "tocsin.model.run",
    "EventLogEntry": "tocsin.model.events",
    "EventLogRecord": "tocsin.model.events",
    "EventRecordsFilter": "tocsin.model.events",
    "MetadataValue": "tocsin.model.metadata",
    "RunRecord": "tocsin.model.run",
    "RunsFilter": "tocsin.model.run",
    # definitions: config
    "Array": "tocsin.definitions.config_schema",
    "BoolSource": "tocsin.definitions.config_types",
    "Config": "tocsin.definitions.config",
    "Enum": "tocsin.definitions.config_types",
    "EnumValue": "tocsin.definitions.config_types",
    "EnvVar": "tocsin.definitions.config_types",
    "Field": "tocsin.definitions.config_schema",
    "IntSource": "tocsin.definitions.config_types",
    "Map": "tocsin.definitions.config_schema",
    "Noneable": "tocsin.definitions.config_schema",
    "Permissive": "tocsin.definitions.config_schema",
    "PermissiveConfig": "tocsin.definitions.config",
    "RunConfig": "tocsin.definitions.config",
    "Selector": "tocsin.definitions.config_schema",
    "Shape": "tocsin.definitions.config_schema",
    "StringSource": "tocsin.definitions.config_types",
    # definitions: ops, graphs, jobs
    "Backoff": "tocsin.definitions.op",
    "DynamicOut": "tocsin.definitions.op_io",
    "DynamicOutput": "tocsin.definitions.op_io",
    "DependencyDefinition": "tocsin.definitions.composition",
    "GraphDefinition": "tocsin.definitions.graph",
    "MultiDependencyDefinition": "tocsin.definitions.composition",
    "NodeInvocation": "tocsin.definitions.composition",
    "In": "tocsin.definitions.op_io",
    "Jitter": "tocsin.definitions.op",
    "JobDefinition": "tocsin.definitions.job",
    "Nothing": "tocsin.definitions.op_io",
    "OpDefinition": "tocsin.definitions.op",
    "Out": "tocsin.definitions.op_io",
    "Output": "tocsin.definitions.op_io",
    "RetryPolicy": "tocsin.definitions.op",
    "graph": "tocsin.definitions.graph",
    "job": "tocsin.definitions.job",
    "op": "tocsin.definitions.op",
    "validate_run_config": "tocsin.definitions.job",
    # definitions: seed-era spellings
    "FileHandle": "tocsin.definitions.legacy",
    "LocalFileHandle": "tocsin.definitions.legacy",
    "ModeDefinition": "tocsin.definitions.legacy",
    "local_file_manager": "tocsin.definitions.legacy",
    "pipeline": "tocsin.definitions.legacy",
    "solid": "tocsin.definitions.legacy",
    # definitions: resources
    "ConfigurableIOManager": "tocsin.definitions.resources",
    "ConfigurableResource": "tocsin.definitions.resources",
    "InitResourceContext": "tocsin.definitions.resources",
    "ResourceDefinition": "tocsin.definitions.resources",
    "ResourceParam": "tocsin.definitions.resources",
    "build_init_resource_context": "tocsin.definitions.resources",
    "build_resources": "tocsin.definitions.resources",
    "resource": "tocsin.definitions.resources",
    # definitions: assets
    "AssetIn": "tocsin.definitions.asset_spec",
    "AssetOut": "tocsin.definitions.asset_spec",
    "AssetSelection": "tocsin.definitions.asset_selection",
    "AssetSpec": "tocsin.definitions.asset_spec",
    "AssetsDefinition": "tocsin.definitions.assets_definition",
    "MaterializeResult": "tocsin.definitions.asset_spec",
    "SourceAsset": "tocsin.definitions.asset_spec",
    "asset": "tocsin.definitions.asset",
    "define_asset_job": "tocsin.definitions.asset_job",
    "multi_asset": "tocsin.definitions.asset",
    # definitions: partitions
    "DailyPartitionsDefinition": "tocsin.definitions.time_window_partitions",
    "DynamicPartitionsDefinition": "tocsin.definitions.partitions_definition",
    "HourlyPartitionsDefinition": "tocsin.definitions.time_window_partitions",
    "MonthlyPartitionsDefinition": "tocsin.definitions.time_window_partitions",
    "PartitionKeyRange": "tocsin.definitions.partitions_definition",
    "PartitionsDefinition": "tocsin.definitions.partitions_definition",
    "StaticPartitionsDefinition": "tocsin.definitions.partitions_definition",
    "TimeWindow": "tocsin.definitions.partitions_definition",
    "TimeWindowPartitionsDefinition": "tocsin.definitions.time_window_partitions",
    "WeeklyPartitionsDefinition": "tocsin.definitions.time_window_partitions",
    # definitions: loggers, Definitions
    "DagsterLogManager": "tocsin.definitions.logger",
    "Definitions": "tocsin.definitions.definitions",
    "InitLoggerContext": "tocsin.definitions.logger",
    "build_init_logger_context": "tocsin.definitions.logger",
    "LoggerDefinition": "tocsin.definitions.logger",
    "logger": "tocsin.definitions.logger",
    # execution
    "AssetExecutionContext": "tocsin.execution.context",
    "ExecuteInProcessResult": "tocsin.execution.result",
    "Executor": "tocsin.execution.executors",
    "ExecutorDefinition": "tocsin.execution.executors",
    "IOManager": "tocsin.execution.io_managers",
    "IOManagerDefinition": "tocsin.execution.io_managers",
    "InitExecutorContext": "tocsin.execution.executors",
    "InputContext": "tocsin.execution.io_managers",
    "OpExecutionContext": "tocsin.execution.context",
    "OutputContext": "tocsin.execution.io_managers",
    "build_asset_context": "tocsin.execution.context",
    "build_op_context": "tocsin.execution.context",
    "executor": "tocsin.execution.executors",
    "fs_io_manager": "tocsin.execution.io_managers",
    "in_process_executor": "tocsin.execution.executors",
    "io_manager": "tocsin.execution.io_managers",
    "materialize": "tocsin.execution.materialize",
    "materialize_to_memory": "tocsin.execution.materialize",
    "mem_io_manager": "tocsin.execution.io_managers",
    "multiprocess_executor": "tocsin.execution.executors",
    # instance
    "DagsterInstance": "tocsin.instance.instance",
    "Instance": "tocsin.instance.instance",
    # automation: sensors and schedules
    "AddDynamicPartitionsRequest": "tocsin.automation.results",
    "DefaultScheduleStatus": "tocsin.automation.schedule",
    "DefaultSensorStatus": "tocsin.automation.sensor",
    "DeleteDynamicPartitionsRequest": "tocsin.automation.results",
    "RunRequest": "tocsin.automation.results",
    "ScheduleDefinition": "tocsin.automation.schedule",
    "ScheduleEvaluationContext": "tocsin.automation.context",
    "SensorDefinition": "tocsin.automation.sensor",
    "SensorEvaluationContext": "tocsin.automation.context",
    "SensorResult": "tocsin.automation.results",
    "SkipReason": "tocsin.automation.results",
    "build_schedule_context": "tocsin.automation.context",
    "build_schedule_from_partitioned_job": "tocsin.automation.partitioned_schedule",
    "build_sensor_context": "tocsin.automation.context",
    "schedule": "tocsin.automation.schedule",
    "sensor": "tocsin.automation.sensor",
    # automation: tocsin's daylight-saving policy for schedules
    "DstPolicy": "tocsin.cron",
    # automation: asset sensors
    "AssetSensorDefinition": "tocsin.automation.asset_sensor",
    "MultiAssetSensorDefinition": "tocsin.automation.multi_asset_sensor",
    "MultiAssetSensorEvaluationContext": "tocsin.automation.multi_asset_context",
    "asset_sensor": "tocsin.automation.asset_sensor",
    "build_multi_asset_sensor_context": "tocsin.automation.multi_asset_context",
    "multi_asset_sensor": "tocsin.automation.multi_asset_sensor",
    # automation: run status sensors
    "CodeLocationSelector": "tocsin.automation.run_status_sensor",
    "JobSelector": "tocsin.automation.run_status_sensor",
    "RepositorySelector": "tocsin.automation.run_status_sensor",
    "RunFailureSensorContext": "tocsin.automation.run_status_sensor",
    "RunStatusSensorContext": "tocsin.automation.run_status_sensor",
    "RunStatusSensorDefinition": "tocsin.automation.run_status_definition",
    "build_run_status_sensor_context": "tocsin.automation.run_status_sensor",
    "make_email_on_run_failure_sensor": "tocsin.automation.run_status_sensor",
    "run_failure_sensor": "tocsin.automation.run_status_sensor",
    "run_status_sensor": "tocsin.automation.run_status_sensor",
    # automation: declarative automation (kept as data)
    "AutoMaterializePolicy": "tocsin.automation.auto_materialize",
    "AutoMaterializeRule": "tocsin.automation.auto_materialize",
    "AutomationCondition": "tocsin.automation.automation_condition",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'tocsin' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*globals(), *__all__]


if TYPE_CHECKING:  # pragma: no cover - static view of the lazy exports
    from tocsin.errors import *  # noqa: F403
