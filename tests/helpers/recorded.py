"""Record the warnings a block issues, apart from the garbage collector's.

``warnings.catch_warnings(record=True)`` with ``simplefilter("always")``
records every warning issued inside the block, including the
``ResourceWarning`` of an object that other code left open and the
collector happens to free there (Python 3.13 issues one for an unclosed
``sqlite3.Connection``). A test that asserts "exactly one BadEntryWarning"
must not fail because of that, nor hide it: :func:`recorded` keeps every
other warning and issues the ``ResourceWarning`` ones again after the block.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def recorded() -> Iterator[list[warnings.WarningMessage]]:
    """Yield a list that holds, after the block, each warning issued in it but ResourceWarning."""
    kept: list[warnings.WarningMessage] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield kept
    for w in caught:
        if issubclass(w.category, ResourceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
        else:
            kept.append(w)
