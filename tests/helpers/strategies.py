"""Hypothesis strategies shared by the test suite.

Each engine's tests keep their strategies in their own marked section.
"""

from __future__ import annotations

import enum
import math
import operator
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeAlias, TypeVar

from hypothesis import strategies as st

from memokit._keys import KWD_MARK
from memokit.autodiff import Value

# ============================================================================
# memoize and stores (tests/test_memoize*.py, tests/stores/test_stores.py)
# ============================================================================

#: Ints and strs: no value of one type equals a value of the other, so an
#: untyped cache never merges two calls whose results differ.
plain_scalars: st.SearchStrategy[int | str] = st.integers(-50, 50) | st.text(max_size=3)

#: Hashable arguments for an untyped cache: plain scalars and small tuples of them.
plain_args: st.SearchStrategy[Hashable] = st.recursive(
    plain_scalars,
    lambda inner: st.tuples(inner) | st.tuples(inner, inner),
    max_leaves=4,
)

#: Scalars whose types differ while their values compare equal (``1``,
#: ``1.0``, ``True``): a typed cache must keep them apart.
typed_scalars: st.SearchStrategy[int | float | bool | str] = (
    st.integers(-3, 3)
    | st.floats(-3, 3, allow_nan=False).map(lambda x: float(round(x)))
    | st.booleans()
    | st.sampled_from(["", "a"])
)

#: A small key space, so that store operations collide often.
store_keys: st.SearchStrategy[Hashable] = (
    st.integers(0, 6) | st.sampled_from(["a", "b"]) | st.tuples(st.integers(0, 2))
)

#: Values a store must keep as given, ``None`` included (it is a valid result).
store_values: st.SearchStrategy[int | None] = st.none() | st.integers(-5, 5)

#: A sequence of one-argument calls over a small domain (repeats and evictions).
call_sequences: st.SearchStrategy[list[int]] = st.lists(st.integers(0, 9), max_size=60)

#: Scalars a persistent store can key by (memokit.stores._keybytes.encode_key). NaN is
#: left out: it is not equal to itself, while its encoding is one canonical value.
persistent_scalars: st.SearchStrategy[Hashable] = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.integers(-3, 3).map(float)
    | st.floats(allow_nan=False)
    | st.complex_numbers(allow_nan=False, max_magnitude=1e6)
    | st.text(max_size=4)
    | st.binary(max_size=4)
)

#: Persistent-store keys: scalars, and tuples and frozensets nested a few levels.
persistent_keys: st.SearchStrategy[Hashable] = st.recursive(
    persistent_scalars,
    lambda inner: st.lists(inner, max_size=3).map(tuple) | st.frozensets(inner, max_size=3),
    max_leaves=8,
)


class Shade(enum.Enum):
    """An enum at module level: its members are persistent keys (by class name and member name)."""

    LIGHT = 1
    DARK = 2


#: Keys that only memokit's own machinery, or the type system, puts in a key:
#: memoize's marker before keyword arguments, enum members, module-level classes.
named_keys: st.SearchStrategy[Hashable] = st.sampled_from(
    [
        KWD_MARK,
        Shade.LIGHT,
        Shade.DARK,
        Shade,
        int,
        str,
        type(None),
        type(len),
        type({}.keys()),
        Value,
    ]
)

#: Every kind of key a persistent store encodes, nested: what a store's keys() gives back.
listable_keys: st.SearchStrategy[Hashable] = st.recursive(
    persistent_scalars | named_keys,
    lambda inner: st.lists(inner, max_size=3).map(tuple) | st.frozensets(inner, max_size=3),
    max_leaves=8,
)

#: Keys for the expiry state machines: few, so an entry is often read again after it expired.
expiry_keys: st.SearchStrategy[int] = st.integers(0, 3)

#: How far a test's fake clock moves in one step (0 included: nothing expires).
clock_steps: st.SearchStrategy[float] = st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0, 3.0])


class ConstantTTL:
    """A ttl that is the same for every value: given to stores as the number ``constant``."""

    def __init__(self, seconds: float) -> None:
        self.constant = seconds

    def __call__(self, value: object) -> float:
        return self.constant

    def __repr__(self) -> str:
        return f"ttl={self.constant}"


def ttl_by_value(value: object) -> float | None:
    """A ttl function of the value: for ever, not stored at all, or 1 or 2.5 seconds."""
    choice = hash(value) % 4
    return (None, 0.0, 1.0, 2.5)[choice]


#: A store's ttl: constant seconds, or a function of the value (see ttl_by_value).
ttl_choices: st.SearchStrategy[ConstantTTL | Callable[[object], float | None]] = st.builds(
    ConstantTTL, st.sampled_from([0.5, 1.0, 2.0, 5.0])
) | st.just(ttl_by_value)

# ============================================================================
# end of memoize and stores section
# ============================================================================


# ============================================================================
# autodiff (tests/autodiff/)
# ============================================================================


@dataclass(frozen=True)
class Ref:
    """An operand that is an earlier node of an :class:`ExpressionDag`, by index."""

    index: int


#: An operand of a recorded step: an earlier node, or a plain-number constant.
Operand: TypeAlias = Ref | float


class Step(NamedTuple):
    """One recorded operation: its name (as ``Value.op_name`` spells it) and operands."""

    op: str
    args: tuple[Operand, ...]


T = TypeVar("T")


@dataclass(frozen=True)
class ExpressionDag:
    """A random expression graph built with ``Value``, and an independent record of it.

    ``nodes`` holds the drawn leaves first, then one node per step of
    ``steps``. A step's operands are earlier nodes (by index) or plain
    numbers, which ``Value`` turns into constant leaves; the exponent of
    ``**`` is a number parameter, not a node. The record lets a test evaluate
    the same expression with plain floats, or with another library, without
    reading the graph that ``Value`` recorded.
    """

    leaves: tuple[Value, ...]
    steps: tuple[Step, ...]
    nodes: tuple[Value, ...]

    @property
    def loss(self) -> Value:
        """The last node: the sum of every node that no other node consumes."""
        return self.nodes[-1]

    def replay(self, leaf_values: Sequence[T], ops: Mapping[str, Callable[..., T]]) -> T:
        """Evaluate the recorded steps from ``leaf_values`` with the operations ``ops``."""
        values: list[T] = list(leaf_values)
        for step in self.steps:
            values.append(ops[step.op](*[_operand(values, a) for a in step.args]))
        return values[-1]


def _operand(values: Sequence[T], arg: Operand) -> T | float:
    return values[arg.index] if isinstance(arg, Ref) else arg


#: The operations on plain floats, written from ``math`` alone: the reference
#: that tests replay a recorded graph with, independently of memokit.
FLOAT_OPS: dict[str, Callable[..., float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, p: math.pow(a, p),
    "neg": lambda a: -a,
    "exp": math.exp,
    "log": math.log,
    "tanh": math.tanh,
    # exp(-a) overflows for a below about -709: there, use the equal exp(a) / (1 + exp(a)).
    "sigmoid": lambda a: (
        1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
    ),
    "relu": lambda a: a if a > 0 else 0.0,
    "sin": math.sin,
    "cos": math.cos,
    "sqrt": math.sqrt,
}

#: Value's operators and methods by op name: what the strategy builds with.
_VALUE_OPS: dict[str, Callable[..., object]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
    "neg": operator.neg,
    "exp": Value.exp,
    "log": Value.log,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "relu": Value.relu,
    "sin": Value.sin,
    "cos": Value.cos,
    "sqrt": Value.sqrt,
}
_EXPONENTS = (2.0, 3.0, -1.0, 0.5, 1.5, 2.5)
#: Nodes whose value exceeds this are squashed with tanh, so nothing overflows.
_LIMIT = 100.0

#: Leaf values: small, so products and powers stay where finite differences are accurate.
leaf_values: st.SearchStrategy[float] = st.floats(-2.0, 2.0, allow_nan=False)

#: Plain-number operands, never near 0 (they may be divisors).
constants: st.SearchStrategy[float] = st.floats(0.5, 3.0) | st.floats(-3.0, -0.5)


class _Builder:
    """Builds Values and records each step alongside."""

    def __init__(self, leaves: Sequence[Value]) -> None:
        self.nodes: list[Value] = list(leaves)
        self.steps: list[Step] = []

    def add(self, op: str, *args: Operand) -> int:
        """Build and record ``op(*args)``; return the new node's index."""
        node = _VALUE_OPS[op](*[_operand(self.nodes, a) for a in args])
        assert isinstance(node, Value)
        self.steps.append(Step(op, args))
        self.nodes.append(node)
        return len(self.nodes) - 1

    def at_least_half(self, i: int) -> int:
        """``i`` if its value is >= 0.5, else a new node ``i * i + 0.5`` (log, sqrt, x ** 0.5)."""
        if self.nodes[i].data >= 0.5:
            return i
        return self.add("+", Ref(self.add("*", Ref(i), Ref(i))), 0.5)

    def away_from_zero(self, i: int) -> int:
        """``i`` if ``|value| >= 0.5``, else a new node ``i * i + 1`` (divisors)."""
        if abs(self.nodes[i].data) >= 0.5:
            return i
        return self.add("+", Ref(self.add("*", Ref(i), Ref(i))), 1.0)


@st.composite
def expression_dags(draw: st.DrawFn, *, max_leaves: int = 4, max_ops: int = 12) -> ExpressionDag:
    """Random expression DAGs whose nodes are reused (fan-out), with a record of each step.

    Every operation takes its operands among the nodes built so far, so a node
    often feeds several later ones (sometimes one node twice, as in ``x * x``),
    and plain numbers appear on either side of ``+ - * /``. Inputs are kept
    inside each operation's domain and away from relu's kink, so central
    differences are accurate. The loss sums the nodes nothing else consumes,
    so it depends on every node.
    """
    n_leaves = draw(st.integers(1, max_leaves))
    b = _Builder([Value(draw(leaf_values), label=f"x{i}") for i in range(n_leaves)])
    for _ in range(draw(st.integers(1, max_ops))):
        # Any node so far, or one of the last three: long chains with reuse
        # are where the number of paths (the naive cost) grows fast.
        last = len(b.nodes) - 1
        pick = st.integers(0, last) | st.integers(max(0, last - 2), last)
        op = draw(st.sampled_from(sorted(_VALUE_OPS)))
        i = draw(pick)
        if op in ("+", "-", "*", "/"):
            if draw(st.booleans()):  # two nodes, possibly the same one twice
                j = draw(pick)
                new = b.add(op, Ref(i), Ref(b.away_from_zero(j) if op == "/" else j))
            elif draw(st.booleans()):  # a number on the left: 2 - x, 2 / x
                c = draw(constants)
                new = b.add(op, c, Ref(b.away_from_zero(i) if op == "/" else i))
            else:
                new = b.add(op, Ref(i), draw(constants))
        elif op == "**":
            exponent = draw(st.sampled_from(_EXPONENTS))
            if exponent == -1.0:
                i = b.away_from_zero(i)
            elif not exponent.is_integer():
                i = b.at_least_half(i)
            new = b.add(op, Ref(i), exponent)
        elif op in ("log", "sqrt"):
            new = b.add(op, Ref(b.at_least_half(i)))
        elif op == "relu" and abs(b.nodes[i].data) < 0.1:
            new = b.add(op, Ref(b.add("+", Ref(i), 0.5)))
        elif op == "exp" and b.nodes[i].data > 4.0:
            new = b.add(op, Ref(b.add("tanh", Ref(i))))
        else:
            new = b.add(op, Ref(i))
        if abs(b.nodes[new].data) > _LIMIT:
            b.add("tanh", Ref(new))
    consumed = {a.index for s in b.steps for a in s.args if isinstance(a, Ref)}
    sinks = [i for i in range(len(b.nodes)) if i not in consumed]
    total = sinks[0]
    for i in sinks[1:]:
        total = b.add("+", Ref(total), Ref(i))
    leaves = tuple(b.nodes[:n_leaves])
    return ExpressionDag(leaves, tuple(b.steps), tuple(b.nodes))


# ============================================================================
# end of autodiff section
# ============================================================================


# ============================================================================
# autodiff on arrays (tests/autodiff/test_tensor_*.py)
# NumPy and Tensor are imported when a strategy is drawn, so that this module
# (and every scalar test) imports without NumPy.
# ============================================================================


@dataclass(frozen=True)
class ArrayStep:
    """One recorded array operation: its name, operands and non-array parameters.

    An operand is an earlier node (:class:`Ref`), a number or an array
    constant; ``leaf`` steps have no operands and make a new leaf.
    """

    op: str
    args: tuple[Any, ...] = ()
    params: tuple[Any, ...] = ()


@dataclass(frozen=True)
class ArrayExpressionDag:
    """A random Tensor expression graph, and an independent record of its steps.

    ``nodes`` holds one Tensor per step, in creation order; leaf steps made
    the graph's leaves (``leaves``, in the same order). Shapes are drawn so
    that every node broadcasts against ``(rows, cols)``, so binary operations
    between any two nodes are valid and broadcast in every direction.
    """

    leaves: tuple[Any, ...]
    steps: tuple[ArrayStep, ...]
    nodes: tuple[Any, ...]

    @property
    def loss(self) -> Any:
        """The last node: the sum of the totals of every node nothing else consumes."""
        return self.nodes[-1]

    def replay(self, leaf_values: Sequence[Any], ops: Mapping[str, Callable[..., Any]]) -> Any:
        """Evaluate the recorded steps from ``leaf_values`` with the operations ``ops``."""
        given = iter(leaf_values)
        values: list[Any] = []
        for step in self.steps:
            if step.op == "leaf":
                values.append(next(given))
                continue
            operands = [values[a.index] if isinstance(a, Ref) else a for a in step.args]
            values.append(ops[step.op](*operands, *step.params))
        return values[-1]


def numpy_ops() -> dict[str, Callable[..., Any]]:
    """The array operations written with NumPy alone: the reference a replay uses."""
    import numpy as np

    return {
        "+": np.add,
        "-": np.subtract,
        "*": np.multiply,
        "/": np.divide,
        "**": np.power,
        "neg": np.negative,
        "exp": np.exp,
        "log": np.log,
        "tanh": np.tanh,
        "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
        "relu": lambda a: np.maximum(a, 0.0),
        "sum": lambda a, axis: a.sum(axis=axis, keepdims=True),
        "mean": lambda a, axis: a.mean(axis=axis, keepdims=True),
        "@": np.matmul,
        "T": np.transpose,
        "total": np.sum,
    }


def tensor_ops() -> dict[str, Callable[..., Any]]:
    """The same operations on memokit Tensors: what the strategy builds with."""
    return {
        "+": operator.add,
        "-": operator.sub,
        "*": operator.mul,
        "/": operator.truediv,
        "**": operator.pow,
        "neg": operator.neg,
        "exp": lambda t: t.exp(),
        "log": lambda t: t.log(),
        "tanh": lambda t: t.tanh(),
        "sigmoid": lambda t: t.sigmoid(),
        "relu": lambda t: t.relu(),
        "sum": lambda t, axis: t.sum(axis=axis, keepdims=True),
        "mean": lambda t, axis: t.mean(axis=axis, keepdims=True),
        "@": operator.matmul,
        "T": lambda t: t.T,
        "total": lambda t: t.sum(),
    }


_ARRAY_UNARY = ("neg", "exp", "log", "tanh", "sigmoid", "relu", "**", "sum", "mean", "T")
_ARRAY_BINARY = ("+", "-", "*", "/", "@")


class _ArrayBuilder:
    """Builds Tensors and records each step alongside."""

    def __init__(self, draw: st.DrawFn, rows: int, cols: int, dtype: Any) -> None:
        import numpy as np

        from memokit.autodiff import Tensor

        self.np, self.tensor = np, Tensor
        self.draw, self.rows, self.cols, self.dtype = draw, rows, cols, dtype
        self.ops = tensor_ops()
        self.nodes: list[Any] = []
        self.steps: list[ArrayStep] = []
        self.leaves: list[Any] = []

    def shapes(self) -> list[tuple[int, ...]]:
        """Shapes that broadcast against (rows, cols), every direction represented."""
        r, c = self.rows, self.cols
        return [(r, c), (c,), (1, c), (r, 1), ()]

    def array(self, shape: tuple[int, ...]) -> Any:
        """An array of ``shape`` with entries in [-2, 2] (a constant or a leaf's value)."""
        size = int(self.np.prod(shape))
        entries = self.draw(st.lists(leaf_values, min_size=size, max_size=size))
        return self.np.asarray(entries, dtype=self.dtype).reshape(shape)

    def leaf(self, shape: tuple[int, ...]) -> int:
        """A new leaf of ``shape``; return its index."""
        node = self.tensor(self.array(shape), label=f"x{len(self.leaves)}")
        self.leaves.append(node)
        self.steps.append(ArrayStep("leaf"))
        self.nodes.append(node)
        return len(self.nodes) - 1

    def add(self, op: str, *args: Any, params: tuple[Any, ...] = ()) -> int:
        """Build and record ``op(*args, *params)``; return the new node's index."""
        operands = [self.nodes[a.index] if isinstance(a, Ref) else a for a in args]
        node = self.ops[op](*operands, *params)
        self.steps.append(ArrayStep(op, tuple(args), params))
        self.nodes.append(node)
        return len(self.nodes) - 1

    def data(self, i: int) -> Any:
        return self.nodes[i].data

    def at_least_half(self, i: int) -> int:
        """``i`` if every entry is >= 0.5, else ``i * i + 0.5`` (for log and x ** 1.5)."""
        if self.np.all(self.data(i) >= 0.5):
            return i
        return self.add("+", Ref(self.add("*", Ref(i), Ref(i))), 0.5)

    def away_from_zero(self, i: int) -> int:
        """``i`` if every entry has |x| >= 0.5, else ``i * i + 1`` (for divisors)."""
        if self.np.all(self.np.abs(self.data(i)) >= 0.5):
            return i
        return self.add("+", Ref(self.add("*", Ref(i), Ref(i))), 1.0)

    def constant(self) -> Any:
        """A number, or an array whose shape broadcasts against the others."""
        if self.draw(st.booleans()):
            return self.draw(constants)
        shape = self.draw(st.sampled_from(self.shapes()))
        return self.np.where(self.np.abs(a := self.array(shape)) < 0.5, 1.0, a).astype(self.dtype)


@st.composite
def array_expression_dags(
    draw: st.DrawFn, *, max_leaves: int = 3, max_ops: int = 10, dtype: str = "float64"
) -> ArrayExpressionDag:
    """Random Tensor expression DAGs with fan-out and broadcasting, with a record of each step.

    Leaves have shapes like (r, c), (c,), (1, c), (r, 1) and (), so a binary
    operation between two nodes broadcasts one or both; numbers and array
    constants appear on either side. Nodes are reused (one node feeding
    several later ones, or one operation twice). The loss adds up the
    totals of the nodes nothing else consumes. Inputs are kept inside each
    operation's domain and relu's inputs away from its kink.
    """
    b = _ArrayBuilder(draw, draw(st.integers(1, 3)), draw(st.integers(1, 3)), dtype)
    for _ in range(draw(st.integers(1, max_leaves))):
        b.leaf(draw(st.sampled_from(b.shapes())))
    for _ in range(draw(st.integers(1, max_ops))):
        last = len(b.nodes) - 1
        pick = st.integers(0, last) | st.integers(max(0, last - 2), last)
        i = draw(pick)
        op = draw(st.sampled_from(_ARRAY_UNARY + _ARRAY_BINARY))
        shape = b.data(i).shape
        if op == "@":
            # The right operand is a new leaf whose shape, like every node's,
            # broadcasts against (rows, cols): (k, cols) with k = 1 or rows.
            if len(shape) == 1 and draw(st.booleans()):
                right = shape  # a dot product of two vectors
            elif shape and shape[-1] in (1, b.rows):
                right = (shape[-1], b.cols)
            else:
                continue
            new = b.add("@", Ref(i), Ref(b.leaf(right)))
        elif op in _ARRAY_BINARY:
            if draw(st.booleans()):  # two nodes, possibly the same one twice
                j = draw(pick)
                new = b.add(op, Ref(i), Ref(b.away_from_zero(j) if op == "/" else j))
            elif draw(st.booleans()):  # a constant on the left: 2 - x, array / x
                new = b.add(op, b.constant(), Ref(b.away_from_zero(i) if op == "/" else i))
            else:
                new = b.add(op, Ref(i), b.constant())
        elif op == "**":
            exponent = draw(st.sampled_from(_EXPONENTS))
            if exponent == -1.0:
                i = b.away_from_zero(i)
            elif not exponent.is_integer():
                i = b.at_least_half(i)
            new = b.add(op, Ref(i), exponent)
        elif op in ("sum", "mean"):
            if not shape:
                continue
            new = b.add(op, Ref(i), params=(draw(st.integers(0, len(shape) - 1)),))
        elif op == "T":
            if len(shape) == 2 and shape[0] != shape[1]:
                continue  # its transpose would not broadcast against the others
            new = b.add(op, Ref(i))
        elif op == "log":
            new = b.add(op, Ref(b.at_least_half(i)))
        elif op == "relu" and b.np.any(b.np.abs(b.data(i)) < 0.1):
            # Away from the kink, both signs: (i * i + 0.5) times a constant of |c| >= 0.5.
            new = b.add(op, Ref(b.add("*", Ref(b.at_least_half(i)), b.constant())))
        elif op == "exp" and b.np.any(b.data(i) > 4.0):
            new = b.add(op, Ref(b.add("tanh", Ref(i))))
        else:
            new = b.add(op, Ref(i))
        if b.np.any(b.np.abs(b.data(new)) > _LIMIT):
            b.add("tanh", Ref(new))
    consumed = {a.index for s in b.steps for a in s.args if isinstance(a, Ref)}
    sinks = [b.add("total", Ref(i)) for i in range(len(b.nodes)) if i not in consumed]
    total = sinks[0]
    for i in sinks[1:]:
        total = b.add("+", Ref(total), Ref(i))
    return ArrayExpressionDag(tuple(b.leaves), tuple(b.steps), tuple(b.nodes))


# ============================================================================
# end of autodiff on arrays section
# ============================================================================


# ============================================================================
# dp and DagEvaluator (tests/test_dp.py, tests/test_dag.py, tests/project/test_examples_dp.py)
# ============================================================================

#: Short strings over a four-letter alphabet, so that characters often match.
dna: st.SearchStrategy[str] = st.text(alphabet="ACGT", max_size=24)

#: ``(weight, value)`` items for a 0/1 knapsack.
knapsack_items: st.SearchStrategy[list[tuple[int, int]]] = st.lists(
    st.tuples(st.integers(1, 30), st.integers(0, 50)), max_size=12
)

#: Coin denominations: distinct positive values.
coin_sets: st.SearchStrategy[list[int]] = st.lists(
    st.integers(1, 40), min_size=1, max_size=5, unique=True
)


@dataclass(frozen=True)
class WeightedDag:
    """A DAG on ``0 .. size - 1`` whose edges go from lower to higher numbers.

    ``edges[v]`` lists ``(u, weight)`` for each edge ``v -> u``, so numbering
    order is a topological order: a bottom-up evaluation may simply walk the
    nodes from ``size - 1`` down to 0.
    """

    size: int
    edges: dict[int, list[tuple[int, int]]]

    def successors(self, v: int) -> list[int]:
        """The heads of the edges leaving ``v`` (in edge order, repeats kept)."""
        return [u for u, _ in self.edges[v]]


@st.composite
def weighted_dags(draw: st.DrawFn, max_size: int = 14) -> WeightedDag:
    """Draw a :class:`WeightedDag`: up to ``max_size`` nodes, up to 4 edges per node.

    Parallel edges are allowed (a node may use the same input twice).
    """
    size = draw(st.integers(1, max_size))
    edges: dict[int, list[tuple[int, int]]] = {}
    for v in range(size):
        if v == size - 1:
            edges[v] = []
            continue
        heads = draw(st.lists(st.integers(v + 1, size - 1), max_size=4))
        edges[v] = [(u, draw(st.integers(-5, 20))) for u in heads]
    return WeightedDag(size, edges)


#: Bounds for bounded (LRU) stores in tests: tiny, so evictions are common.
lru_sizes: st.SearchStrategy[int] = st.integers(0, 6)

# ============================================================================
# end of dp and DagEvaluator section
# ============================================================================
