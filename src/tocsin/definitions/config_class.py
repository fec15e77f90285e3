"""``Config`` classes: config schemas written as pydantic models.

An op, asset or resource that takes a ``Config`` subclass as a parameter gets its config
schema from the class's annotations (``to_config_schema``), and the processed run config
back as an instance of the class (``config_to_instance``). Instances are immutable.

This module imports pydantic; ``tocsin.definitions.config`` reaches it lazily.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import pydantic
from pydantic_core import PydanticUndefined

from tocsin.definitions.config import (
    NO_DEFAULT,
    AnyType,
    Array,
    BoolSource,
    ConfigType,
    Enum,
    EnumValue,
    EnvVar,
    Field,
    Float,
    IntSource,
    Map,
    Noneable,
    Permissive,
    Shape,
    StringSource,
    _plain,
    _show,
    _where,
)
from tocsin.errors import (
    DagsterInvalidConfigError,
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
)

__all__ = ["Config", "PermissiveConfig", "config_to_instance"]

_SCALARS: dict[Any, ConfigType] = {
    str: StringSource,
    int: IntSource,
    bool: BoolSource,
    float: Float,
    typing.Any: AnyType,
}


class Config(pydantic.BaseModel):
    """Base class for config schemas written as classes.

    Subclass it and annotate fields (``str``, ``int``, ``float``, ``bool``, enums, lists and
    dicts of these, ``Optional[...]``, other ``Config`` classes); defaults and
    ``pydantic.Field(description=...)`` work as in pydantic. String, int and bool fields also
    accept ``EnvVar("NAME")``, read from the environment when the run config is processed.
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    def __init__(self, **data: Any):
        # pydantic turns str subclasses into plain str; keep EnvVars so that the run config
        # built from this object still says where the value comes from.
        env_vars = {k: v for k, v in data.items() if isinstance(v, EnvVar)}
        super().__init__(**data)
        for key, value in env_vars.items():
            if key in type(self).model_fields:
                self.__dict__[key] = value

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            super().__setattr__(name, value)
            return
        raise DagsterInvalidInvocationError(
            f"'{type(self).__name__}' is a config class and its instances are immutable; "
            f"cannot set '{name}'. Build a new one, e.g. obj.model_copy(update={{'{name}': ...}})."
        )

    @classmethod
    def to_config_schema(cls) -> Shape:
        """The ``Shape`` (``Permissive`` for ``PermissiveConfig``) that run config must match."""
        fields = {
            (info.alias or name): _field_for(cls, name, info)
            for name, info in cls.model_fields.items()
        }
        if cls.model_config.get("extra") == "allow":
            return Permissive(fields)
        return Shape(fields)

    def _as_config_dict(self) -> dict[str, Any]:
        """This object as a run-config dict (``EnvVar`` -> ``{"env": ...}``, enums by name)."""
        out: dict[str, Any] = {}
        for name, info in type(self).model_fields.items():
            value = self.__dict__.get(name)
            if value is not None:
                out[info.alias or name] = _plain(value)
        for key, value in (self.model_extra or {}).items():
            out[key] = _plain(value)
        return out


class PermissiveConfig(Config):
    """A ``Config`` class that also accepts keys it does not declare."""

    model_config = pydantic.ConfigDict(extra="allow")


def config_to_instance(cls: type[Config], processed: Any, *, path: tuple[str, ...] = ()) -> Any:
    """Build an instance of ``cls`` from a processed config dict.

    Args:
        cls: the ``Config`` subclass.
        processed: the output of ``process_config(cls, ...)`` (None counts as ``{}``).
        path: where the config sits in the run config, for error messages.

    Raises:
        DagsterInvalidConfigError: the class's own pydantic validation rejected the values.
    """
    if processed is None:
        processed = {}
    if not isinstance(processed, Mapping):
        raise DagsterInvalidConfigError(
            f"Config for {cls.__name__} must be a dict.",
            errors=[f"{_where(path)}: expected a dict, got {_show(processed)}."],
            config_value=processed,
        )
    try:
        return cls(**processed)
    except pydantic.ValidationError as exc:
        errors = [
            f"{_where((*path, *(str(p) for p in err['loc'])))}: {err['msg']} "
            f"(got {_show(err.get('input'))})."
            for err in exc.errors()
        ]
        raise DagsterInvalidConfigError(
            f"Config for {cls.__name__} was rejected by its validators.",
            errors=errors,
            config_value=processed,
        ) from exc


def _field_for(cls: type[Config], name: str, info: Any) -> Field:
    where = f"{cls.__name__}.{name}"
    config_type = _type_for(info.annotation, where)
    default: Any = NO_DEFAULT
    if info.default is not PydanticUndefined:
        default = _plain(info.default)
    elif info.default_factory is not None:
        default = _plain(info.default_factory())
    elif isinstance(config_type, Noneable):
        default = None
    if default is None and not isinstance(config_type, Noneable):
        config_type = Noneable(config_type)
    try:
        return Field(config_type, default_value=default, description=info.description)
    except DagsterInvalidDefinitionError as exc:
        raise DagsterInvalidDefinitionError(f"{where}: {exc}") from exc


def _type_for(annotation: Any, where: str) -> ConfigType:
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if isinstance(annotation, type):
        if issubclass(annotation, Config):
            return annotation.to_config_schema()
        if issubclass(annotation, enum.Enum):
            return Enum.from_python_enum(annotation)
        if annotation is list:
            return Array(AnyType)
        if annotation is dict:
            return Permissive()
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_for(args[0], where)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            return Noneable(_type_for(rest[0], where))
    if origin is typing.Literal and all(isinstance(a, str) for a in args):
        return Enum(where, [EnumValue(a) for a in args])
    if origin in (list, Sequence, tuple) and len(args) == 1:
        return Array(_type_for(args[0], where))
    if origin in (dict, Mapping) and len(args) == 2 and args[0] is str:
        return Map(str, _type_for(args[1], where))
    raise DagsterInvalidDefinitionError(
        f"{where}: the type {annotation!r} cannot be used in config. Use str, int, float, "
        "bool, an enum, a Literal of strings, list[...] or dict[str, ...] of these, "
        "Optional[...], or another Config class."
    )
