"""Numbers as the lessons print them: durations, and values with four significant digits."""

from __future__ import annotations

__all__ = ["format_number", "format_seconds", "format_term"]


def format_seconds(seconds: float) -> str:
    """Format a duration for people: µs, ms, s or minutes.

    >>> format_seconds(0.000042), format_seconds(0.25), format_seconds(3.0), format_seconds(600)
    ('42 µs', '250.0 ms', '3.0 s', '10 min')
    """
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.0f} min"


def format_number(x: float) -> str:
    """Four significant digits, or scientific notation when the value is tiny.

    >>> format_number(0.123456), format_number(-2.0), format_number(0.00001234)
    ('0.1235', '-2', '1.234e-05')
    """
    return f"{x:.4g}" if abs(x) >= 1e-4 or x == 0 else f"{x:.3e}"


def format_term(x: float) -> str:
    """:func:`format_number`, in parentheses when negative: one factor of a written product.

    >>> format_term(0.5), format_term(-0.5)
    ('0.5', '(-0.5)')
    """
    return f"({format_number(x)})" if x < 0 else format_number(x)
