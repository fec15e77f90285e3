"""The leaf config types: scalars, environment-variable sources and enums.

``ConfigType`` is the base of every config type; ``_Pass`` collects the errors of one
processing pass with their dotted paths. ``EnvVar`` names an environment variable that config
reads at run time. The dict- and list-shaped types and ``Field`` build on these in
``config_schema``.
"""

from __future__ import annotations

import enum as _py_enum
import os
from collections.abc import Mapping, Sequence
from typing import Any

from tocsin.errors import DagsterInvalidDefinitionError

_MAX_SHOWN = 120
_MAX_DESCRIBED = 160


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


# --------------------------------------------------------------------------- environment


class EnvVar(str):
    """The name of an environment variable whose value config should use at run time.

    ``EnvVar("DB_PASSWORD")`` is a ``str`` holding the variable's *name*; config processing
    replaces it with the variable's value, and a variable that is not set is a config error.

    Args:
        name: the environment variable's name.
    """

    __slots__ = ()

    @classmethod
    def int(cls, name: str) -> IntEnvVar:
        """An environment variable read as an integer."""
        return IntEnvVar(name)

    @property
    def env_var_name(self) -> str:
        return str.__str__(self)

    def get_value(self, default: str | None = None) -> str | None:
        """The variable's current value, or ``default`` when it is not set."""
        return os.environ.get(self.env_var_name, default)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.env_var_name!r})"


class IntEnvVar(EnvVar):
    """An environment variable whose value is parsed as an integer."""

    __slots__ = ()

    def get_value(self, default: Any = None) -> Any:
        raw = os.environ.get(self.env_var_name)
        return default if raw is None else int(raw)


# --------------------------------------------------------------------------- processing state


class _Pass:
    """One processing pass: collects every error instead of stopping at the first."""

    def __init__(self, *, resolve_env: bool = True):
        self.errors: list[str] = []
        self.resolve_env = resolve_env

    def fail(self, path: tuple[str, ...], message: str) -> None:
        self.errors.append(f"{_where(path)}: {message}")


def _where(path: tuple[str, ...]) -> str:
    if not path:
        return "root"
    text = ""
    for part in path:
        text += part if part.startswith("[") or not text else "." + part
    return text


def _show(value: Any) -> str:
    text = repr(value)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 3] + "..."
    return f"{text} ({type(value).__name__})"


def _short(description: str) -> str:
    if len(description) > _MAX_DESCRIBED:
        return description[: _MAX_DESCRIBED - 4] + " ...}"
    return description


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


# --------------------------------------------------------------------------- types


class ConfigType:
    """Base of every config type. ``describe()`` is how error messages name it."""

    def describe(self) -> str:
        raise NotImplementedError

    @property
    def is_all_optional(self) -> bool:
        """Whether an empty value is complete (every field has a default or is optional)."""
        return False

    def _process(self, value: Any, path: tuple[str, ...], run: _Pass) -> Any:
        raise NotImplementedError

    def _fail_type(self, value: Any, path: tuple[str, ...], run: _Pass) -> Any:
        run.fail(path, f"expected {_short(self.describe())}, got {_show(value)}.")
        return value

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"


class _AnyType(ConfigType):
    def describe(self) -> str:
        return "Any"

    def _process(self, value: Any, path: tuple[str, ...], run: _Pass) -> Any:
        return value


class _Scalar(ConfigType):
    def __init__(self, name: str, article: str, check: Any, parse: Any):
        self.name = name
        self.article = article
        self._check = check
        self._parse = parse

    def describe(self) -> str:
        return self.name

    def _process(self, value: Any, path: tuple[str, ...], run: _Pass) -> Any:
        if isinstance(value, EnvVar):
            return self._from_env(value, value.env_var_name, path, run)
        if not self._check(value):
            return self._fail_type(value, path, run)
        return float(value) if self.name == "Float" else value

    def _from_env(self, original: Any, name: Any, path: tuple[str, ...], run: _Pass) -> Any:
        if not isinstance(name, str) or not name:
            run.fail(path, f"'env' must name an environment variable, got {_show(name)}.")
            return original
        if not run.resolve_env:
            return original
        raw = os.environ.get(name)
        if raw is None:
            run.fail(
                path,
                f"environment variable '{name}' is not set. Set it where the run executes, "
                "or give the value in the config directly.",
            )
            return None
        try:
            return self._parse(raw)
        except ValueError:
            run.fail(
                path, f"environment variable '{name}' is {raw!r}, which is not {self.article}."
            )
            return None


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no", ""):
        return False
    raise ValueError(raw)


Int = _Scalar("Int", "an Int", _is_int, lambda raw: int(raw.strip()))
Float = _Scalar("Float", "a Float", _is_number, lambda raw: float(raw.strip()))
String = _Scalar("String", "a String", lambda v: isinstance(v, str), lambda raw: raw)
Bool = _Scalar("Bool", "a Bool", lambda v: isinstance(v, bool), _parse_bool)
AnyType = _AnyType()


class _Source(ConfigType):
    """A scalar given literally or read from the environment with ``{"env": "NAME"}``."""

    def __init__(self, scalar: _Scalar):
        self.scalar = scalar

    def describe(self) -> str:
        return f"{self.scalar.name} | {{env: String}}"

    def _process(self, value: Any, path: tuple[str, ...], run: _Pass) -> Any:
        if isinstance(value, Mapping):
            if list(value) == ["env"]:
                return self.scalar._from_env(value, value["env"], path, run)
            run.fail(
                path,
                f"expected {self.describe()}, got {_show(value)}. To read an environment "
                "variable write {'env': 'VARIABLE_NAME'}.",
            )
            return value
        return self.scalar._process(value, path, run)


StringSource = _Source(String)
IntSource = _Source(Int)
BoolSource = _Source(Bool)


class EnumValue:
    """One value of an ``Enum``: written as ``config_value``, given to code as ``python_value``.

    Args:
        config_value: the string users write in config.
        python_value: what code receives (``config_value`` when omitted).
        description: shown in documentation.
    """

    def __init__(self, config_value: str, python_value: Any = None, description: str | None = None):
        if not isinstance(config_value, str):
            raise DagsterInvalidDefinitionError(
                f"EnumValue config_value must be a str, got {_show(config_value)}."
            )
        self.config_value = config_value
        self.python_value = config_value if python_value is None else python_value
        self.description = description

    def __repr__(self) -> str:
        return f"EnumValue({self.config_value!r})"


class Enum(ConfigType):
    """One of a fixed set of string values.

    Args:
        name: the enum's name, used in error messages.
        enum_values: the allowed ``EnumValue``s.
    """

    def __init__(self, name: str, enum_values: Sequence[EnumValue]):
        if not enum_values or not all(isinstance(v, EnumValue) for v in enum_values):
            raise DagsterInvalidDefinitionError(
                f"Enum {name!r} needs a non-empty list of EnumValue, got {enum_values!r}."
            )
        self.given_name = name
        self.enum_values = list(enum_values)
        self._by_config = {v.config_value: v for v in self.enum_values}

    @classmethod
    def from_python_enum(cls, enum_type: type[_py_enum.Enum]) -> Enum:
        """An Enum whose config values are the member names and python values the members."""
        return cls(enum_type.__name__, [EnumValue(m.name, python_value=m) for m in enum_type])

    @property
    def config_values(self) -> list[str]:
        return list(self._by_config)

    def describe(self) -> str:
        return f"{self.given_name} (one of {_quoted(self.config_values)})"

    def _process(self, value: Any, path: tuple[str, ...], run: _Pass) -> Any:
        if isinstance(value, _py_enum.Enum) and value.name in self._by_config:
            value = value.name
        if isinstance(value, str) and value in self._by_config:
            return self._by_config[value].python_value
        return self._fail_type(value, path, run)
