"""Seed-era module paths (``tocsin.core.storage.runs`` ...), so configs in that shape load."""

from __future__ import annotations
