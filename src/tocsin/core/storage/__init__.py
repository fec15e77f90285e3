"""Seed-era storage module paths; the classes live in ``tocsin.instance.components``."""

from __future__ import annotations
