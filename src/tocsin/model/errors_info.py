"""``SerializableErrorInfo``: an exception turned into plain data for storage and display."""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SerializableErrorInfo:
    message: str
    stack: list[str]
    cls_name: str | None
    cause: SerializableErrorInfo | None = None
    context: SerializableErrorInfo | None = None

    def to_string(self) -> str:
        text = self.message.rstrip() + "\n" + "".join(self.stack)
        if self.cause is not None:
            text += (
                "\nThe above exception was caused by the following exception:\n"
                + self.cause.to_string()
            )
        return text

    def __str__(self) -> str:
        return self.to_string()

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "stack": self.stack,
            "cls_name": self.cls_name,
            "cause": None if self.cause is None else self.cause.to_dict(),
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any] | None) -> SerializableErrorInfo | None:
        if data is None:
            return None
        return SerializableErrorInfo(
            message=data["message"],
            stack=list(data.get("stack") or []),
            cls_name=data.get("cls_name"),
            cause=SerializableErrorInfo.from_dict(data.get("cause")),
        )

    @staticmethod
    def from_exception(exc: BaseException) -> SerializableErrorInfo:
        return serializable_error_info_from_exc(exc)


def serializable_error_info_from_exc(exc: BaseException, _depth: int = 0) -> SerializableErrorInfo:
    """Capture an exception, its traceback and its cause chain (up to 10 deep)."""
    # The bare class name, as users see it in the reference ("SensorExecutionError: ...").
    text = str(exc)
    message = f"{type(exc).__name__}: {text}\n" if text else f"{type(exc).__name__}\n"
    stack = traceback.format_tb(exc.__traceback__) if exc.__traceback__ else []
    cause = None
    if exc.__cause__ is not None and _depth < 10:
        cause = serializable_error_info_from_exc(exc.__cause__, _depth + 1)
    return SerializableErrorInfo(
        message=message, stack=stack, cls_name=type(exc).__name__, cause=cause
    )
