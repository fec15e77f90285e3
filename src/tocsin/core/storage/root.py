"""Seed-era path of the local artifact storage."""

from __future__ import annotations

from tocsin.instance.components import LocalArtifactStorage as LocalArtifactStorage

__all__ = ["LocalArtifactStorage"]
