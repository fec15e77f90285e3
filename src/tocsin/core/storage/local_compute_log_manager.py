"""Seed-era path of the local compute log manager."""

from __future__ import annotations

from tocsin.instance.components import LocalComputeLogManager as LocalComputeLogManager

__all__ = ["LocalComputeLogManager"]
