"""Plugins: classes named in tocsin.yaml as ``module``/``class``/``config`` and built from it.

This is the only place that imports a class by name. A plugin class is a
``ConfigurableClass``: it says what config it takes (``config_type()``) and builds itself from
the validated value (``from_config_value(inst_data, config_value)``), remembering where it came
from (``inst_data``) so that an instance can be re-opened in another process.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tocsin.errors import ConfigError


@dataclass(frozen=True)
class ConfigurableClassData:
    """Where to find a plugin class and the config to build it with.

    Args:
        module_name: the module that defines the class, e.g. ``"tocsin.core.storage.runs"``.
        class_name: the class name in that module.
        config_yaml: the config, as YAML text or as an already-parsed mapping.
    """

    module_name: str
    class_name: str
    config_yaml: Any = field(default_factory=dict)

    @property
    def config_dict(self) -> dict[str, Any]:
        value = self.config_yaml
        if isinstance(value, str):
            import yaml

            value = yaml.safe_load(value)
        return dict(value or {})

    def info_dict(self) -> dict[str, Any]:
        return {"module": self.module_name, "class": self.class_name, "config": self.config_dict}

    def load_class(self) -> type:
        """Import the class.

        Raises:
            ConfigError: the module does not import or does not define the class.
        """
        return load_class(self.module_name, self.class_name)

    def rehydrate(self, as_type: type | None = None) -> Any:
        """Build the object this data describes.

        Args:
            as_type: if given, the object must be an instance of it.

        Raises:
            ConfigError: the class cannot be loaded, is not a ConfigurableClass, rejects its
                config, or builds an object of the wrong kind.
        """
        klass = self.load_class()
        where = f"{self.module_name}.{self.class_name}"
        if not (isinstance(klass, type) and issubclass(klass, ConfigurableClass)):
            raise ConfigError(
                f"{where} is not a ConfigurableClass: a plugin class must subclass "
                "tocsin.serdes.ConfigurableClass and define config_type() and from_config_value()."
            )
        config = _validate(klass, self.config_dict, where)
        obj = klass.from_config_value(self, config)
        if as_type is not None and not isinstance(obj, as_type):
            raise ConfigError(f"{where} built a {type(obj).__name__}, not a {as_type.__name__}.")
        return obj


def load_class(module_name: str, class_name: str) -> type:
    """Import ``module_name`` and return its attribute ``class_name``.

    Raises:
        ConfigError: naming the module and the import error, or the missing class.
    """
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigError(
            f"module {module_name!r} could not be imported: {type(exc).__name__}: {exc}. "
            "Check the 'module' key and that the package is installed."
        ) from exc
    try:
        return getattr(module, class_name)  # type: ignore[no-any-return]
    except AttributeError:
        raise ConfigError(
            f"module {module_name!r} has no class {class_name!r}. Check the 'class' key."
        ) from None


def _validate(klass: type[ConfigurableClass], value: dict[str, Any], where: str) -> Any:
    schema = klass.config_type()
    if schema is None:
        return value
    try:
        from tocsin.definitions.config import process_config
    except ImportError:  # config processing lands with the definitions layer
        return value
    try:
        return process_config(schema, value, preamble=f"Invalid config for {where}")
    except Exception as exc:
        raise ConfigError(f"{exc}") from exc


class ConfigurableClass(ABC):
    """A class that can be named in tocsin.yaml and built from its config.

    Subclasses define ``config_type()`` (a config schema, or None for "any mapping") and
    ``from_config_value(inst_data, config_value)``, and expose ``inst_data``.
    """

    _inst_data: ConfigurableClassData | None = None

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        """The data this object was built from, if it was built from config."""
        return self._inst_data

    @classmethod
    def config_type(cls) -> Any:
        """The schema of this class's config (None accepts any mapping)."""
        return None

    @classmethod
    @abstractmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> Any:
        """Build the object from its validated config."""


def class_data_for(obj: Any) -> ConfigurableClassData | None:
    """The ``ConfigurableClassData`` an object was built from, if any."""
    data = getattr(obj, "inst_data", None)
    return data if isinstance(data, ConfigurableClassData) else None
