"""Seed-era spellings: ``solid``, ``pipeline`` with ``ModeDefinition``, and ``local_file_manager``.

They are thin shapes over today's names so that older user code runs unchanged: a solid is an
op, a pipeline is a job whose resources (and executor and loggers) come from its first mode.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from tocsin.definitions.config import Field
from tocsin.definitions.job import job
from tocsin.definitions.op import op
from tocsin.definitions.resources import resource
from tocsin.errors import DagsterInvalidDefinitionError

solid = op
"""The seed-era name of ``op``."""


class ModeDefinition:
    """A named set of resources, loggers and executors for a ``pipeline``.

    Args:
        name: the mode's name (default ``"default"``).
        resource_defs: resources by key.
        logger_defs: loggers by name.
        executor_defs: executors; the first one is used.
        description: free text.
    """

    def __init__(
        self,
        name: str | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        logger_defs: Mapping[str, Any] | None = None,
        executor_defs: Sequence[Any] | None = None,
        description: str | None = None,
    ):
        self.name = name or "default"
        self.resource_defs = dict(resource_defs or {})
        self.logger_defs = dict(logger_defs or {})
        self.executor_defs = list(executor_defs or [])
        self.description = description


def pipeline(
    compose_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    mode_defs: Sequence[ModeDefinition] | None = None,
    tags: Mapping[str, Any] | None = None,
    **_ignored: Any,
) -> Any:
    """The seed-era ``@pipeline``: a job whose resources come from its (single) mode."""
    modes = list(mode_defs or [])
    if len(modes) > 1:
        raise DagsterInvalidDefinitionError(
            f"pipeline {name or getattr(compose_fn, '__name__', '')!r} has {len(modes)} modes; "
            "tocsin runs one mode per job. Make one @job per mode, each with its resource_defs."
        )
    mode = modes[0] if modes else ModeDefinition()
    return job(
        compose_fn,
        name=name,
        description=description,
        resource_defs=mode.resource_defs,
        logger_defs=mode.logger_defs or None,
        executor_def=mode.executor_defs[0] if mode.executor_defs else None,
        tags=tags,
    )


class FileHandle:
    """A reference to a file kept by a file manager."""

    @property
    def path_desc(self) -> str:
        raise NotImplementedError


class LocalFileHandle(FileHandle):
    """A file on the local disk."""

    def __init__(self, path: str):
        self.path = path

    @property
    def path_desc(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"LocalFileHandle({self.path!r})"


class LocalFileManager:
    """Writes and reads files under a base directory on the local disk."""

    def __init__(self, base_dir: str):
        self.base_dir = base_dir
        self._temp_paths: list[str] = []
        os.makedirs(base_dir, exist_ok=True)

    def _new_path(self, ext: str | None) -> str:
        return os.path.join(self.base_dir, uuid.uuid4().hex + (ext or ""))

    def write_data(self, data: bytes, ext: str | None = None) -> LocalFileHandle:
        return self.write(io.BytesIO(data), mode="wb", ext=ext)

    def write(self, file_obj: IO[Any], mode: str = "wb", ext: str | None = None) -> LocalFileHandle:
        path = self._new_path(ext)
        with open(path, mode) as out:
            shutil.copyfileobj(file_obj, out)
        return LocalFileHandle(path)

    def read(self, file_handle: LocalFileHandle, mode: str = "rb") -> IO[Any]:
        return open(file_handle.path, mode)

    def read_data(self, file_handle: LocalFileHandle) -> bytes:
        with open(file_handle.path, "rb") as f:
            return f.read()

    def copy_handle_to_local_temp(self, file_handle: LocalFileHandle) -> str:
        fd, path = tempfile.mkstemp()
        os.close(fd)
        shutil.copyfile(file_handle.path, path)
        self._temp_paths.append(path)
        return path

    def delete_local_temp(self) -> None:
        for path in self._temp_paths:
            if os.path.exists(path):
                os.remove(path)
        self._temp_paths.clear()


@resource(config_schema={"base_dir": Field(str, is_required=False)})
def _local_file_manager(init_context: Any) -> LocalFileManager:
    config = init_context.resource_config or {}
    base_dir = config.get("base_dir")
    if base_dir is None:
        instance = init_context.instance
        root = instance.storage_directory() if instance is not None else tempfile.mkdtemp()
        base_dir = os.path.join(root, "file_manager")
    return LocalFileManager(base_dir)


local_file_manager = _local_file_manager
"""A resource giving ops a ``LocalFileManager`` (config: optional ``base_dir``)."""
