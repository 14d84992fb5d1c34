"""``DagEvaluator``: evaluate every node of a DAG once, on an explicit stack.

The user describes the graph with two functions, ``inputs(node)`` and
``compute(node, input_values)``. Evaluating a node is the memoized recursion

    value(n) = compute(n, [value(x) for x in inputs(n)])

run with a list as its stack instead of Python's, so a chain of a million
nodes needs no recursion limit.

How one node runs (the hot path; each choice was measured, see
``docs/performance.md``, "Why the engines look the way they do"):

* A node's frame is one tuple on the stack: the node, its key, an iterator
  over its inputs and the list of input values gathered so far. There is no generator
  per node (``dp`` needs generators because its bodies are user code that
  suspends; here the engine owns the loop over inputs, so plain data does).
* Each input is looked up in the store once. A hit appends its value to the
  frame's list; a miss pushes the frame and starts the input's frame. When the
  inputs are exhausted, ``compute`` runs, the value is stored and handed to
  the frame below.
* Nodes are keyed by identity unless ``key=`` says otherwise. A node whose
  type keeps ``object``'s ``__eq__`` and ``__hash__`` is its own key (a dict
  lookup then compares by identity, and the entry keeps the node alive);
  any other node is keyed by ``id(node)`` with an entry ``(node, value)``
  that keeps it alive, so its ``id`` cannot be reused while the entry lives,
  and its ``==`` and ``hash`` are never called.
* A cycle makes the stack grow for ever. It is looked for each time the stack
  reaches four times the depth of the last look (O(1) per frame in all), and
  reported with the nodes around it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any, Generic, NamedTuple, TypeVar

from memokit._dp_engine import short_repr
from memokit._errors import CycleError
from memokit._hashed import PLAIN_TYPES, hashed
from memokit._keys import IDENTITY_TYPES, check_key_hashable, identity_key
from memokit._options import check_callable, check_function
from memokit._storage import make_store
from memokit.stores._memory import MISSING, Store, fast_path

__all__ = ["DagEvaluator", "DagStats"]

N = TypeVar("N")
V = TypeVar("V")

# Stacks this deep are checked for a cycle, then each time their depth grows fourfold.
_FIRST_CHECK = 256


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
        owner = "DagEvaluator"
        check_function(owner, "inputs", inputs, "a function that lists a node's inputs")
        check_function(owner, "compute", compute, "a function of a node and its inputs' values")
        check_callable(owner, "key", key, "a function of a node that returns its key")
        self._inputs = inputs
        self._compute = compute
        self._key = key
        self._store: Store[Any] = make_store(maxsize, store, owner=owner)
        # The store's table, when the evaluator may read and write it directly.
        fast = fast_path(self._store)
        direct = fast is not None and fast.touch is None and fast.direct_writes
        self._table = fast.table if fast is not None and direct else None
        self._put = fast.put if fast is not None and direct else self._store.set
        # The table holds canonical keys (memokit._hashed). Identity keys (a
        # node itself, or its id) are canonical as they are; a key from key=
        # is made canonical before it meets the table (the store's methods
        # do that themselves).
        self._canonical = direct and key is not None
        self._hits = 0
        self._computations = 0
        self._recomputations = 0
        # Counting recomputations: the dict store made here drops an entry only
        # through invalidate(), so remembering the keys invalidated is enough;
        # any other store may evict (or be changed by its owner), so every key
        # computed is remembered. Keys only, with a node that is its own key
        # remembered by id: holding nodes would keep them all alive.
        self._dict = store is None and maxsize is None
        self._seen: set[Hashable] = set()
        self._invalidated: set[Hashable] = set()

    # ------------------------------------------------------------ keys

    def _key_of(self, node: N) -> Hashable:
        """The store key of ``node`` (itself, its id, or ``key(node)``)."""
        return identity_key(node) if self._key is None else self._key(node)

    # ------------------------------------------------------------ the loop

    def _run(self, root: N, root_key: Hashable) -> V:
        """Compute ``root`` (not stored) and every input it needs that is not stored.

        An exception from ``inputs`` or ``compute`` propagates to the caller;
        the nodes waiting on it store nothing, those finished keep their values.
        """
        store = self._store
        data = self._table
        get: Callable[[Hashable, Any], Any]
        if data is not None:
            get = data.get
        else:
            store_get = store.get
            get = lambda k, _default: store_get(k)
        put = self._put
        inputs = self._inputs
        compute = self._compute
        identity = self._key is None
        # One expression keys every input: a node of a type met before that
        # compares by identity is its own key; anything else goes through
        # keyof (key=, or the identity rule for a type not met yet).
        plain_types: set[type] | frozenset[type] = IDENTITY_TYPES if identity else frozenset()
        keyof: Callable[[Any], Hashable] = identity_key if self._key is None else self._key
        canonical = self._canonical
        seen = None if self._dict else self._seen
        invalidated = self._invalidated
        hits = computations = recomputations = 0

        # The frames waiting for an input, bottom first: (node, key, the
        # iterator over its inputs, the input values gathered so far).
        stack: list[tuple[Any, Hashable, Iterator[Any], list[Any]]] = []
        push = stack.append
        pop = stack.pop
        check_at = _FIRST_CHECK
        node: Any = root
        key: Hashable = root_key
        it = iter(inputs(root))
        values: list[Any] = []
        try:
            while True:
                for x in it:
                    k = x if type(x) in plain_types else keyof(x)
                    try:
                        if canonical and type(k) not in PLAIN_TYPES:
                            k = hashed(k)
                        entry = get(k, MISSING)
                    except TypeError:
                        _check_key(k, x)
                        raise
                    if entry is MISSING:
                        # A miss: this frame waits while x is computed.
                        push((node, key, it, values))
                        node = x
                        key = k
                        it = iter(inputs(x))
                        values = []
                        if len(stack) >= check_at:
                            check_at = 4 * len(stack)
                            _check_cycle(stack, node, key)
                        break
                    hits += 1
                    values.append(entry[1] if identity and k is not x else entry)
                else:
                    # Every input is known: compute this node and return to the one below.
                    computations += 1
                    value = compute(node, values)
                    if seen is not None or invalidated:
                        counted = id(node) if key is node else key  # never hold the node
                        if seen is None:
                            if counted in invalidated:
                                invalidated.discard(counted)
                                recomputations += 1
                        elif counted in seen:
                            recomputations += 1
                        else:
                            seen.add(counted)
                    entry = (node, value) if identity and key is not node else value
                    if data is not None:
                        data[key] = entry
                    else:
                        put(key, entry)
                    if not stack:
                        return value
                    node, key, it, values = pop()
                    values.append(value)
        finally:
            self._hits += hits
            self._computations += computations
            self._recomputations += recomputations

    # ------------------------------------------------------------ public

    def evaluate(self, node: N) -> V:
        """Return the value of ``node``, computing it and what it needs (each once).

        >>> ev = DagEvaluator(
        ...     inputs=lambda n: [n - 1] if n else [], compute=lambda n, v: n + sum(v)
        ... )
        >>> ev.evaluate(100_000)  # a chain 100,000 nodes deep
        5000050000
        """
        k = self._key_of(node)
        table = self._table
        try:
            if self._canonical and type(k) not in PLAIN_TYPES:
                k = hashed(k)
            entry = self._store.get(k) if table is None else table.get(k, MISSING)
        except TypeError:
            _check_key(k, node)
            raise
        if entry is MISSING:
            return self._run(node, k)
        self._hits += 1
        result: V = entry[1] if self._key is None and k is not node else entry
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
        store = self._store
        return DagStats(
            self._computations, self._hits, store.evictions, self._recomputations, len(store)
        )

    def invalidate(self, node: N) -> bool:
        """Forget the stored value of ``node``; return whether there was one.

        Nodes that used it keep their values: invalidate them too if they
        must be recomputed.
        """
        k = self._key_of(node)
        dropped = self._store.delete(k)
        if dropped and self._dict:
            if self._canonical and type(k) not in PLAIN_TYPES:
                k = hashed(k)  # as _run remembers it
            self._invalidated.add(id(node) if k is node else k)
        return dropped

    def clear(self) -> None:
        """Forget every stored value and reset the statistics (the store's eviction count stays)."""
        self._store.clear()
        self._seen.clear()
        self._invalidated.clear()
        self._hits = self._computations = self._recomputations = 0

    def __repr__(self) -> str:
        key = "identity"
        if self._key is not None:
            key = getattr(self._key, "__qualname__", repr(self._key))
        return f"DagEvaluator(key={key}, store={self._store!r})"


def _check_cycle(stack: list[tuple[Any, Hashable, Any, Any]], node: object, key: Hashable) -> None:
    """Raise :class:`CycleError` if a key occurs twice among the waiting frames and ``key``."""
    keys = [frame[1] for frame in stack]
    keys.append(key)
    if len(set(keys)) == len(keys):
        return
    nodes = [frame[0] for frame in stack]
    nodes.append(node)
    first: dict[Hashable, int] = {}
    for i, k in enumerate(keys):
        j = first.setdefault(k, i)
        if j != i:
            path = nodes[j : i + 1]
            raise CycleError(
                path, "a sub-problem depends on itself: " + " -> ".join(map(short_repr, path))
            )


def _check_key(key: object, node: object) -> None:
    """Name the node whose key cannot be hashed, if that is what went wrong."""
    check_key_hashable("DagEvaluator", key, f" for {short_repr(node)}")
