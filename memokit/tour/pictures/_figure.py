"""What every drawing shares: the matplotlib check, a fresh Figure, the output path, colors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "PATH_COLORS",
    "PLOT_EXTRA",
    "MissingExtraError",
    "new_figure",
    "output_path",
    "require_matplotlib",
]

#: What to install for the pictures that need matplotlib.
PLOT_EXTRA = "pip install 'memokit[plot]'"

#: One color per highlighted path of a graph (colorblind-safe); the plots' lines use them too.
PATH_COLORS = ("#d95f02", "#1f6fc5", "#1b9e77", "#c2187a", "#66a61e", "#8c6d1f")


class MissingExtraError(ImportError):
    """A picture needs an optional dependency that is not installed; the message says which."""


def require_matplotlib() -> None:
    """Raise :class:`MissingExtraError`, saying what to install, unless matplotlib imports."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError(
            f"drawing this picture needs matplotlib, which is not installed: {PLOT_EXTRA}"
        ) from exc


def new_figure(width: float, height: float) -> Figure:
    """A matplotlib Figure that is not attached to pyplot (no GUI, no global state)."""
    require_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def output_path(path: str | os.PathLike[str], suffix: str) -> Path:
    """``path`` as a Path, checked to end in ``suffix``, its folder created."""
    result = Path(path)
    if result.suffix.lower() != suffix:
        raise ValueError(f"{os.fspath(path)!r} should end in {suffix}: this picture is a {suffix}")
    result.parent.mkdir(parents=True, exist_ok=True)
    return result
