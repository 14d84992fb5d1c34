"""Option checks shared by every engine and store: one message per mistake.

Each check takes the *owner* as the user wrote it (``"memoize"``,
``"LRUStore"``, ``"SQLiteStore"``...) and the option's name, so the message
points at the call the user has to change, and returns the value in the form
the caller keeps.

>>> check_maxsize("memoize", 128)
128
>>> check_maxsize("dp", "x")
Traceback (most recent call last):
TypeError: dp(maxsize=...) takes an int or None, got str 'x'
>>> check_seconds("memoize", "ttl", 0)
Traceback (most recent call last):
ValueError: memoize(ttl=...) takes a number of seconds > 0, got 0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "check_bool",
    "check_callable",
    "check_function",
    "check_maxsize",
    "check_seconds",
    "check_store_or_maxsize",
    "check_version",
]


def check_maxsize(owner: str, value: object, *, allow_none: bool = True) -> int | None:
    """Return ``value`` if it is an int >= 0 (or ``None`` when allowed), else raise."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        takes = "an int or None" if allow_none else "an int"
        raise TypeError(
            f"{owner}(maxsize=...) takes {takes}, got {type(value).__name__} {value!r}"
        )
    if value < 0:
        raise ValueError(f"{owner}(maxsize=...) must be >= 0, got {value}")
    return value


def check_seconds(owner: str, option: str, value: object) -> float:
    """Return ``value`` as a float if it is a number of seconds > 0, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{owner}({option}=...) takes a number of seconds > 0, got {value!r}")
    return float(value)


def check_version(owner: str, value: object) -> str:
    """Return ``value`` as the str a store files entries under, if it is a str or an int."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(
            f"{owner}(version=...) takes a str or an int, got {type(value).__name__} {value!r}"
        )
    return str(value)


def check_bool(owner: str, option: str, value: object) -> bool:
    """Return ``value`` if it is a bool, else raise TypeError."""
    if not isinstance(value, bool):
        raise TypeError(f"{owner}({option}=...) takes a bool, got {type(value).__name__}")
    return value


def check_callable(owner: str, option: str, value: object, what: str) -> Callable[..., Any] | None:
    """Return ``value`` if it is ``None`` or callable, else raise; ``what`` says what it must do."""
    if value is not None and not callable(value):
        raise TypeError(f"{owner}({option}=...) takes {what}, got {type(value).__name__}")
    return value


def check_function(owner: str, option: str, value: object, what: str) -> Callable[..., Any]:
    """Return ``value`` if it is callable (``None`` is refused too), else raise TypeError."""
    if not callable(value):
        raise TypeError(f"{owner}({option}=...) takes {what}, got {type(value).__name__}")
    return value


def check_store_or_maxsize(owner: str, maxsize: object, store: object) -> None:
    """Raise TypeError if both ``maxsize=`` and ``store=`` are given: a store has its own bound."""
    if maxsize is not None and store is not None:
        raise TypeError(
            f"{owner}() got both maxsize= and store=: give the bound to the store "
            f"instead, e.g. store=LRUStore({maxsize!r})"
        )
