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
