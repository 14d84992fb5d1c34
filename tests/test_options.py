"""Option checks: one message per mistake, naming the call and option the user wrote.

memoize, dp, DagEvaluator, LRUStore and make_store all check their options
through memokit._options, so each mistake reads the same wherever it is
made. The expected messages are written out in full.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest

from memokit import DagEvaluator, DictStore, LRUStore, dp, memoize
from memokit._options import check_function, check_store_or_maxsize
from memokit._storage import make_store


def _dag(**options: Any) -> object:
    return DagEvaluator(inputs=lambda n: [], compute=lambda n, v: 0, **options)


MISTAKES = [
    pytest.param(
        lambda: memoize(maxsize=cast(Any, "x")),
        TypeError,
        "memoize(maxsize=...) takes an int or None, got str 'x'",
        id="memoize-maxsize",
    ),
    pytest.param(
        lambda: dp(maxsize=cast(Any, "x")),
        TypeError,
        "dp(maxsize=...) takes an int or None, got str 'x'",
        id="dp-maxsize",
    ),
    pytest.param(
        lambda: _dag(maxsize="x"),
        TypeError,
        "DagEvaluator(maxsize=...) takes an int or None, got str 'x'",
        id="dag-maxsize",
    ),
    pytest.param(
        lambda: LRUStore(cast(Any, "x")),
        TypeError,
        "LRUStore(maxsize=...) takes an int, got str 'x'",
        id="lru-maxsize",
    ),
    pytest.param(
        lambda: LRUStore(cast(Any, None)),
        TypeError,
        "LRUStore(maxsize=...) takes an int, got None: a DictStore is the unbounded store",
        id="lru-maxsize-none",
    ),
    pytest.param(
        lambda: make_store(cast(Any, "x")),
        TypeError,
        "make_store(maxsize=...) takes an int or None, got str 'x'",
        id="make-store-maxsize",
    ),
    pytest.param(
        lambda: dp(maxsize=-1),
        ValueError,
        "dp(maxsize=...) must be >= 0, got -1",
        id="dp-negative",
    ),
    pytest.param(
        lambda: LRUStore(-1),
        ValueError,
        "LRUStore(maxsize=...) must be >= 0, got -1",
        id="lru-negative",
    ),
    pytest.param(
        lambda: memoize(typed=cast(Any, 1)),
        TypeError,
        "memoize(typed=...) takes a bool, got int",
        id="memoize-typed",
    ),
    pytest.param(
        lambda: dp(key=cast(Any, 1)),
        TypeError,
        "dp(key=...) takes a function that maps the call's arguments to a hashable key, got int",
        id="dp-key",
    ),
    pytest.param(
        lambda: _dag(key=1),
        TypeError,
        "DagEvaluator(key=...) takes a function of a node that returns its key, got int",
        id="dag-key",
    ),
    pytest.param(
        lambda: DagEvaluator(inputs=cast(Any, None), compute=lambda n, v: 0),
        TypeError,
        "DagEvaluator(inputs=...) takes a function that lists a node's inputs, got NoneType",
        id="dag-inputs",
    ),
    pytest.param(
        lambda: DagEvaluator(inputs=lambda n: [], compute=cast(Any, None)),
        TypeError,
        "DagEvaluator(compute=...) takes a function of a node and its inputs' values, got NoneType",
        id="dag-compute",
    ),
    pytest.param(
        lambda: memoize(store=cast(Any, 1)),
        TypeError,
        "memoize(store=...) takes a Store (get/set/delete/clear/len) or a function that "
        "makes one, got int",
        id="memoize-store",
    ),
    pytest.param(
        lambda: _dag(store=1),
        TypeError,
        "DagEvaluator(store=...) takes a Store (get/set/delete/clear/len) or a function that "
        "makes one, got int",
        id="dag-store",
    ),
    pytest.param(
        lambda: dp(maxsize=8, store=DictStore()),
        TypeError,
        "dp() got both maxsize= and store=: give the bound to the store instead, "
        "e.g. store=LRUStore(8)",
        id="dp-both",
    ),
    pytest.param(
        lambda: _dag(maxsize=8, store=DictStore()),
        TypeError,
        "DagEvaluator() got both maxsize= and store=: give the bound to the store instead, "
        "e.g. store=LRUStore(8)",
        id="dag-both",
    ),
    pytest.param(
        lambda: dp(store=lambda: cast(Any, {}))(lambda: (yield)),
        TypeError,
        "dp(store=...) factory returned dict, not a Store",
        id="dp-factory",
    ),
]


@pytest.mark.parametrize(("make", "error", "message"), MISTAKES)
def test_each_mistake_has_one_message_naming_what_was_written(
    make: Callable[[], object], error: type[Exception], message: str
) -> None:
    """The error type and the full message, for each owner and option."""
    with pytest.raises(error) as info:
        make()
    assert type(info.value) is error
    assert str(info.value) == message


def test_check_function_refuses_none_and_returns_the_function() -> None:
    """A required function option refuses None and anything not callable."""
    assert check_function("owner", "fn", len, "a function") is len
    for wrong in (None, 3):
        with pytest.raises(TypeError, match=r"^owner\(fn=\.\.\.\) takes a function, got "):
            check_function("owner", "fn", wrong, "a function")


def test_check_store_or_maxsize_accepts_either_alone() -> None:
    """Only the two options together are refused."""
    check_store_or_maxsize("owner", 3, None)
    check_store_or_maxsize("owner", None, DictStore())
    with pytest.raises(TypeError, match="both"):
        check_store_or_maxsize("owner", 3, DictStore())
