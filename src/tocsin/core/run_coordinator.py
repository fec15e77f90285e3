"""Seed-era path of the run coordinators."""

from __future__ import annotations

from tocsin.instance.components import DefaultRunCoordinator as DefaultRunCoordinator
from tocsin.instance.components import QueuedRunCoordinator as QueuedRunCoordinator
from tocsin.instance.components import RunCoordinator as RunCoordinator

__all__ = ["DefaultRunCoordinator", "QueuedRunCoordinator", "RunCoordinator"]
