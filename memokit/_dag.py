"""``DagEvaluator``: evaluate every node of a DAG once, on the explicit-stack engine.

The user describes the graph with two functions, ``inputs(node)`` and
``compute(node, input_values)``; each node becomes one frame of the engine in
:mod:`memokit._engine` (the same loop that runs ``dp``), so a chain of a
million nodes needs no recursion limit.

Nodes are keyed by identity unless ``key=`` says otherwise: objects that
overload ``==``/``__hash__`` (arrays, symbolic expressions) are never merged
and never compared. A stored entry keeps a reference to its node, so the node's
``id`` cannot be reused by another object while the entry lives.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Hashable, Iterable
from typing import Any, Generic, NamedTuple, TypeVar

from memokit._engine import Request, Source, run, short_repr
from memokit._stores import MISSING, DictStore, Store, make_store

__all__ = ["DagEvaluator", "DagStats"]

N = TypeVar("N")
V = TypeVar("V")


class DagStats(NamedTuple):
    """What a :class:`DagEvaluator` has done since it was created or cleared."""

    #: Calls of ``compute`` started (one per node evaluated, recomputations included).
    computations: int
    #: Values found in the store instead of computed.
    hits: int
    #: Entries the store dropped to respect its bound.
    evictions: int
    #: Computations of a node computed before (since evicted or invalidated). With
    #: identity keys a node is known by its id: a node that was freed and replaced
    #: by a new one at the same address counts as computed before.
    recomputations: int
    #: Entries held now.
    currsize: int


def _node_of(gen: Any) -> object:
    """Return the node a frame generator evaluates (its ``node`` argument)."""
    frame = None if gen is None else gen.gi_frame
    return None if frame is None else frame.f_locals.get("node")


class _DagSource(Source):
    """The engine's view of one evaluator: nodes are shown by their repr."""

    __slots__ = ()

    def describe(self, key: Hashable, gen: Generator[Any, Any, Any] | None) -> str:
        """Return the node's (shortened) repr."""
        return short_repr(_node_of(gen))

    def path_entry(self, key: Hashable, gen: Generator[Any, Any, Any] | None) -> object:
        """Return the node itself: ``CycleError.path`` lists nodes."""
        return _node_of(gen)


class DagEvaluator(Generic[N, V]):
    """Evaluate nodes of a DAG, each once, from ``inputs(node)`` and ``compute(node, values)``.

    ``compute`` receives the node and the list of its inputs' values, in the
    order ``inputs`` gave them. Nodes are keyed by identity (``key=None``) or
    by ``key(node)``; values live in a dict (``maxsize=None``), an LRU store
    (``maxsize=N``: evicted nodes are recomputed when needed again, which is
    counted) or any memokit ``store=``. A cycle raises ``memokit.CycleError``
    whose ``path`` lists the nodes around it.

    >>> inputs = {"x": [], "y": [], "a": ["x", "y"], "b": ["a", "y"], "out": ["a", "b"]}
    >>> leaf = {"x": 2, "y": 3}
    >>> ev = DagEvaluator(
    ...     inputs=lambda n: inputs[n],
    ...     compute=lambda n, vals: leaf[n] if n in leaf else sum(vals),
    ...     key=str,
    ... )
    >>> ev.evaluate("out")  # a = x + y = 5, b = a + y = 8, out = a + b
    13
    >>> ev.stats()  # a and y were each needed twice: two hits
    DagStats(computations=5, hits=2, evictions=0, recomputations=0, currsize=5)

    Evaluating over *consumers* instead of inputs is the same call with the
    edges reversed: here each node's number of paths to ``out``, the shape of
    a backward (adjoint) pass.

    >>> consumers = {n: [m for m in inputs if n in inputs[m]] for n in inputs}
    >>> paths = DagEvaluator(
    ...     inputs=lambda n: consumers[n],
    ...     compute=lambda n, vals: 1 if n == "out" else sum(vals),
    ...     key=str,
    ... )
    >>> paths.evaluate_many(["x", "y", "a", "b"])
    [2, 3, 2, 1]
    """

    def __init__(
        self,
        *,
        inputs: Callable[[N], Iterable[N]],
        compute: Callable[[N, list[V]], V],
        key: Callable[[N], Hashable] | None = None,
        maxsize: int | None = None,
        store: Store[Any] | None = None,
    ) -> None:
        if not callable(inputs) or not callable(compute):
            raise TypeError("DagEvaluator needs inputs= and compute= functions")
        if key is not None and not callable(key):
            raise TypeError(f"key= must be a function of a node, got {key!r}")
        self._inputs = inputs
        self._compute = compute
        self._key = key
        self._store: Store[Any] = make_store(maxsize, store)
        # Keys computed before, to count recomputations. Only keys: holding
        # the nodes would keep every node ever evaluated alive.
        self._seen: set[Hashable] = set()
        self._recomputed = [0]
        data: dict[Hashable, Any] | None = None
        if type(self._store) is DictStore:
            data = self._store._data  # direct dict access, as in dp
        self._source = source = _DagSource(self._store.set, data)
        self._request, self._body = self._make_frames(source, data)

    def _make_frames(
        self, source: _DagSource, data: dict[Hashable, Any] | None
    ) -> tuple[Callable[[N], Any], Callable[[N, Hashable], Generator[Any, Any, Any]]]:
        """Build the two closures the engine runs: look a node up, and evaluate one."""
        store = self._store
        get: Callable[[Hashable, object], Any] = (
            data.get if data is not None else lambda k, _default: store.get(k)
        )
        inputs = self._inputs
        compute = self._compute
        seen = self._seen
        recomputed = self._recomputed
        key_fn = self._key
        identity = key_fn is None
        new_request = Request

        # request(node): the stored entry, or a Request carrying the node's
        # frame. In identity mode an entry is (node, value), keeping the node
        # alive with its entry.
        def request(node: N) -> Any:
            k = id(node) if key_fn is None else key_fn(node)
            try:
                entry = get(k, MISSING)
            except TypeError:
                raise TypeError(
                    f"DagEvaluator's key= function returned an unhashable "
                    f"{type(k).__name__} for {short_repr(node)}: return a hashable key"
                ) from None
            if entry is not MISSING:
                source.hits += 1
                return entry
            req = new_request()
            req.source = source
            req.key = k
            req.gen = body(node, k)
            req.started = False
            return req

        def body(node: N, k: Hashable) -> Generator[Any, Any, Any]:
            values: list[V] = []
            append = values.append
            if identity:
                for x in inputs(node):
                    append((yield request(x))[1])
            else:
                for x in inputs(node):
                    append((yield request(x)))
            value = compute(node, values)
            if k in seen:
                recomputed[0] += 1
            else:
                seen.add(k)
            return (node, value) if identity else value

        return request, body

    def evaluate(self, node: N) -> V:
        """Return the value of ``node``, computing it and what it needs (each once).

        >>> ev = DagEvaluator(
        ...     inputs=lambda n: [n - 1] if n else [], compute=lambda n, v: n + sum(v)
        ... )
        >>> ev.evaluate(100_000)  # a chain 100,000 nodes deep
        5000050000
        """
        entry = self._request(node)
        if entry.__class__ is Request:
            entry = run(entry)
        result: V = entry[1] if self._key is None else entry
        return result

    def evaluate_many(self, nodes: Iterable[N]) -> list[V]:
        """Return the values of ``nodes``; shared sub-DAGs are computed once.

        >>> ev = DagEvaluator(
        ...     inputs=lambda n: [n // 2] if n > 1 else [], compute=lambda n, v: 1 + sum(v)
        ... )
        >>> ev.evaluate_many([8, 9, 4])
        [4, 4, 3]
        """
        return [self.evaluate(node) for node in nodes]

    def stats(self) -> DagStats:
        """Return computations, hits, evictions, recomputations and the current size."""
        s, store = self._source, self._store
        return DagStats(s.misses, s.hits, store.evictions, self._recomputed[0], len(store))

    def invalidate(self, node: N) -> bool:
        """Forget the stored value of ``node``; return whether there was one.

        Nodes that used it keep their values: invalidate them too if they
        must be recomputed.
        """
        k = id(node) if self._key is None else self._key(node)
        return self._store.delete(k)

    def clear(self) -> None:
        """Forget every stored value and reset the statistics (the store's eviction count stays)."""
        self._store.clear()
        self._seen.clear()
        self._recomputed[0] = 0
        self._source.hits = 0
        self._source.misses = 0

    def __repr__(self) -> str:
        key = "identity"
        if self._key is not None:
            key = getattr(self._key, "__qualname__", repr(self._key))
        return f"DagEvaluator(key={key}, store={self._store!r})"
