"""What sensor and schedule functions return: run requests, skip reasons and sensor results.

All of these are immutable values. They check their arguments when built, so a wrong type is
reported where the user wrote it, not later inside the daemon.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tocsin.automation import _check
from tocsin.errors import CheckError
from tocsin.model.asset_key import AssetKey
from tocsin.model.tags import PARTITION_NAME_TAG


def normalize_tags(tags: Any, name: str = "tags") -> dict[str, str]:
    """Check that ``tags`` is a str-keyed mapping and turn its values into strings.

    Strings stay as they are; anything else is JSON-encoded (``1`` -> ``"1"``,
    ``None`` -> ``"null"``, ``{"x": 1}`` -> ``'{"x": 1}'``).
    """
    result: dict[str, str] = {}
    for key, value in _check.opt_mapping(tags, name).items():
        if not isinstance(key, str):
            raise CheckError(f"Key in Mapping mismatches type. Expected {str}. Got {key!r}")
        result[key] = value if isinstance(value, str) else json.dumps(value, default=str)
    return result


def _run_config_dict(run_config: Any) -> dict[str, Any]:
    if run_config is not None and callable(getattr(run_config, "to_config_dict", None)):
        return dict(run_config.to_config_dict())
    return _check.opt_mapping(run_config, "run_config")


def _asset_keys(value: Any, name: str) -> list[AssetKey] | None:
    keys = _check.opt_sequence(value, name)
    if keys is None:
        return None
    return [k if isinstance(k, AssetKey) else AssetKey(k) for k in keys]


@dataclass(frozen=True, init=False)
class RunRequest:
    """A request for one run, returned by a sensor or schedule function.

    Args:
        run_key: identifies the request: a sensor makes at most one run per run key.
            None means "always make a run".
        run_config: the run's config, a mapping or a ``RunConfig``.
        tags: tags for the run; non-string values are JSON-encoded.
        job_name: which of the instigator's jobs to run (needed when it targets several).
        asset_selection: asset keys to materialize, instead of the whole job.
        stale_assets_only: materialize only the stale assets of ``asset_selection``.
        partition_key: the partition to run.
        asset_check_keys: asset checks to run.
        asset_graph_subset: an explicit asset graph subset (kept as data).
    """

    run_key: str | None
    run_config: dict[str, Any]
    tags: dict[str, str]
    job_name: str | None
    asset_selection: list[AssetKey] | None
    stale_assets_only: bool
    partition_key: str | None
    asset_check_keys: list[Any] | None
    asset_graph_subset: Any

    def __init__(
        self,
        run_key: str | None = None,
        run_config: Any = None,
        tags: Mapping[str, Any] | None = None,
        job_name: str | None = None,
        asset_selection: Sequence[Any] | None = None,
        stale_assets_only: bool = False,
        partition_key: str | None = None,
        asset_check_keys: Sequence[Any] | None = None,
        asset_graph_subset: Any = None,
    ):
        values = {
            "run_key": _check.opt_str(run_key, "run_key"),
            "run_config": _run_config_dict(run_config),
            "tags": normalize_tags(tags),
            "job_name": _check.opt_str(job_name, "job_name"),
            "asset_selection": _asset_keys(asset_selection, "asset_selection"),
            "stale_assets_only": bool(stale_assets_only),
            "partition_key": _check.opt_str(partition_key, "partition_key"),
            "asset_check_keys": _check.opt_sequence(asset_check_keys, "asset_check_keys"),
            "asset_graph_subset": asset_graph_subset,
        }
        for key, value in values.items():
            object.__setattr__(self, key, value)

    def with_replaced_attrs(self, **kwargs: Any) -> RunRequest:
        """A copy with some fields replaced (the arguments are checked again)."""
        return replace(self, **kwargs)

    def with_tags(self, tags: Mapping[str, str]) -> RunRequest:
        """A copy whose tags are these tags merged over the request's own."""
        merged = {**self.tags, **normalize_tags(tags)}
        # The other fields were checked when this request was built: only the tags change.
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        object.__setattr__(new, "tags", merged)
        return new

    def with_partition_tag(self) -> RunRequest:
        """A copy carrying the ``dagster/partition`` tag when the request has a partition."""
        if self.partition_key is None:
            return self
        return self.with_tags({PARTITION_NAME_TAG: self.partition_key})

    def to_dict(self) -> dict[str, Any]:
        """Plain data for storage; ``from_dict`` reads it back."""
        return {
            "run_key": self.run_key,
            "run_config": self.run_config,
            "tags": self.tags,
            "job_name": self.job_name,
            "asset_selection": None
            if self.asset_selection is None
            else [list(k.path) for k in self.asset_selection],  # type: ignore[attr-defined]
            "stale_assets_only": self.stale_assets_only,
            "partition_key": self.partition_key,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> RunRequest:
        return RunRequest(**{k: v for k, v in data.items() if k in _RUN_REQUEST_FIELDS})


_RUN_REQUEST_FIELDS = frozenset(
    [
        *("run_key", "run_config", "tags", "job_name", "asset_selection", "stale_assets_only"),
        *("partition_key", "asset_check_keys", "asset_graph_subset"),
    ]
)


@dataclass(frozen=True)
class SkipReason:
    """Says why a sensor or schedule requested no run; shown on the tick.

    Args:
        skip_message: the reason, or None.
    """

    skip_message: str | None = None

    def __post_init__(self) -> None:
        _check.opt_str(self.skip_message, "skip_message")


@dataclass(frozen=True)
class AddDynamicPartitionsRequest:
    """Ask the instance to add keys to a dynamic partitions definition.

    Args:
        partitions_def_name: the ``DynamicPartitionsDefinition``'s name.
        partition_keys: the keys to add.
    """

    partitions_def_name: str
    partition_keys: Sequence[str]

    def __post_init__(self) -> None:
        _check_partitions_request(self)


@dataclass(frozen=True)
class DeleteDynamicPartitionsRequest:
    """Ask the instance to delete keys from a dynamic partitions definition.

    Args:
        partitions_def_name: the ``DynamicPartitionsDefinition``'s name.
        partition_keys: the keys to delete.
    """

    partitions_def_name: str
    partition_keys: Sequence[str]

    def __post_init__(self) -> None:
        _check_partitions_request(self)


def _check_partitions_request(
    request: AddDynamicPartitionsRequest | DeleteDynamicPartitionsRequest,
) -> None:
    if not isinstance(request.partitions_def_name, str):
        _check.opt_str(request.partitions_def_name, "partitions_def_name")
    keys = _check.opt_sequence(request.partition_keys, "partition_keys") or []
    for key in keys:
        if not isinstance(key, str):
            raise CheckError(
                f"Member of list mismatches type. Expected {str}. Got {key!r} of type {type(key)}."
            )
    object.__setattr__(request, "partition_keys", list(keys))


@dataclass(frozen=True)
class DagsterRunReaction:
    """A run status sensor's report that it acted on a run (internal).

    Args:
        dagster_run: the run that was acted on (None when the sensor only skipped).
        error: a ``SerializableErrorInfo`` when the sensor failed on that run.
        run_status: the status that was acted on.
    """

    dagster_run: Any = None
    error: Any = None
    run_status: Any = None


_REQUEST_TYPES = (AddDynamicPartitionsRequest, DeleteDynamicPartitionsRequest)


@dataclass(frozen=True, init=False)
class SensorResult:
    """Everything one sensor evaluation produced, returned as one value.

    Args:
        run_requests: runs to request.
        skip_reason: why no run was requested (a str or a ``SkipReason``).
        cursor: the new cursor.
        dynamic_partitions_requests: partition keys to add or delete.
        asset_events: asset materializations / observations to record.
        automation_condition_evaluations: kept as data.
    """

    run_requests: list[RunRequest]
    skip_reason: SkipReason | None
    cursor: str | None
    dynamic_partitions_requests: list[Any]
    asset_events: list[Any]
    automation_condition_evaluations: list[Any] = field(default_factory=list)

    def __init__(
        self,
        run_requests: Sequence[RunRequest] | None = None,
        skip_reason: str | SkipReason | None = None,
        cursor: str | None = None,
        dynamic_partitions_requests: Sequence[Any] | None = None,
        asset_events: Sequence[Any] | None = None,
        automation_condition_evaluations: Sequence[Any] | None = None,
    ):
        requests = _check.opt_sequence(run_requests, "run_requests")
        for request in requests or []:
            if not isinstance(request, RunRequest):
                raise _check.list_member_mismatch(request, RunRequest)
        skip = SkipReason(skip_reason) if isinstance(skip_reason, str) else skip_reason
        if skip is not None and not isinstance(skip, SkipReason):
            raise _check.not_one_of(skip, ["SkipReason", "str"])
        if requests and skip is not None:
            raise _check.failed(
                "Expected a single skip reason or one or more run requests: received values "
                "for both run_requests and skip_reason"
            )
        partitions = _check.opt_sequence(dynamic_partitions_requests, "dynamic_partitions_requests")
        for request in partitions or []:
            if not isinstance(request, _REQUEST_TYPES):
                raise _check.list_member_mismatch(request, _REQUEST_TYPES)
        values = {
            "run_requests": requests or [],
            "skip_reason": skip,
            "cursor": _check.opt_str(cursor, "cursor"),
            "dynamic_partitions_requests": partitions or [],
            "asset_events": _check.opt_sequence(asset_events, "asset_events") or [],
            "automation_condition_evaluations": _check.opt_sequence(
                automation_condition_evaluations, "automation_condition_evaluations"
            )
            or [],
        }
        for key, value in values.items():
            object.__setattr__(self, key, value)
