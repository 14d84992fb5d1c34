"""The MLP lesson as text: turns :mod:`memokit.tour.lessons.mlp`'s data into lines.

Two kinds of function: ``*_lines(data)`` format data a caller measured, and
the tour steps (``network``, ``two_paths``, ``shared_adjoint``,
``finite_differences``, ``scaling``, ``memory``, ``training``), which take
``quick``, measure, and yield the lines. Each module prints the step that
the module of the same name in :mod:`~memokit.tour.lessons.mlp` measures.
"""

from memokit.tour.lessons.mlp_text._adjoints import shared_adjoint, shared_adjoint_lines
from memokit.tour.lessons.mlp_text._depth import memory, memory_lines, scaling, scaling_lines
from memokit.tour.lessons.mlp_text._network import network, network_lines
from memokit.tour.lessons.mlp_text._paths import (
    finite_differences,
    finite_differences_lines,
    two_paths,
    two_paths_lines,
)
from memokit.tour.lessons.mlp_text._training import training, training_lines

__all__ = [
    "finite_differences",
    "finite_differences_lines",
    "memory",
    "memory_lines",
    "network",
    "network_lines",
    "scaling",
    "scaling_lines",
    "shared_adjoint",
    "shared_adjoint_lines",
    "training",
    "training_lines",
    "two_paths",
    "two_paths_lines",
]
