"""Seed-era path of the compute log manager base class."""

from __future__ import annotations

from tocsin.instance.components import ComputeLogManager as ComputeLogManager

__all__ = ["ComputeLogManager"]
