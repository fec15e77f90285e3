"""Config schemas and the processing of config values against them.

A config schema says what an op, resource, logger or executor accepts as config. Users write
it in shorthand (``{"filename": str}``, ``[int]``) or with the explicit types here
(``Field``, ``Shape``, ``Permissive``, ``Selector``, ``Noneable``, ``Array``, ``Enum``,
``StringSource``/``IntSource``/``BoolSource``); ``convert_config_schema`` turns either into a
``ConfigType``. ``process_config`` checks a value against a schema, fills defaults, reads
environment variables (``{"env": "NAME"}`` and ``EnvVar``), and raises one
``DagsterInvalidConfigError`` that lists every problem with its dotted path.

The leaf types are defined in ``config_types``, the composite ones, ``Field`` and the
conversion in ``config_schema``; every name stays importable from here. Pydantic-backed
``Config`` classes live in ``config_class`` and are reached from here through the module
``__getattr__``, so importing this module does not import pydantic.
"""

from __future__ import annotations

import enum as _py_enum
from collections.abc import Mapping
from typing import Any

from tocsin.definitions.config_schema import Array as Array
from tocsin.definitions.config_schema import Field as Field
from tocsin.definitions.config_schema import HasConfigSchema as HasConfigSchema
from tocsin.definitions.config_schema import Map as Map
from tocsin.definitions.config_schema import Noneable as Noneable
from tocsin.definitions.config_schema import Permissive as Permissive
from tocsin.definitions.config_schema import Selector as Selector
from tocsin.definitions.config_schema import Shape as Shape
from tocsin.definitions.config_schema import _Fields
from tocsin.definitions.config_schema import convert_config_schema as convert_config_schema
from tocsin.definitions.config_schema import is_config_class as is_config_class
from tocsin.definitions.config_schema import to_field as to_field
from tocsin.definitions.config_types import NO_DEFAULT as NO_DEFAULT
from tocsin.definitions.config_types import AnyType as AnyType
from tocsin.definitions.config_types import Bool as Bool
from tocsin.definitions.config_types import BoolSource as BoolSource
from tocsin.definitions.config_types import ConfigType as ConfigType
from tocsin.definitions.config_types import Enum as Enum
from tocsin.definitions.config_types import EnumValue as EnumValue
from tocsin.definitions.config_types import EnvVar as EnvVar
from tocsin.definitions.config_types import Float as Float
from tocsin.definitions.config_types import Int as Int
from tocsin.definitions.config_types import IntEnvVar as IntEnvVar
from tocsin.definitions.config_types import IntSource as IntSource
from tocsin.definitions.config_types import String as String
from tocsin.definitions.config_types import StringSource as StringSource
from tocsin.definitions.config_types import _Pass
from tocsin.definitions.config_types import _show as _show
from tocsin.definitions.config_types import _where as _where
from tocsin.errors import DagsterInvalidConfigError, DagsterInvalidDefinitionError

__all__ = [
    "Array",
    "BoolSource",
    "ConfigType",
    "Enum",
    "EnumValue",
    "EnvVar",
    "Field",
    "IntSource",
    "Map",
    "Noneable",
    "Permissive",
    "RunConfig",
    "Selector",
    "Shape",
    "StringSource",
    "convert_config_schema",
    "is_config_class",
    "process_config",
    "to_field",
]

# --------------------------------------------------------------------------- processing


def process_config(
    schema: Any,
    value: Any,
    *,
    path: tuple[str, ...] = (),
    preamble: str = "Invalid config.",
) -> Any:
    """Validate ``value`` against ``schema``, fill defaults and read environment variables.

    Args:
        schema: anything ``convert_config_schema`` takes, or a ``Field``; None accepts any value.
        value: the config value. ``None`` counts as missing (so defaults apply).
        path: where the value sits in a larger config, prefixed to every error's path.
        preamble: the first line of the error message.

    Returns:
        The processed value: defaults filled, environment variables read, enums mapped.

    Raises:
        DagsterInvalidConfigError: with one message per problem.
    """
    if schema is None:
        return value
    field = to_field(schema)
    run = _Pass()
    path = tuple(path)
    if value is None:
        if field.default_provided:
            result = field._fill(path, run)
        elif isinstance(field.config_type, _Fields | Map):
            result = field.config_type._process({}, path, run)
        else:
            result = field.config_type._process(None, path, run)
    else:
        result = field.config_type._process(value, path, run)
    if run.errors:
        raise DagsterInvalidConfigError(preamble, errors=run.errors, config_value=value)
    return result


# --------------------------------------------------------------------------- run config


class RunConfig:
    """Run config built from python objects; ``to_config_dict()`` gives the plain dict.

    Args:
        ops: op name to a ``Config`` instance or a plain dict (``{"config": ...}``).
        resources: resource key to a ``Config`` instance or a plain dict.
        loggers: logger name to a plain dict.
        execution: the executor's config dict.
    """

    def __init__(
        self,
        ops: Mapping[str, Any] | None = None,
        resources: Mapping[str, Any] | None = None,
        loggers: Mapping[str, Any] | None = None,
        execution: Mapping[str, Any] | None = None,
    ):
        for name, arg in (("ops", ops), ("resources", resources), ("loggers", loggers)):
            if arg is not None and not isinstance(arg, Mapping):
                raise DagsterInvalidDefinitionError(
                    f"RunConfig({name}=...) takes a dict keyed by name, got {_show(arg)}."
                )
        if execution is not None and not isinstance(execution, Mapping):
            raise DagsterInvalidDefinitionError(
                f"RunConfig(execution=...) takes a dict, got {_show(execution)}."
            )
        self.ops = dict(ops or {})
        self.resources = dict(resources or {})
        self.loggers = dict(loggers or {})
        self.execution = dict(execution or {})

    def to_config_dict(self) -> dict[str, Any]:
        """The run config as plain dicts; ``Config`` objects become ``{"config": {...}}``."""
        return {
            "loggers": _plain(self.loggers),
            "resources": {k: _entry(v) for k, v in self.resources.items()},
            "ops": {k: _entry(v) for k, v in self.ops.items()},
            "execution": _plain(self.execution),
        }

    def __repr__(self) -> str:
        return f"RunConfig({self.to_config_dict()!r})"


def _entry(value: Any) -> Any:
    if hasattr(value, "_as_config_dict") and not isinstance(value, type):
        return {"config": value._as_config_dict()}
    return _plain(value)


def _plain(value: Any) -> Any:
    """Config objects, ``EnvVar``s and enum members in ``value`` turned into plain data."""
    if hasattr(value, "_as_config_dict") and not isinstance(value, type):
        return value._as_config_dict()
    if isinstance(value, EnvVar):
        return {"env": value.env_var_name}
    if isinstance(value, _py_enum.Enum):
        return value.name
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------- lazy pydantic part

_LAZY = {"Config", "PermissiveConfig", "config_to_instance"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from tocsin.definitions import config_class

        return getattr(config_class, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
