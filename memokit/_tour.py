"""The tour behind ``python -m memokit tour``: a list of headed steps.

A step is a heading and a function that takes ``quick`` and yields lines,
measured as they are printed. Adding a step is adding one line to ``STEPS``.
Lines that start with a space (tables, code) print as they are; the others
are prose and are wrapped to :data:`WIDTH` columns.
"""

from __future__ import annotations

import platform
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TextIO

from memokit.lessons import fib_text, mlp_text

__all__ = ["STEPS", "WIDTH", "Step", "run_tour"]

#: Prose lines are wrapped to this many columns.
WIDTH = 88


@dataclass(frozen=True)
class Step:
    """One step of the tour: a heading and the lines it prints."""

    heading: str
    lines: Callable[[bool], Iterator[str]]


STEPS: tuple[Step, ...] = (
    Step("Naive Fibonacci against @memoize", fib_text.calls_and_times),
    Step("fib(2000): the notes' memo meets Python's recursion limit", fib_text.recursion_limit),
    Step("memokit.dp: recursion on its own stack", fib_text.dp_engine),
    Step("The lecture's MLP, built from Values", mlp_text.network),
    Step("∂L/∂w¹₁₁ = path-1 + path-2", mlp_text.two_paths),
    Step("The shared adjoint ∂L/∂O₁₁, computed once", mlp_text.shared_adjoint),
    Step("Naive against memoized backprop as the network deepens", mlp_text.scaling),
    Step("Training the lecture's MLP on XOR", mlp_text.training),
)


def run_tour(*, quick: bool = False, out: TextIO | None = None) -> None:
    """Print every step of the tour, numbered, to ``out`` (standard output by default)."""
    stream = sys.stdout if out is None else out
    mode = "quick run" if quick else "full run"
    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"memokit tour · {mode} · {python}", file=stream, flush=True)
    for number, step in enumerate(STEPS, 1):
        print(f"\n== {number}/{len(STEPS)}  {step.heading} ==\n", file=stream, flush=True)
        for line in step.lines(quick):
            if line and not line.startswith(" "):
                line = textwrap.fill(line, WIDTH, break_on_hyphens=False)
            print(line, file=stream, flush=True)
