"""Seed-era path of the run launchers."""

from __future__ import annotations

from tocsin.instance.components import DefaultRunLauncher as DefaultRunLauncher
from tocsin.instance.components import RunLauncher as RunLauncher

__all__ = ["DefaultRunLauncher", "RunLauncher"]
