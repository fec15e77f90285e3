"""A step's inputs and outputs: loading what an op reads, recording what it returns.

``load_inputs`` gathers an op's input values (from upstream outputs through IO managers, or
from assets); ``handle_result`` turns what the op returned or yielded into stored outputs,
materializations and events. ``step`` calls both for each attempt.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tocsin.definitions.op import DynamicOutput, Output
from tocsin.errors import DagsterInvariantViolationError, DagsterStepOutputNotFoundError
from tocsin.execution.context import OpExecutionContext
from tocsin.execution.io_managers import InputContext, OutputContext
from tocsin.execution.plan import Source, Step
from tocsin.model.events import (
    AssetMaterialization,
    AssetObservation,
    AssetObservationData,
    DagsterEventType,
    StepMaterializationData,
    StepOutputData,
)
from tocsin.model.metadata import normalize_metadata

if TYPE_CHECKING:  # only named in annotations; step.py builds on this module
    from tocsin.execution.step import RunContext

ET = DagsterEventType

# ---------------------------------------------------------------------------- inputs


def load_inputs(
    ctx: RunContext, step: Step, sources: Mapping[str, list[Source]], context: Any
) -> dict[str, Any]:
    node = step.node
    op_def = node.op_def
    inputs: dict[str, Any] = {}
    config_inputs = ctx.resolved.op_inputs.get(node.handle, {})
    for name, spec in op_def.ins.items():
        if spec.is_nothing:
            continue
        srcs = sources.get(name)
        if srcs is not None:
            values = [_load_source(ctx, step, name, spec, src) for src in srcs]
            dep = node.dependencies[name]
            inputs[name] = values if _is_fan_in(dep) else values[0]
        elif name in config_inputs:
            inputs[name] = config_inputs[name]
        elif "." not in node.handle and name in ctx.job_def.input_values:
            inputs[name] = ctx.job_def.input_values[name]
        elif spec.asset_key is not None:
            inputs[name] = _load_asset(ctx, step, name, spec)
        elif spec.has_default_value:
            inputs[name] = spec.default_value
        else:
            raise DagsterInvariantViolationError(
                f"Input '{name}' of op '{node.handle}' has no upstream output, no config value "
                f"and no default. Provide it in run config at ops.{node.handle}.inputs.{name}."
            )
    return inputs


def _is_fan_in(dep: Any) -> bool:
    from tocsin.definitions.composition import (
        DynamicCollectDependencyDefinition,
        MultiDependencyDefinition,
    )

    return isinstance(dep, (MultiDependencyDefinition, DynamicCollectDependencyDefinition))


def _output_context(ctx: RunContext, src: Source) -> OutputContext:
    upstream = ctx.plan.by_handle[src.node_handle]
    out = upstream.op_def.outs[src.output_name]
    return OutputContext(
        step_key=src.step_key,
        name=src.output_name,
        job_name=ctx.job_name,
        run_id=ctx.run_id,
        metadata=out.metadata,
        mapping_key=src.mapping_key,
        dagster_type=out.dagster_type,
        log=ctx.log,
        resources=ctx.scoped_resources(upstream.op_def),
        asset_key=out.asset_key,
        partition_key=ctx.partition_key if out.asset_key is not None else None,
        op_def=upstream.op_def,
    )


def _load_source(ctx: RunContext, step: Step, name: str, spec: Any, src: Source) -> Any:
    upstream = ctx.plan.by_handle[src.node_handle]
    out = upstream.op_def.outs[src.output_name]
    if out.is_nothing:
        return None
    upstream_context = _output_context(ctx, src)
    key = spec.input_manager_key or out.io_manager_key
    input_context = InputContext(
        name=name,
        job_name=ctx.job_name,
        op_def=step.op_def,
        metadata=spec.metadata,
        upstream_output=upstream_context,
        dagster_type=spec.dagster_type,
        log=ctx.log,
        resources=ctx.scoped_resources(step.op_def),
        asset_key=spec.asset_key or out.asset_key,
        partition_key=ctx.partition_key,
    )
    value = ctx.io_manager(key).load_input(input_context)
    ctx.emit(
        ET.LOADED_INPUT,
        f'Loaded input "{name}" using input manager "{key}", from output '
        f'"{src.output_name}" of step "{src.step_key}"',
        step_key=step.key,
        node_name=step.node.handle,
    )
    return value


def _load_asset(ctx: RunContext, step: Step, name: str, spec: Any) -> Any:
    key = spec.input_manager_key or "io_manager"
    upstream = OutputContext(
        name="result",
        job_name=ctx.job_name,
        log=ctx.log,
        asset_key=spec.asset_key,
        partition_key=ctx.partition_key,
    )
    input_context = InputContext(
        name=name,
        job_name=ctx.job_name,
        op_def=step.op_def,
        metadata=spec.metadata,
        upstream_output=upstream,
        dagster_type=spec.dagster_type,
        log=ctx.log,
        resources=ctx.scoped_resources(step.op_def),
        asset_key=spec.asset_key,
        partition_key=ctx.partition_key,
    )
    value = ctx.io_manager(key).load_input(input_context)
    ctx.emit(
        ET.LOADED_INPUT,
        f'Loaded input "{name}" using input manager "{key}"',
        step_key=step.key,
        node_name=step.node.handle,
    )
    return value


# ---------------------------------------------------------------------------- outputs


def handle_result(
    ctx: RunContext, step: Step, context: OpExecutionContext, result: Any
) -> dict[str, list[str | None]]:
    op_def = step.op_def
    produced: dict[str, list[str | None]] = {}
    if inspect.isgenerator(result):
        for item in result:
            _drain_logged(ctx, step, context)
            _handle_item(ctx, step, context, item, produced)
    else:
        for item in _outputs_from_return(op_def, result):
            _handle_item(ctx, step, context, item, produced)
    _drain_logged(ctx, step, context)
    for name, out in op_def.outs.items():
        if out.is_required and not out.is_dynamic and name not in produced:
            raise DagsterStepOutputNotFoundError(
                f'Core compute for op "{op_def.name}" did not return an output for non-optional '
                f'output "{name}". Return or yield a value for it, or mark it '
                "Out(is_required=False)."
            )
    return produced


def _outputs_from_return(op_def: Any, result: Any) -> list[Any]:
    outs = op_def.outs
    if not outs:
        return []
    if len(outs) == 1:
        name, out = next(iter(outs.items()))
        if isinstance(result, Output):
            return [result]
        if out.is_dynamic and isinstance(result, (list, tuple)):
            return list(result)
        if result is None and not out.is_required:
            return []
        return [Output(result, name)]
    if result is None and not any(o.is_required for o in outs.values()):
        return []
    if not isinstance(result, tuple) or len(result) != len(outs):
        raise DagsterInvariantViolationError(
            f"Op '{op_def.name}' has {len(outs)} outputs {list(outs)}, so it must return a "
            f"tuple of {len(outs)} values (or yield Output objects); it returned {result!r}."
        )
    items = []
    for (name, _out), value in zip(outs.items(), result, strict=True):
        if isinstance(value, Output):
            if value.output_name != name:
                raise DagsterInvariantViolationError(
                    f"Op '{op_def.name}' returned Output(output_name={value.output_name!r}) in "
                    f"the position of output '{name}'."
                )
            items.append(value)
        else:
            items.append(Output(value, name))
    return items


def _drain_logged(ctx: RunContext, step: Step, context: OpExecutionContext) -> None:
    events = context._data.events
    if events:
        for event in events:
            _record_asset_event(ctx, step, event)
        events.clear()


def _record_asset_event(ctx: RunContext, step: Step, event: Any) -> None:
    if isinstance(event, AssetObservation):
        ctx.emit(
            ET.ASSET_OBSERVATION,
            f"Observed {event.asset_key.to_user_string()}",
            step_key=step.key,
            node_name=step.node.handle,
            data=AssetObservationData(event),
        )
    else:
        ctx.emit(
            ET.ASSET_MATERIALIZATION,
            f"Materialized value {event.asset_key.to_user_string()}.",
            step_key=step.key,
            node_name=step.node.handle,
            data=StepMaterializationData(event),
        )


def _handle_item(
    ctx: RunContext,
    step: Step,
    context: OpExecutionContext,
    item: Any,
    produced: dict[str, list[str | None]],
) -> None:
    op_def = step.op_def
    if isinstance(item, (AssetMaterialization, AssetObservation)):
        _record_asset_event(ctx, step, item)
        return
    if not isinstance(item, Output):
        raise DagsterInvariantViolationError(
            f'Compute function for op "{op_def.name}" yielded a value of type '
            f"{type(item).__name__} rather than an Output, DynamicOutput, AssetMaterialization "
            "or AssetObservation. Wrap it: yield Output(value, output_name=...)."
        )
    out = op_def.outs.get(item.output_name)
    if out is None:
        raise DagsterInvariantViolationError(
            f'Op "{op_def.name}" has no output named "{item.output_name}" '
            f"(outputs: {list(op_def.outs)})."
        )
    mapping_key = item.mapping_key if isinstance(item, DynamicOutput) else None
    if out.is_dynamic != (mapping_key is not None):
        kind = (
            "a DynamicOut; yield DynamicOutput" if out.is_dynamic else "not dynamic; yield Output"
        )
        raise DagsterInvariantViolationError(
            f'Output "{item.output_name}" of op "{op_def.name}" is {kind} values.'
        )
    keys = produced.setdefault(item.output_name, [])
    if mapping_key in keys:
        what = f"mapping key '{mapping_key}'" if mapping_key else "a value"
        raise DagsterInvariantViolationError(
            f'Compute for op "{op_def.name}" returned {what} for output "{item.output_name}" '
            "more than once."
        )
    keys.append(mapping_key)
    _emit_output(ctx, step, context, item, out, mapping_key)


def _emit_output(
    ctx: RunContext,
    step: Step,
    context: OpExecutionContext,
    item: Output,
    out: Any,
    mapping_key: str | None,
) -> None:
    node = step.node
    name = item.output_name
    ctx.emit(
        ET.STEP_OUTPUT,
        f'Yielded output "{name}" of type "Any". (Type check passed).',
        step_key=step.key,
        node_name=node.handle,
        data=StepOutputData(name, mapping_key),
    )
    output_context = _output_context(ctx, Source(step.key, node.handle, name, mapping_key))
    skip_io = out.is_nothing or (
        item.value is None and getattr(item, "_tocsin_materialize_result", None) is not None
    )
    if not skip_io:
        ctx.io_manager(out.io_manager_key).handle_output(output_context, item.value)
        ctx.emit(
            ET.HANDLED_OUTPUT,
            f'Handled output "{name}" using IO manager "{out.io_manager_key}"',
            step_key=step.key,
            node_name=node.handle,
        )
    _capture(ctx, step, name, mapping_key, item.value)
    if out.asset_key is not None:
        metadata = dict(item.metadata)
        metadata.update(normalize_metadata(context._data.output_metadata.get((name, mapping_key))))
        metadata.update(output_context.get_logged_metadata())
        materialization = AssetMaterialization(
            out.asset_key, metadata=metadata, partition=ctx.partition_key, tags=item.tags or None
        )
        _record_asset_event(ctx, step, materialization)


def _capture(ctx: RunContext, step: Step, name: str, mapping_key: str | None, value: Any) -> None:
    capture = ctx.output_capture
    if capture is None:
        return
    key = (step.node.handle, name)
    if mapping_key is not None or step.mapping_key is not None:
        capture.setdefault(key, {})[mapping_key or step.mapping_key] = value
    else:
        capture[key] = value
