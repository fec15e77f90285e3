"""Seed-era path of the instance and its ref."""

from __future__ import annotations

from tocsin.instance.instance import DagsterInstance as DagsterInstance
from tocsin.instance.instance import InstanceRef as InstanceRef

__all__ = ["DagsterInstance", "InstanceRef"]
