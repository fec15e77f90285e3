"""``ConfigurableResource``: a resource written as a pydantic ``Config`` class.

Its fields are the resource's config: values given when the object is built are defaults
that run config (``resources: {key: {config: ...}}``) may override, and ``EnvVar`` values
are read when the run starts. The object itself is the resource; ``setup_for_execution``
and ``teardown_after_execution`` run around the run. Loaded only when used (pydantic).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, ClassVar

from tocsin.definitions.config import process_config
from tocsin.definitions.config_class import Config, config_to_instance
from tocsin.definitions.resources import InitResourceContext, ResourceDefinition


class ConfigurableResource(Config):
    """Base class for resources declared as config classes.

    Example:
        class Database(ConfigurableResource):
            url: str

        @op
        def query(db: Database): ...
    """

    _tocsin_is_resource: ClassVar[bool] = True

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Called before the run uses this resource."""

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        """Called when the run ends, whether it succeeded or not."""

    @contextlib.contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[Any]:
        self.setup_for_execution(context)
        try:
            yield self
        finally:
            self.teardown_after_execution(context)

    def get_resource_definition(self) -> ResourceDefinition:
        return ConfigurableResourceDefinition(type(self), self)

    @classmethod
    def configure_at_launch(cls) -> ResourceDefinition:
        """A resource whose whole config comes from run config at launch."""
        return ConfigurableResourceDefinition(cls, None)

    @classmethod
    def from_resource_context(cls, context: InitResourceContext) -> Any:
        return cls(**(context.resource_config or {}))


ConfigurableIOManager = ConfigurableResource


class ConfigurableResourceDefinition(ResourceDefinition):
    """Builds a ``ConfigurableResource`` from its defaults merged with run config."""

    def __init__(self, cls: type[ConfigurableResource], template: ConfigurableResource | None):
        self.resource_cls = cls
        self.template = template
        super().__init__(self._build, None, cls.__doc__)

    def _build(self, context: InitResourceContext) -> Iterator[Any]:
        defaults = self.template._as_config_dict() if self.template is not None else {}
        given = context.resource_config or {}
        merged = {**defaults, **given} if isinstance(given, dict) else given
        path = ("resources", context.resource_key or self.resource_cls.__name__, "config")
        processed = process_config(
            self.resource_cls.to_config_schema(),
            merged,
            path=path,
            preamble=f"Invalid config for resource {self.resource_cls.__name__}.",
        )
        obj = config_to_instance(self.resource_cls, processed, path=path)
        with obj.yield_for_execution(context) as value:
            yield value
