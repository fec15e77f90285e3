"""What a step prints: its stdout and stderr, kept for the instance's compute log store.

While a step runs, ``sys.stdout`` and ``sys.stderr`` are tees: every write still goes to the
stream that was there before, and the writes made by the thread running the step are also
kept for that step. The first capturing step installs the tees and the last one to end
removes them, so steps running at once in several threads each keep only their own output.
Writes made straight to the file descriptors (by C code or a subprocess) and writes from
threads the step starts are not captured.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

IO_TYPES = ("stdout", "stderr")

_local = threading.local()
_lock = threading.Lock()
_active = 0


class _Tee:
    """Writes through to ``stream``, and to the capturing step's buffer of this thread."""

    def __init__(self, stream: Any, io_type: str):
        self.stream = stream
        self._io_type = io_type

    def write(self, text: str) -> int:
        buffer = getattr(_local, self._io_type, None)
        if buffer is not None:
            buffer.write(text)
        if self.stream is None:  # no console (pythonw, some daemons): keep the step's copy
            return len(text)
        return int(self.stream.write(text))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self.stream is not None:
            self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        # encoding, isatty, fileno, buffer, ...: those of the stream written through to.
        if name == "stream":  # not set yet (a copy being built)
            raise AttributeError(name)
        return getattr(self.stream, name)


@contextlib.contextmanager
def capture_step_output(store: Any, run_id: str, step_key: str) -> Iterator[None]:
    """Keep what this thread prints inside the block; write it to ``store`` at the end.

    ``store`` has ``write(run_id, step_key, io_type, data)``; with ``store=None`` nothing is
    captured. A stream that got no output is not written. The output is written also when
    the block raises.
    """
    if store is None:
        yield
        return
    buffers = {io_type: io.StringIO() for io_type in IO_TYPES}
    outer = {io_type: getattr(_local, io_type, None) for io_type in IO_TYPES}
    _install()
    for io_type, buffer in buffers.items():
        setattr(_local, io_type, buffer)
    try:
        yield
    finally:
        for io_type, previous in outer.items():
            setattr(_local, io_type, previous)
        _uninstall()
        _save(store, run_id, step_key, buffers)


def _install() -> None:
    global _active
    with _lock:
        _active += 1
        if not isinstance(sys.stdout, _Tee):
            sys.stdout = _Tee(sys.stdout, "stdout")
        if not isinstance(sys.stderr, _Tee):
            sys.stderr = _Tee(sys.stderr, "stderr")


def _uninstall() -> None:
    global _active
    with _lock:
        _active -= 1
        if _active:
            return
        # A stream that someone replaced meanwhile is left as they set it.
        if isinstance(sys.stdout, _Tee):
            sys.stdout = sys.stdout.stream
        if isinstance(sys.stderr, _Tee):
            sys.stderr = sys.stderr.stream


def _save(store: Any, run_id: str, step_key: str, buffers: dict[str, io.StringIO]) -> None:
    for io_type, buffer in buffers.items():
        text = buffer.getvalue()
        if not text:
            continue
        try:
            store.write(run_id, step_key, io_type, text)
        except Exception as exc:  # losing a log must not fail the step
            logging.getLogger("tocsin").warning(
                "Could not store the %s of step %s of run %s: %s", io_type, step_key, run_id, exc
            )
