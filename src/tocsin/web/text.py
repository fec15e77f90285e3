"""Text the server refuses before it reaches storage: NUL characters and lone surrogates.

JSON allows both (``"\\u0000"``, ``"\\ud800"``), but neither can be stored everywhere:
PostgreSQL text holds no NUL, and a lone surrogate has no UTF-8 form, so SQLite and the JSON
responses cannot encode it. A request carrying one is answered 400 and stores nothing.
"""

from __future__ import annotations

from typing import Any


def _problem(text: str) -> str | None:
    if "\x00" in text:
        return "a NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"a lone surrogate (\\u{ord(text[exc.start]):04x}), which is not Unicode text"
    return None


def bad_text(value: Any, where: str = "the body") -> str | None:
    """Describe the first string in ``value`` (keys included) that cannot be stored, or None."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            problem = _problem(item)
            if problem is not None:
                return f"{path} holds {problem}"
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and _problem(key) is not None:
                    return f"a key in {path} holds {_problem(key)}"
                stack.append((child, f"{path}[{key!r}]"))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
    return None


def bad_params(pairs: Any, where: str) -> str | None:
    """Describe the first name or value of ``pairs`` (name, value) that cannot be stored."""
    for name, value in pairs:
        if _problem(name) is not None:
            return f"a parameter name in {where} holds {_problem(name)}"
        if _problem(value) is not None:
            return f"parameter {name!r} in {where} holds {_problem(value)}"
    return None
