"""Framing for the daemon <-> worker pipe: an 8-byte big-endian length, then a pickle."""

from __future__ import annotations

import pickle
import struct
from typing import IO, Any

_HEADER = struct.Struct(">Q")


def write_message(stream: IO[bytes], message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def read_message(stream: IO[bytes]) -> Any:
    """The next message, or raise ``EOFError`` when the other side has gone."""
    header = _read_exactly(stream, _HEADER.size)
    (length,) = _HEADER.unpack(header)
    return pickle.loads(_read_exactly(stream, length))


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    chunks = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise EOFError("the other end of the pipe closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
