"""Seed-era path of the plugin machinery (ConfigurableClass)."""

from __future__ import annotations

from tocsin.instance.plugins import ConfigurableClass as ConfigurableClass
from tocsin.instance.plugins import ConfigurableClassData as ConfigurableClassData

__all__ = ["ConfigurableClass", "ConfigurableClassData"]
