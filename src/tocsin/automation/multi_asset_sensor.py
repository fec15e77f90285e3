"""Multi-asset sensors: one function that watches the materializations of several assets.

``MultiAssetSensorDefinition`` and the ``@multi_asset_sensor`` decorator. What the function
reads and how its cursor works is described in ``multi_asset_context``, which defines
``MultiAssetSensorEvaluationContext``; it stays importable from here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any

from tocsin.automation._invocation import call_with_context, resolve_direct_call
from tocsin.automation.multi_asset_context import (
    MultiAssetSensorEvaluationContext as MultiAssetSensorEvaluationContext,
)
from tocsin.automation.multi_asset_context import (
    build_multi_asset_sensor_context as build_multi_asset_sensor_context,
)
from tocsin.automation.multi_asset_context import resolve_monitored
from tocsin.automation.sensor import DefaultSensorStatus, SensorDefinition


class MultiAssetSensorDefinition(SensorDefinition):
    """A sensor over the materializations of several assets. Use ``@multi_asset_sensor``.

    Args:
        name: the sensor's name.
        monitored_assets: asset keys or an ``AssetSelection``.
        job_name / job / jobs / request_assets: what its RunRequests target.
        asset_materialization_fn: ``fn(context)`` with a ``MultiAssetSensorEvaluationContext``.
    """

    _context_type = MultiAssetSensorEvaluationContext

    def __init__(
        self,
        name: str,
        monitored_assets: Any,
        job_name: str | None,
        asset_materialization_fn: Callable[..., Any],
        minimum_interval_seconds: int | None = None,
        description: str | None = None,
        job: Any = None,
        jobs: Sequence[Any] | None = None,
        default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
        request_assets: Any = None,
        required_resource_keys: set[str] | None = None,
        tags: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ):
        names = {c.__name__ for c in type(monitored_assets).__mro__}
        if "AssetSelection" not in names:
            resolve_monitored(monitored_assets, None)  # check the keys now, not at tick time
        self._monitored_assets = monitored_assets
        super().__init__(
            name=name,
            evaluation_fn=asset_materialization_fn,
            job_name=job_name,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            job=job,
            jobs=jobs,
            default_status=default_status,
            asset_selection=request_assets,
            required_resource_keys=required_resource_keys,
            tags=tags,
            metadata=metadata,
        )

    @property
    def monitored_assets(self) -> Any:
        return self._monitored_assets

    @property
    def sensor_type(self) -> str:
        return "MULTI_ASSET"

    def _as_multi_context(self, context: Any) -> MultiAssetSensorEvaluationContext:
        if isinstance(context, MultiAssetSensorEvaluationContext):
            return context
        multi = MultiAssetSensorEvaluationContext(
            instance_ref=context.instance_ref,
            last_tick_completion_time=context.last_tick_completion_time,
            last_run_key=context.last_run_key,
            cursor=context.cursor,
            repository_name=context.repository_name,
            repository_def=context._repository_def,
            monitored_assets=self._monitored_assets,
            instance=context._instance,
            resource_defs=context.resource_defs,
            definitions=context.definitions,
            last_sensor_start_time=context.last_sensor_start_time,
            sensor_name=context.sensor_name,
        )
        # share the tick's log, resources and scope, so lines and teardown land on the tick
        multi._log = context.log
        multi._resources = context._resources
        multi._stack = context._stack
        return multi

    def _wrap_evaluation_fn(self, fn: Callable[..., Any]) -> Callable[[Any], Any]:
        def evaluation(context: Any) -> list[Any]:
            multi = self._as_multi_context(context)
            raw = call_with_context(
                fn, self._params, multi, self._required_resource_keys, self._kind, self._name
            )
            items = _drain(raw)
            multi.update_cursor_after_evaluation()
            if multi is not context and multi.cursor_updated:
                context.update_cursor(multi.cursor)
            return items

        return evaluation

    def _default_context(self) -> Any:
        return None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the raw function with a ``MultiAssetSensorEvaluationContext``, for tests.

        The context's cursor is updated afterwards (after a returned generator is consumed),
        so calling again with the same context sees only newer materializations.
        """
        context, resources = resolve_direct_call(
            self._kind, self._params, args, kwargs, self._context_type, self._default_context
        )
        if context is None:
            return self._raw_fn()
        context._with_resources(resources)
        raw = call_with_context(
            self._raw_fn,
            self._params,
            context,
            self._required_resource_keys,
            self._kind,
            self._name,
        )
        if inspect.isgenerator(raw):
            return _then_update(raw, context)
        context.update_cursor_after_evaluation()
        return raw


def _drain(raw: Any) -> list[Any]:
    if inspect.isgenerator(raw):
        items = []
        while True:
            try:
                items.append(next(raw))
            except StopIteration as stop:
                if stop.value is not None:
                    items.append(stop.value)
                return items
    if isinstance(raw, list):
        return raw
    return [] if raw is None else [raw]


def _then_update(gen: Generator[Any, Any, Any], context: Any) -> Generator[Any, Any, Any]:
    result: Any = yield from gen
    context.update_cursor_after_evaluation()
    return result


def multi_asset_sensor(
    monitored_assets: Any,
    *,
    job_name: str | None = None,
    name: str | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    job: Any = None,
    jobs: Sequence[Any] | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    request_assets: Any = None,
    required_resource_keys: set[str] | None = None,
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], MultiAssetSensorDefinition]:
    """Decorate ``fn(context)`` to watch the materializations of several assets.

    Args:
        monitored_assets: asset keys (or str / list of str) or an ``AssetSelection``.
        job_name / job / jobs / request_assets: what RunRequests target.
        name, minimum_interval_seconds, description, default_status, required_resource_keys,
        tags, metadata: as for ``@sensor``.
    """

    def inner(fn: Callable[..., Any]) -> MultiAssetSensorDefinition:
        return MultiAssetSensorDefinition(
            name=name or str(getattr(fn, "__name__", "")),
            monitored_assets=monitored_assets,
            job_name=job_name,
            asset_materialization_fn=fn,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            job=job,
            jobs=jobs,
            default_status=default_status,
            request_assets=request_assets,
            required_resource_keys=required_resource_keys,
            tags=tags,
            metadata=metadata,
        )

    return inner
