"""Progress notes from slow lessons, for whoever is listening (the tour shows them).

A lesson calls :func:`note` with what it is doing now ("naive fib(30)",
"training: step 150 of 300"); nothing happens unless a caller is inside
:func:`listening`. The tour listens and shows the latest note on a terminal's
standard error once a step has run for a while, so captured output never
sees it.

>>> seen = []
>>> note("not heard: nobody listens yet")
>>> with listening(seen.append):
...     note("step 1 of 2")
>>> seen
['step 1 of 2']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["listening", "note"]

_listener: ContextVar[Callable[[str], None] | None] = ContextVar(
    "memokit_lesson_progress", default=None
)


def note(text: str) -> None:
    """Tell the current listener, if there is one, what the lesson is doing now."""
    listener = _listener.get()
    if listener is not None:
        listener(text)


@contextmanager
def listening(listener: Callable[[str], None]) -> Iterator[None]:
    """Send every :func:`note` made inside the ``with`` block to ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
