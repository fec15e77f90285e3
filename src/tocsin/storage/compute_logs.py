"""Captured stdout/stderr of steps, as files under a base directory: ``<run_id>/<step>.<io>``."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from tocsin.errors import CheckError
from tocsin.storage.base import ComputeLogStore

IO_TYPES = ("stdout", "stderr")
_SAFE = re.compile(r"[^A-Za-z0-9_.\-\[\]]")


class LocalComputeLogs(ComputeLogStore):
    """Step logs as plain files under ``base_dir``.

    Args:
        base_dir: the directory that holds one folder per run.
    """

    def __init__(self, base_dir: str | os.PathLike[str]):
        self.base_dir = os.fspath(base_dir)

    def log_path(self, run_id: str, step_key: str, io_type: str) -> str:
        if io_type not in IO_TYPES:
            raise CheckError(f"io_type must be 'stdout' or 'stderr', got {io_type!r}.")
        return os.path.join(self.base_dir, _safe(run_id), f"{_safe(step_key)}.{io_type[3:]}")

    def write(self, run_id: str, step_key: str, io_type: str, data: str) -> None:
        path = Path(self.log_path(run_id, step_key, io_type))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(data)

    def read(self, run_id: str, step_key: str, io_type: str, offset: int = 0) -> tuple[str, int]:
        path = Path(self.log_path(run_id, step_key, io_type))
        if not path.exists():
            return "", offset
        with path.open("rb") as f:
            f.seek(offset)
            data = f.read()
        return data.decode("utf-8", errors="replace"), offset + len(data)

    def delete_logs(self, run_id: str) -> None:
        shutil.rmtree(os.path.join(self.base_dir, _safe(run_id)), ignore_errors=True)


def _safe(name: str) -> str:
    """A file name that stays inside its folder whatever the run id or step key holds."""
    cleaned = _SAFE.sub("_", name)
    return "_" + cleaned if cleaned in ("", ".", "..") else cleaned
