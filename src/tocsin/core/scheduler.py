"""Seed-era path of the scheduler."""

from __future__ import annotations

from tocsin.instance.components import DagsterDaemonScheduler as DagsterDaemonScheduler

__all__ = ["DagsterDaemonScheduler"]
