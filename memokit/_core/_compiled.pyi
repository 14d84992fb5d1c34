"""Types of memokit's C extension (memokit/_core/*.c); memokit._core loads it."""

from collections.abc import Callable
from types import NotImplementedType
from typing import Any

class DPEngine:
    """The dp engine's run(root) in C (memokit/_core/dp_engine.c)."""

    @property
    def reference(self) -> Callable[[Any], Any]:
        """The Python run() this engine replaces."""

    def __init__(
        self,
        reference: Callable[[Any], Any],
        request_type: type,
        source_type: type,
        find_cycle: Callable[[list[Any]], object],
        returned_request: Callable[[Any, Any, Any, Any], BaseException],
        yielded_twice: Callable[[Any], BaseException],
        /,
    ) -> None: ...
    def __call__(self, root: Any, /) -> Any: ...

def scalar_sweep(
    loss: Any, value_type: type, /
) -> tuple[dict[Any, float], int, list[Any]] | NotImplementedType | None:
    """Every adjoint below loss, bottom-up (memokit/_core/sweep.c).

    None if a serial does not grow along an edge; NotImplemented for a graph
    it leaves to the Python reference.
    """

# The compiled dp front end (memokit/_core/dp_front*.c): present on CPython
# 3.11 to 3.13 (not free-threaded); memokit._core.dp_front checks for it.

class DPFront:
    """A dp function's wrapper in C; memokit._dp makes them."""

    def __init__(self, engine: DPEngine, fallback: Callable[..., Any], /, **parts: Any) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def call(self, in_frame: bool, /, *args: Any) -> Any:
        """The dp call with every parameter bound by position."""
    def key(self, *args: Any) -> Any:
        """The key of a call with every parameter bound by position."""
    def counts(self, reset: bool, /) -> tuple[int, int]:
        """(hits, misses); with reset, set both to zero."""
    def tally(self, hits: int, misses: int, /) -> None:
        """Add to the counts."""

def frame_probe(gen: Any, /) -> Any:
    """Resume gen as the C loop does; return what it yields first."""

def running_frame() -> bool:
    """Whether the caller's frame is one a C loop is running now."""

class Memo:
    """A @memoize cache's wrapper (memokit/_core/memo.c); memokit._callthrough builds it."""

    def __init__(
        self,
        *,
        function: Callable[..., Any],
        binder: Callable[..., Any],
        check: Callable[[tuple[Any, ...]], object],
        skip: int,
        arity: int,
        checked: tuple[bool, ...],
        plain: set[type],
        wrapped: set[type],
        hashed: Callable[[Any], Any],
        hashed_tuple: Callable[[tuple[Any, ...]], Any],
        table: dict[Any, Any],
        touch: Callable[[Any], object] | None,
        clock: Callable[[], float] | None,
        expire: Callable[[Any, Any], object] | None,
        read: Callable[[Any], Any],
        put: Callable[[Any, Any], object] | None,
        flights: dict[Any, list[Any]],
        pending: object,
        contended: Callable[[Any, tuple[tuple[Any, ...], dict[str, Any]]], Any],
        fail: Callable[[Any, list[Any], BaseException], object],
        wake: Callable[[list[Any]], object],
        missing: object,
    ) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def __get__(self, instance: object, owner: type | None = None) -> Any: ...
    def counts(self, reset: bool, /) -> tuple[int, int]:
        """(hits, misses); with reset, zero them."""
    def tally(self, hits: int, misses: int, /) -> None:
        """Add to the counts (for the miss path's helpers)."""

class MemoMethod:
    """A memoized method's front (memokit/_core/memo_method.c)."""

    def __init__(self, reference: Any, instance_cache: type, /) -> None: ...
    def __get__(self, instance: object, owner: type | None = None) -> Any: ...

class LRUPut:
    """LRUStore._put_plain of one store (memokit/_core/memo_miss.c)."""

    def __init__(self, store: Any, /) -> None: ...
    def __call__(self, key: Any, value: Any, /) -> None: ...
