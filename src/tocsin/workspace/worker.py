"""The long-lived user-code worker: ``python -m tocsin.workspace.worker <location-spec-json>``.

It loads one code location, then answers requests read from stdin (``protocol.py`` frames)
on a private copy of stdout; the user code's own prints go to stderr so they cannot corrupt
the pipe. Before each request it checks the mtimes of the location's files and reloads the
code if any changed.
"""

from __future__ import annotations

import os
import sys
from typing import Any, BinaryIO

from tocsin.model.errors_info import serializable_error_info_from_exc
from tocsin.workspace.handler import LocationHandler
from tocsin.workspace.protocol import read_message, write_message
from tocsin.workspace.workspace import LocationSpec, load_definitions

_OPS = ("list_instigators", "list_jobs", "evaluate_sensor", "evaluate_schedule", "load_error")


class CodeWatcher:
    """Knows the files a location's code came from and whether any changed since loading."""

    def __init__(self, spec: LocationSpec):
        self.spec = spec
        self._mtimes: dict[str, float] = {}

    def _roots(self) -> list[str]:
        roots = [self.spec.working_directory] if self.spec.working_directory else []
        if self.spec.python_file:
            roots.append(os.path.dirname(self.spec.python_file))
        return [os.path.abspath(r) + os.sep for r in roots]

    def _module_files(self) -> dict[str, str]:
        roots = self._roots()
        prefixes = (sys.prefix + os.sep, sys.base_prefix + os.sep)
        files = {}
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if not path:
                continue
            path = os.path.abspath(path)
            if roots and path.startswith(tuple(roots)) and not path.startswith(prefixes):
                files[name] = path
        if self.spec.python_file:
            files.setdefault(f"__tocsin_location__{self.spec.name}", self.spec.python_file)
        return files

    def snapshot(self) -> None:
        self._mtimes = {path: _mtime(path) for path in self._module_files().values()}

    def changed(self) -> bool:
        return any(_mtime(path) != mtime for path, mtime in self._mtimes.items())

    def forget_modules(self) -> None:
        for name in self._module_files():
            sys.modules.pop(name, None)


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return -1.0


class Worker:
    def __init__(self, spec: LocationSpec):
        self.watcher = CodeWatcher(spec)
        self.handler = LocationHandler(lambda: load_definitions(spec))
        self.watcher.snapshot()

    def maybe_reload(self) -> None:
        if self.watcher.changed():
            self.watcher.forget_modules()
            self.handler.reload()
            self.watcher.snapshot()

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "ping":
            return {"ok": True, "value": os.getpid()}
        if op not in _OPS:
            return {"ok": False, "error": f"unknown request {op!r}"}
        try:
            self.maybe_reload()
            if op == "load_error":
                return {"ok": True, "value": self.handler.load_error}
            if self.handler.load_error is not None:
                return {"ok": False, "load_error": self.handler.load_error}
            value = getattr(self.handler, op)(**request.get("args", {}))
            return {"ok": True, "value": value}
        except Exception as exc:  # the daemon gets the error as data and carries on
            return {"ok": False, "error_info": serializable_error_info_from_exc(exc)}


def serve(spec: LocationSpec, requests: BinaryIO, replies: BinaryIO) -> None:
    worker = Worker(spec)
    while True:
        try:
            request = read_message(requests)
        except EOFError:
            break
        if request.get("op") == "shutdown":
            break
        write_message(replies, worker.handle(request))
    worker.handler.close()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    spec = LocationSpec.from_json(args[0])
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # user prints go to stderr
    sys.stdout = sys.stderr
    requests = os.fdopen(sys.stdin.fileno(), "rb", buffering=0)
    serve(spec, requests, replies)


if __name__ == "__main__":
    main()
