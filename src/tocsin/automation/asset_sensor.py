"""Asset sensors: call a function when an asset has a new materialization.

The cursor is the storage id of the last materialization the sensor handed to its function
(as a string). Each tick asks the instance for the newest materialization of the asset after
that id (one indexed query, ``limit=1``); if several happened since the last tick, the function
sees only the newest and the cursor moves past all of them. With nothing new the tick skips
with ``No new materialization events found for asset key AssetKey([...])``.

The function takes ``(context, asset_event)`` -- the first two parameters that are not
resources -- where ``asset_event`` is the ``EventLogEntry`` of the materialization, with its
``storage_id`` set.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from tocsin.automation._invocation import FunctionParams, inspect_params, resolve_direct_call
from tocsin.automation.results import RunRequest, SensorResult, SkipReason
from tocsin.automation.sensor import DefaultSensorStatus, SensorDefinition
from tocsin.errors import CheckError, DagsterInvalidDefinitionError
from tocsin.model.asset_key import AssetKey
from tocsin.model.events import DagsterEventType, EventRecordsFilter


def _cursor_storage_id(cursor: str | None) -> int | None:
    """The storage id in an asset sensor cursor; anything unreadable means "from the start"."""
    if not cursor:
        return None
    try:
        return int(cursor)
    except ValueError:
        return None


def _coerce_asset_key(asset_key: Any) -> AssetKey:
    try:
        return AssetKey.from_coercible(asset_key)
    except CheckError:
        raise CheckError(
            f"asset_sensor: asset_key must be an AssetKey (or a str / list of str), got "
            f"{asset_key!r} of type {type(asset_key).__name__}."
        ) from None


class AssetSensorDefinition(SensorDefinition):
    """A sensor that reacts to new materializations of one asset. Use ``@asset_sensor``.

    Args:
        name: the sensor's name.
        asset_key: the asset to watch.
        job_name / job / jobs: what its RunRequests target.
        asset_materialization_fn: ``fn(context, asset_event)``, returning RunRequests, a
            SkipReason or a SensorResult.
        minimum_interval_seconds, description, default_status, required_resource_keys,
        tags, metadata: as for ``SensorDefinition``.
    """

    def __init__(
        self,
        name: str,
        asset_key: Any,
        job_name: str | None,
        asset_materialization_fn: Callable[..., Any],
        minimum_interval_seconds: int | None = None,
        description: str | None = None,
        job: Any = None,
        jobs: Sequence[Any] | None = None,
        default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
        required_resource_keys: set[str] | None = None,
        tags: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ):
        if not callable(asset_materialization_fn):
            raise CheckError(
                f"asset_sensor must decorate a function, got {asset_materialization_fn!r}."
            )
        self._asset_key = _coerce_asset_key(asset_key)
        self._materialization_fn = asset_materialization_fn
        super().__init__(
            name=name,
            evaluation_fn=asset_materialization_fn,
            job_name=job_name,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            job=job,
            jobs=jobs,
            default_status=default_status,
            required_resource_keys=required_resource_keys,
            tags=tags,
            metadata=metadata,
        )

    @property
    def asset_key(self) -> AssetKey:
        return self._asset_key

    @property
    def sensor_type(self) -> str:
        return "ASSET"

    def _inspect_params(self, fn: Callable[..., Any]) -> FunctionParams:
        params = inspect_params(fn)
        names = [
            n
            for n, p in inspect.signature(fn).parameters.items()
            if n not in params.resource_params and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        self._event_param = names[1] if len(names) > 1 else None
        return params

    def _wrap_evaluation_fn(self, fn: Callable[..., Any]) -> Callable[[Any], Any]:
        def evaluation(context: Any) -> Iterator[Any]:
            return self._evaluate(context)

        return evaluation

    def _evaluate(self, context: Any) -> Iterator[Any]:
        after = _cursor_storage_id(context.cursor)
        records = context.instance.get_event_records(
            EventRecordsFilter(
                DagsterEventType.ASSET_MATERIALIZATION,
                asset_key=self._asset_key,
                after_cursor=after,
            ),
            limit=1,
            ascending=False,
        )
        if not records:
            yield SkipReason(f"No new materialization events found for asset key {self._asset_key}")
            return
        record = records[0]
        entry = record.event_log_entry
        if entry.storage_id is None:
            entry = entry.with_storage_id(record.storage_id)
        result = self._call_user_fn(context, entry)
        if inspect.isgenerator(result) or isinstance(result, list):
            yield from result
        elif isinstance(result, (RunRequest, SkipReason, SensorResult)):
            yield result
        elif result is not None:
            yield result  # the normalizer names the wrong type
        context.update_cursor(str(record.storage_id))

    def _call_user_fn(self, context: Any, entry: Any) -> Any:
        keys = sorted(self._required_resource_keys)
        resources: Any = context.resources if keys else None
        for key in keys:
            if key not in resources:
                raise DagsterInvalidDefinitionError(
                    f"Resource with key '{key}' required by sensor '{self.name}' was not provided."
                )
        kwargs = {key: getattr(resources, key) for key in self._params.resource_params}
        if self._params.context_param is not None:
            kwargs[self._params.context_param] = context
        if self._event_param is not None:
            kwargs[self._event_param] = entry
        return self._materialization_fn(**kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run one evaluation against ``context.instance``: returns a generator, for tests.

        Consuming the generator queries the instance for the newest materialization after the
        context's cursor, calls the function with it and moves the context's cursor.
        """
        params = FunctionParams(
            self._params.context_param or "context", self._params.resource_params
        )
        context, resources = resolve_direct_call(
            self._kind, params, args, kwargs, self._context_type, self._default_context
        )
        context._with_resources(resources)
        return self._evaluate(context)


def asset_sensor(
    asset_key: Any,
    *,
    job_name: str | None = None,
    name: str | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    job: Any = None,
    jobs: Sequence[Any] | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    required_resource_keys: set[str] | None = None,
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], AssetSensorDefinition]:
    """Decorate ``fn(context, asset_event)`` to call it for new materializations of an asset.

    Args:
        asset_key: the asset to watch (``AssetKey``, or a str / list of str).
        job_name / job / jobs: what RunRequests target.
        name: the sensor's name (default: the function's name).
        minimum_interval_seconds, description, default_status, required_resource_keys,
        tags, metadata: as for ``@sensor``.
    """
    key = _coerce_asset_key(asset_key)

    def inner(fn: Callable[..., Any]) -> AssetSensorDefinition:
        return AssetSensorDefinition(
            name=name or str(getattr(fn, "__name__", "")),
            asset_key=key,
            job_name=job_name,
            asset_materialization_fn=fn,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            job=job,
            jobs=jobs,
            default_status=default_status,
            required_resource_keys=required_resource_keys,
            tags=tags,
            metadata=metadata,
        )

    return inner
