"""Where a run executes: a subprocess per run (default) or this process (tests)."""

from __future__ import annotations
