"""The ``tocsin`` command line. Subcommands load lazily so ``tocsin --help`` starts fast."""

from __future__ import annotations
