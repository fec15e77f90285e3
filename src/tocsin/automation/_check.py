"""Parameter checks for the automation layer, worded as users of the API already know them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tocsin.errors import CheckError, ParameterCheckError


def opt_str(value: Any, name: str) -> str | None:
    """Return ``value`` if it is a str or None, else raise ``ParameterCheckError``."""
    if value is not None and not isinstance(value, str):
        raise ParameterCheckError(
            f'Param "{name}" is not a str. Got {value!r} which is type {type(value)}.'
        )
    return value


def opt_int(value: Any, name: str) -> int | None:
    """Return ``value`` if it is an int (not a bool) or None, else raise."""
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise ParameterCheckError(
            f'Param "{name}" is not a int. Got {value!r} which is type {type(value)}.'
        )
    return value


def opt_mapping(value: Any, name: str) -> dict[Any, Any]:
    """Return a dict copy of a mapping (None gives ``{}``), else raise."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ParameterCheckError(
            f"Param \"{name}\" is not one of ['Mapping']. Got {value!r} which is type "
            f"{type(value)}."
        )
    return dict(value)


def opt_sequence(value: Any, name: str) -> list[Any] | None:
    """Return a list copy of a non-string sequence, None stays None, else raise."""
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence | set | frozenset):
        raise ParameterCheckError(
            f'Param "{name}" is not a Sequence. Got {value!r} which is type {type(value)}.'
        )
    return list(value)


def invariant(condition: bool, description: str) -> None:
    """Raise ``CheckError("Invariant failed. Description: ...")`` when ``condition`` is false."""
    if not condition:
        raise CheckError(f"Invariant failed. Description: {description}")


def failed(description: str) -> CheckError:
    """A ``CheckError`` for a failed condition, to be raised by the caller."""
    return CheckError(f"Failure condition: {description}")


def not_one_of(value: Any, names: Sequence[str]) -> CheckError:
    """A ``CheckError`` saying ``value`` is none of the allowed type names."""
    return CheckError(
        f"Object {value!r} is not one of {sorted(names)!r}. Got {value!r} with type {type(value)}."
    )


def list_member_mismatch(value: Any, expected: Any) -> CheckError:
    """A ``CheckError`` for a list member of the wrong type."""
    return CheckError(
        f"Member of list mismatches type. Expected {expected}. Got {value!r} of type {type(value)}."
    )
