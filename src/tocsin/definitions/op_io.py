"""What an op takes and gives: ``In``, ``Out``, ``Output``, ``DynamicOutput`` and ``Nothing``.

Also ``check_valid_name``, the rule every definition name follows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tocsin.errors import CheckError, DagsterInvalidDefinitionError
from tocsin.model.asset_key import AssetKey
from tocsin.model.metadata import normalize_metadata

_VALID_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def check_valid_name(name: str, what: str = "name") -> str:
    """Return ``name`` if it is a valid definition name, else raise saying how to fix it."""
    if not isinstance(name, str) or not _VALID_NAME.match(name):
        raise DagsterInvalidDefinitionError(
            f'"{name}" is not a valid {what}. Names must be in regex ^[A-Za-z0-9_]+$ '
            "(letters, digits and underscores)."
        )
    return name


class _NoValue:
    def __repr__(self) -> str:
        return "NoValue"


NO_VALUE: Any = _NoValue()


class Nothing:
    """The type of an input or output that carries no value, only an ordering dependency."""


def is_nothing(dagster_type: Any) -> bool:
    return dagster_type is Nothing or dagster_type is type(None)


class In:
    """Describes an op input.

    Args:
        dagster_type: the expected type (a Python type, ``Nothing`` or None for any).
        description: free text.
        default_value: used when the input has no upstream.
        metadata: free-form metadata.
        asset_key: load this asset through the IO manager when the input has no upstream.
        input_manager_key: the resource key of the manager that loads the input.
    """

    def __init__(
        self,
        dagster_type: Any = None,
        description: str | None = None,
        default_value: Any = NO_VALUE,
        metadata: Mapping[str, Any] | None = None,
        asset_key: Any = None,
        input_manager_key: str | None = None,
        asset_partitions: Any = None,
    ):
        self.dagster_type = dagster_type
        self.description = description
        self.default_value = default_value
        self.metadata = dict(metadata or {})
        self.asset_key = None if asset_key is None else AssetKey.from_coercible(asset_key)
        self.input_manager_key = input_manager_key
        self.asset_partitions = asset_partitions

    @property
    def has_default_value(self) -> bool:
        return self.default_value is not NO_VALUE

    @property
    def is_nothing(self) -> bool:
        return is_nothing(self.dagster_type)

    def __repr__(self) -> str:
        return f"In(dagster_type={self.dagster_type!r}, asset_key={self.asset_key!r})"


class Out:
    """Describes an op output.

    Args:
        dagster_type: the expected type (a Python type, ``Nothing`` or None for any).
        description: free text.
        is_required: whether the op must produce this output.
        io_manager_key: the resource key of the IO manager that stores it.
        metadata: metadata attached to every value of this output.
        asset_key: when set, handling the output records an asset materialization.
    """

    is_dynamic = False

    def __init__(
        self,
        dagster_type: Any = None,
        description: str | None = None,
        is_required: bool = True,
        io_manager_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        asset_key: Any = None,
        code_version: str | None = None,
    ):
        self.dagster_type = dagster_type
        self.description = description
        self.is_required = is_required
        self.io_manager_key = io_manager_key or "io_manager"
        self.metadata = dict(metadata or {})
        self.asset_key = None if asset_key is None else AssetKey.from_coercible(asset_key)
        self.code_version = code_version

    @property
    def is_nothing(self) -> bool:
        return is_nothing(self.dagster_type)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(dagster_type={self.dagster_type!r}, "
            f"is_required={self.is_required}, io_manager_key={self.io_manager_key!r})"
        )


class DynamicOut(Out):
    """An output that yields any number of ``DynamicOutput`` values, each with a mapping key."""

    is_dynamic = True


class Output:
    """A value an op produces for one of its outputs, with optional metadata.

    Args:
        value: the value.
        output_name: which output (``"result"`` for a single-output op).
        metadata: metadata recorded with the output (and its materialization, if any).
    """

    def __init__(
        self,
        value: Any = None,
        output_name: str = "result",
        metadata: Mapping[str, Any] | None = None,
        data_version: Any = None,
        tags: Mapping[str, str] | None = None,
    ):
        if not isinstance(output_name, str):
            raise CheckError(f"Output output_name must be a str, got {output_name!r}.")
        self.value = value
        self.output_name = output_name
        self.metadata = normalize_metadata(metadata)
        self.data_version = data_version
        self.tags = dict(tags or {})

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and other.value == self.value  # type: ignore[attr-defined]
            and other.output_name == self.output_name  # type: ignore[attr-defined]
            and other.metadata == self.metadata  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.output_name))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r}, output_name={self.output_name!r})"


class DynamicOutput(Output):
    """One value of a ``DynamicOut``; downstream mapped steps run once per mapping key."""

    def __init__(
        self,
        value: Any,
        mapping_key: str,
        output_name: str = "result",
        metadata: Mapping[str, Any] | None = None,
    ):
        if not isinstance(mapping_key, str) or not _VALID_NAME.match(mapping_key):
            raise DagsterInvalidDefinitionError(
                f"DynamicOutput mapping_key {mapping_key!r} is not valid: use letters, digits "
                "and underscores only (regex ^[A-Za-z0-9_]+$)."
            )
        super().__init__(value, output_name, metadata)
        self.mapping_key = mapping_key

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and other.mapping_key == self.mapping_key  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.output_name, self.mapping_key))
