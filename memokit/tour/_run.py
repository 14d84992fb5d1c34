"""The tour behind ``python -m memokit tour``: a list of headed steps.

A step is a heading and a function that takes ``quick`` and yields lines,
measured as they are printed. Adding a step is adding one line to ``STEPS``.
Lines that start with a space (tables, code) print as they are; the others
are prose and are wrapped to :data:`WIDTH` columns.

Given a folder, the tour ends with one more step that draws the pictures
(:mod:`memokit.tour.pictures`) into it and prints their paths. Given a progress
stream (the command line passes standard error when it is a terminal), a step
that runs longer than :data:`PROGRESS_AFTER` seconds shows what it is doing
on one line of that stream, rewritten in place and erased before the next
line of output, so the output itself stays clean.
"""

from __future__ import annotations

import os
import platform
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from memokit.tour.lessons import fib_text, mlp_text, progress

__all__ = ["INTRO", "PROGRESS_AFTER", "STEPS", "WIDTH", "Step", "pictures_step", "run_tour"]

#: Prose lines are wrapped to this many columns.
WIDTH = 88

#: Seconds a step runs before its progress line appears.
PROGRESS_AFTER = 1.0

#: The tour's first paragraph: what "the lecture" and "the notes" of every step are.
INTRO = (
    "This tour follows the notes of a deep-learning lecture on memoization in"
    " backpropagation. The lecture defines memoization with Fibonacci, naive and with a"
    " dict, then differentiates a small network in which ∂L/∂w¹₁₁ flows along two paths"
    " that share their terms, and concludes: backpropagation = chain rule + memoization."
    " Each step below runs part of that lesson with memokit and prints what it measures."
)


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
    Step("Every gradient against finite differences", mlp_text.finite_differences),
    Step("Naive against memoized backprop as the network deepens", mlp_text.scaling),
    Step("An LRU-bounded memo: memory kept against recomputation paid", mlp_text.memory),
    Step("Training the lecture's MLP on XOR", mlp_text.training),
)

#: The heading of the last step, which draws the pictures.
PICTURES_HEADING = "The pictures"


def pictures_step(folder: Path) -> Step:
    """The step that writes the pictures and ``index.html`` into ``folder``."""

    def lines(quick: bool) -> Iterator[str]:
        from memokit.tour import pictures  # only this step needs it

        gallery = pictures.write_pictures(folder, quick=quick)
        if gallery.missing:
            yield (
                f"Most pictures need matplotlib, which is not installed here:"
                f" {pictures.PLOT_EXTRA}, then run the tour again. Not drawn:"
                f" {'; '.join(gallery.missing)}."
            )
            yield ""
        if not gallery.pictures:
            return
        drawn = sum(1 for p in gallery.pictures for f in p.files if f.suffix in (".png", ".svg"))
        yield (
            f"{drawn} image files, drawn from the lessons' counts (measured again for them; the"
            f" counts are the same as above, the times are not plotted):"
        )
        yield ""
        for picture in gallery.pictures:
            yield f"  {picture.title}:"
            for file in picture.files:
                yield f"    {file}"
        if gallery.index is not None:
            yield ""
            yield "  All of them on one page, with captions:"
            yield f"    {gallery.index}"
            yield ""
            yield f"Open {gallery.index.resolve().as_uri()} in a browser."

    return Step(PICTURES_HEADING, lines)


def run_tour(
    *,
    quick: bool = False,
    out: TextIO | None = None,
    pictures: str | os.PathLike[str] | None = None,
    progress_to: TextIO | None = None,
) -> None:
    """Print every step of the tour, numbered, to ``out`` (standard output by default).

    With ``pictures`` (a folder) the tour ends by drawing its pictures there.
    With ``progress_to`` a step slower than :data:`PROGRESS_AFTER` seconds
    shows what it is doing on that stream.
    """
    stream = sys.stdout if out is None else out
    steps = STEPS if pictures is None else (*STEPS, pictures_step(Path(pictures)))
    mode = "quick run" if quick else "full run"
    python = f"{platform.python_implementation()} {platform.python_version()}"
    status = _Status(progress_to)
    with status.running():
        status.say(f"memokit tour · {mode} · {python}", stream)
        status.say("", stream)
        status.say(textwrap.fill(INTRO, WIDTH, break_on_hyphens=False), stream)
        for number, step in enumerate(steps, 1):
            status.say(f"\n== {number}/{len(steps)}  {step.heading} ==\n", stream)
            status.begin(f"{number}/{len(steps)}", step.heading)
            with progress.listening(status.note):
                for line in step.lines(quick):
                    if line and not line.startswith(" "):
                        line = textwrap.fill(line, WIDTH, break_on_hyphens=False)
                    status.say(line, stream)


class _Status:
    """One line on a progress stream, for the step that is running, shown once it is slow."""

    def __init__(self, stream: TextIO | None, interval: float = 0.2) -> None:
        self._stream = stream
        self._interval = interval
        self._lock = threading.Lock()
        self._shown = 0  # characters of the status line now on screen
        self._number = self._heading = self._note = ""
        self._started = time.perf_counter()
        self._done = threading.Event()

    @contextmanager
    def running(self) -> Iterator[None]:
        """Keep the status line up to date in a background thread while the block runs."""
        if self._stream is None:
            yield
            return
        thread = threading.Thread(target=self._tick, name="memokit-tour-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._done.set()
            thread.join()
            with self._lock:
                self._erase()

    def begin(self, number: str, heading: str) -> None:
        """Start timing a new step."""
        with self._lock:
            self._number, self._heading, self._note = number, heading, ""
            self._started = time.perf_counter()

    def note(self, text: str) -> None:
        """Record what the running step is doing now (a lesson's progress note)."""
        self._note = text

    def say(self, line: str, stream: TextIO) -> None:
        """Print one line of output, erasing the status line first."""
        with self._lock:
            self._erase()
            print(line, file=stream, flush=True)

    def _erase(self) -> None:
        if self._shown and self._stream is not None:
            self._stream.write("\r" + " " * self._shown + "\r")
            self._stream.flush()
            self._shown = 0

    def _tick(self) -> None:
        assert self._stream is not None
        while not self._done.wait(self._interval):
            with self._lock:
                elapsed = time.perf_counter() - self._started
                if elapsed < PROGRESS_AFTER:
                    continue
                text = f"… step {self._number}: {self._note or self._heading} ({elapsed:.0f} s)"
                width = _columns(self._stream) - 1
                if len(text) > width:
                    text = text[: max(width - 1, 0)] + "…"
                self._erase()
                self._stream.write(text)
                self._stream.flush()
                self._shown = len(text)


def _columns(stream: TextIO) -> int:
    try:  # a StringIO has no descriptor: io.UnsupportedOperation is an OSError
        columns = os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):
        return 80
    return columns if columns >= 20 else 80  # a pseudo-terminal may report 0
