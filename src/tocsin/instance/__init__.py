"""The instance: tocsin.yaml, plugin loading, and the facade over the stores."""

from __future__ import annotations
