"""Composite config types, ``Field``, and the conversion of shorthand schemas.

``Array``, ``Noneable``, ``Map``, ``Shape``, ``Permissive`` and ``Selector`` hold other
schemas; ``convert_config_schema`` turns any accepted spelling (``{"a": int}``, ``[str]``,
``Field(...)``, a ``Config`` class) into a ``ConfigType``. They refer to each other, so they
live together; the leaf types they hold are in ``config_types``.
"""

from __future__ import annotations

import copy
import difflib
import enum as _py_enum
import sys
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from tocsin.definitions.config_types import (
    NO_DEFAULT,
    AnyType,
    Bool,
    ConfigType,
    Enum,
    Float,
    Int,
    String,
    _Pass,
    _quoted,
    _Scalar,
    _short,
    _show,
)
from tocsin.errors import DagsterInvalidDefinitionError


class Array(ConfigType):
    """A list whose every element matches ``inner_type``."""

    def __init__(self, inner_type: Any):
        self.inner_type = convert_config_schema(inner_type, _what="Array element")

    def describe(self) -> str:
        return f"[{self.inner_type.describe()}]"

    def _process(self, value: Any, path: tuple[str, ...], run: _Pass) -> Any:
        if not isinstance(value, list | tuple):
            return self._fail_type(value, path, run)
        return [self.inner_type._process(v, (*path, f"[{i}]"), run) for i, v in enumerate(value)]


class Noneable(ConfigType):
    """``inner_type`` or ``None``; a field of this type is optional and defaults to None."""

    def __init__(self, inner_type: Any):
        self.inner_type = convert_config_schema(inner_type, _what="Noneable inner type")

    def describe(self) -> str:
        return f"{self.inner_type.describe()} | None"

    def _process(self, value: Any, path: tuple[str, ...], run: _Pass) -> Any:
        return None if value is None else self.inner_type._process(value, path, run)


class Map(ConfigType):
    """A dict with arbitrary keys of ``key_type`` and values of ``inner_type``."""

    def __init__(self, key_type: Any, inner_type: Any, key_label_name: str | None = None):
        keys = {str: String, int: Int, float: Float, bool: Bool}
        resolved = keys.get(key_type, key_type)
        if not isinstance(resolved, _Scalar):
            raise DagsterInvalidDefinitionError(
                f"Map keys must be str, int, float or bool, got {key_type!r}."
            )
        self.key_type = resolved
        self.inner_type = convert_config_schema(inner_type, _what="Map value type")
        self.key_label_name = key_label_name

    def describe(self) -> str:
        return f"{{{self.key_type.describe()}: {self.inner_type.describe()}}}"

    def _process(self, value: Any, path: tuple[str, ...], run: _Pass) -> Any:
        if not isinstance(value, Mapping):
            return self._fail_type(value, path, run)
        out = {}
        for key, item in value.items():
            if not self.key_type._check(key):
                run.fail(path, f"key {_show(key)} is not {self.key_type.article}.")
            out[key] = self.inner_type._process(item, (*path, str(key)), run)
        return out


class _Fields(ConfigType):
    """Shared behaviour of the dict-shaped types (Shape, Permissive, Selector)."""

    def __init__(self, fields: Mapping[str, Any] | None, description: str | None = None):
        if fields is not None and not isinstance(fields, Mapping):
            raise DagsterInvalidDefinitionError(
                f"{type(self).__name__} takes a dict of field name to schema, got {_show(fields)}."
            )
        self.fields: dict[str, Field] = {}
        for name, schema in (fields or {}).items():
            if not isinstance(name, str):
                raise DagsterInvalidDefinitionError(
                    f"Config field names must be strings, got {_show(name)} in "
                    f"{type(self).__name__}."
                )
            self.fields[name] = to_field(schema, _what=f"field '{name}'")
        self.description = description

    def _describe_fields(self, sep: str) -> str:
        parts = [
            f"{n}{'' if f.is_required else '?'}: {f.config_type.describe()}"
            for n, f in self.fields.items()
        ]
        return sep.join(parts)

    def _unexpected(self, key: Any, path: tuple[str, ...], run: _Pass) -> None:
        allowed = list(self.fields)
        message = f"unexpected field {key!r}."
        close = difflib.get_close_matches(str(key), allowed, n=1) if allowed else []
        if close:
            message += f" Did you mean {close[0]!r}?"
        if allowed:
            message += f" Fields allowed here: {_quoted(allowed)}."
        else:
            message += " No fields are allowed here."
        run.fail(path, message)

    def _process_fields(self, value: Any, path: tuple[str, ...], run: _Pass, extra: bool) -> Any:
        if not isinstance(value, Mapping):
            return self._fail_type(value, path, run)
        out: dict[Any, Any] = {}
        for name, field in self.fields.items():
            sub = (*path, name)
            if name in value:
                if value[name] is None and field.default_provided:
                    out[name] = field._fill(sub, run)
                else:
                    out[name] = field.config_type._process(value[name], sub, run)
            elif field.default_provided:
                out[name] = field._fill(sub, run)
            elif field.is_required:
                expected = _short(field.config_type.describe())
                run.fail(path, f"missing required field {name!r} (expected {expected}).")
        for key, item in value.items():
            if key in self.fields:
                continue
            if extra:
                out[key] = item
            else:
                self._unexpected(key, path, run)
        return out


class Shape(_Fields):
    """A dict with the given fields; unknown keys are errors.

    Args:
        fields: field name to schema (a ``Field`` or anything ``convert_config_schema`` takes).
        description: shown in documentation.
    """

    @property
    def is_all_optional(self) -> bool:
        return all(not f.is_required for f in self.fields.values())

    def describe(self) -> str:
        return "{" + self._describe_fields(", ") + "}"

    def _process(self, value: Any, path: tuple[str, ...], run: _Pass) -> Any:
        return self._process_fields(value, path, run, extra=False)


class Permissive(Shape):
    """A dict with the given fields that also keeps any other keys, unchecked."""

    def __init__(self, fields: Mapping[str, Any] | None = None, description: str | None = None):
        super().__init__(fields, description)

    def describe(self) -> str:
        inner = self._describe_fields(", ")
        return "{" + (inner + ", " if inner else "") + "...}"

    def _process(self, value: Any, path: tuple[str, ...], run: _Pass) -> Any:
        return self._process_fields(value, path, run, extra=True)


class Selector(_Fields):
    """A dict with exactly one of the given fields, for choosing one of several options."""

    def __init__(self, fields: Mapping[str, Any], description: str | None = None):
        super().__init__(fields, description)
        if not self.fields:
            raise DagsterInvalidDefinitionError("Selector needs at least one field.")

    @property
    def is_all_optional(self) -> bool:
        return len(self.fields) == 1 and not next(iter(self.fields.values())).is_required

    def describe(self) -> str:
        return "one of {" + self._describe_fields(" | ") + "}"

    def _process(self, value: Any, path: tuple[str, ...], run: _Pass) -> Any:
        if not isinstance(value, Mapping):
            return self._fail_type(value, path, run)
        names = _quoted(list(self.fields))
        if not value:
            if self.is_all_optional:
                name, field = next(iter(self.fields.items()))
                return {name: field._fill((*path, name), run)}
            run.fail(path, f"expected exactly one of {names}, got none.")
            return value
        if len(value) > 1:
            run.fail(
                path, f"expected exactly one of {names}, got {len(value)}: {_quoted(list(value))}."
            )
            return value
        ((key, item),) = value.items()
        if key not in self.fields:
            self._unexpected(key, path, run)
            return value
        field = self.fields[key]
        sub = (*path, key)
        if item is None and field.default_provided:
            return {key: field._fill(sub, run)}
        return {key: field.config_type._process(item, sub, run)}


# --------------------------------------------------------------------------- fields


class Field:
    """A config type with whether it is required, its default and a description.

    Args:
        config: the field's schema (anything ``convert_config_schema`` takes).
        default_value: used when the value is missing; makes the field optional.
        is_required: defaults to True unless there is a default or the type accepts an
            empty value (Noneable, or a Shape whose fields are all optional).
        description: shown in documentation.
    """

    def __init__(
        self,
        config: Any,
        default_value: Any = NO_DEFAULT,
        is_required: bool | None = None,
        description: str | None = None,
    ):
        if isinstance(config, Field):
            raise DagsterInvalidDefinitionError(
                "Field(...) was given another Field; pass the config type instead."
            )
        config_type = convert_config_schema(config, _what="Field")
        if isinstance(config_type, _FieldType):  # a Field that went through conversion
            inner = config_type.field
            config_type = inner.config_type
            if default_value is NO_DEFAULT and is_required is None:
                default_value = inner.default_value
                is_required = None if inner.default_provided else inner.is_required
            description = description or inner.description
        self.config_type: ConfigType = config_type
        self.description: str | None = description
        has_default = default_value is not NO_DEFAULT
        if is_required and has_default:
            raise DagsterInvalidDefinitionError(
                f"A required Field cannot have a default_value (got {_show(default_value)}). "
                "Drop is_required=True or the default."
            )
        if has_default:
            self._check_default(default_value)
        elif is_required is not True:
            default_value = self._implicit_default()
        self.default_value: Any = default_value
        self.is_required: bool = (
            is_required if is_required is not None else default_value is NO_DEFAULT
        )

    @property
    def default_provided(self) -> bool:
        return self.default_value is not NO_DEFAULT

    def _implicit_default(self) -> Any:
        if isinstance(self.config_type, Noneable):
            return None
        if isinstance(self.config_type, _Fields) and self.config_type.is_all_optional:
            return {}
        return NO_DEFAULT

    def _check_default(self, default: Any) -> None:
        run = _Pass(resolve_env=False)
        self.config_type._process(copy.deepcopy(default), (), run)
        if run.errors:
            raise DagsterInvalidDefinitionError(
                f"Invalid default_value {_show(default)} for a Field of type "
                f"{self.config_type.describe()}:\n" + "\n".join(f"    {e}" for e in run.errors)
            )

    def _fill(self, path: tuple[str, ...], run: _Pass) -> Any:
        value = copy.deepcopy(self.default_value)
        if value is None and not isinstance(self.config_type, Noneable):
            return None
        return self.config_type._process(value, path, run)

    def __repr__(self) -> str:
        extra = "" if not self.default_provided else f", default_value={self.default_value!r}"
        return f"Field({self.config_type.describe()}{extra}, is_required={self.is_required})"


class _FieldType(ConfigType):
    """A converted ``Field`` whose default or optionality must survive conversion.

    ``convert_config_schema(Field(int, default_value=3))`` returns one, so that processing
    the converted schema still fills 3 when the value is missing.
    """

    def __init__(self, field: Field):
        self.field = field

    @property
    def is_all_optional(self) -> bool:
        return not self.field.is_required

    def describe(self) -> str:
        return self.field.config_type.describe()

    def _process(self, value: Any, path: tuple[str, ...], run: _Pass) -> Any:
        return self.field.config_type._process(value, path, run)


# --------------------------------------------------------------------------- conversion

_PYTHON_TYPES: dict[Any, ConfigType] = {
    int: Int,
    float: Float,
    str: String,
    bool: Bool,
    typing.Any: AnyType,
}


def is_config_class(obj: Any) -> bool:
    """Whether ``obj`` is a ``Config`` subclass (without importing pydantic)."""
    module = sys.modules.get("tocsin.definitions.config_class")
    return module is not None and isinstance(obj, type) and issubclass(obj, module.Config)


def convert_config_schema(schema: Any, *, _what: str = "config schema") -> Any:
    """Turn a config schema in any accepted spelling into a ``ConfigType``.

    Args:
        schema: a python type (``str``, ``int``, ``float``, ``bool``, ``list``, ``dict``,
            ``typing.Any``), ``{"name": schema}``, ``[schema]``, ``{str: schema}``, a
            ``Field``, a ``Config`` subclass or a ``ConfigType``; ``None`` means no schema.

    Returns:
        The ``ConfigType``, or ``None`` when ``schema`` is None (any value is accepted).

    Raises:
        DagsterInvalidDefinitionError: ``schema`` is not a config schema.
    """
    if schema is None:
        return None
    if isinstance(schema, ConfigType):
        return schema
    if isinstance(schema, Field):
        plain = Field(schema.config_type)
        if (plain.is_required, plain.default_value) == (schema.is_required, schema.default_value):
            return schema.config_type
        return _FieldType(schema)
    if is_config_class(schema):
        return schema.to_config_schema()
    if isinstance(schema, type) and issubclass(schema, _py_enum.Enum):
        return Enum.from_python_enum(schema)
    if _is_hashable(schema) and schema in _PYTHON_TYPES:
        return _PYTHON_TYPES[schema]
    if schema is dict:
        return Permissive()
    if schema is list:
        return Array(AnyType)
    if isinstance(schema, Mapping):
        return _convert_mapping(schema, _what)
    if isinstance(schema, list):
        if len(schema) != 1:
            raise DagsterInvalidDefinitionError(
                f"List shorthand for {_what} must hold exactly one element type, like [str]; "
                f"got {schema!r}."
            )
        return Array(schema[0])
    converted = _convert_generic(schema)
    if converted is not None:
        return converted
    raise DagsterInvalidDefinitionError(
        f"Invalid {_what}: {_show(schema)} is not a config schema. Use a python type (str, "
        "int, float, bool, list, dict), a dict of field schemas, [type], Field, Shape, "
        "Permissive, Selector, Noneable, Array, Enum or a Config class."
    )


def _is_hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _convert_mapping(schema: Mapping[Any, Any], what: str) -> ConfigType:
    keys = list(schema)
    if len(keys) == 1 and keys[0] in (str, int, float, bool):
        return Map(keys[0], schema[keys[0]])
    return Shape(schema)


def _convert_generic(schema: Any) -> ConfigType | None:
    origin = typing.get_origin(schema)
    args = typing.get_args(schema)
    if origin in (list, Sequence) and len(args) == 1:
        return Array(args[0])
    if origin in (dict, Mapping) and len(args) == 2:
        return Map(args[0], args[1])
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return Noneable(rest[0])
    return None


class HasConfigSchema:
    """A definition with a ``config_schema``; ``config_type`` converts it once, on first use."""

    config_schema: Any
    _converted: tuple[Any] | None = None

    def _convert_config_schema(self) -> Any:
        """The config type (None means any value); subclasses with a fixed schema override it."""
        return None if self.config_schema is None else convert_config_schema(self.config_schema)

    @property
    def config_type(self) -> Any:
        if self._converted is None:
            self._converted = (self._convert_config_schema(),)
        return self._converted[0]


def to_field(schema: Any, *, _what: str = "config schema") -> Field:
    """``schema`` as a ``Field`` (a ``Field`` is returned as is); composes run-config schemas."""
    if isinstance(schema, Field):
        return schema
    if isinstance(schema, _FieldType):
        return schema.field
    if schema is None:
        return Field(AnyType, is_required=False)
    return Field(convert_config_schema(schema, _what=_what))
