"""The dp examples (examples/dp_*.py) against independent bottom-up implementations.

tests/project/test_examples.py runs every example script with --quick; here their
functions are imported and checked on hypothesis-drawn inputs, and their
docstring examples are run.
"""

from __future__ import annotations

import doctest
import itertools
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.strategies import WeightedDag, coin_sets, dna, knapsack_items, weighted_dags

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))

import dp_coin_change  # noqa: E402
import dp_dag_evaluator  # noqa: E402
import dp_edit_distance  # noqa: E402
import dp_fib  # noqa: E402
import dp_knapsack  # noqa: E402
import dp_longest_path  # noqa: E402

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)
MODULES = [dp_coin_change, dp_dag_evaluator, dp_edit_distance, dp_fib, dp_knapsack, dp_longest_path]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module: ModuleType) -> None:
    """The >>> examples in each dp example's docstrings give the outputs they show."""
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


# ---------------------------------------------------------------- Fibonacci


def test_fib_a_million_matches_loop() -> None:
    """dp_fib.fib(10**6) equals the bottom-up loop."""
    a, b = 0, 1
    for _ in range(10**6):
        a, b = b, (a + b) % dp_fib.MOD
    assert dp_fib.fib(10**6) == a


def test_notes_fib_fails_where_dp_fib_works() -> None:
    """The notes' dict-memoized fib(2000) hits RecursionError under the default limit."""
    if sys.getrecursionlimit() > 4_000:
        pytest.skip("the recursion limit was raised in this interpreter")
    dp_fib.notes_memo.clear()
    dp_fib.notes_memo.update({0: 0, 1: 1})
    with pytest.raises(RecursionError):
        dp_fib.notes_fib(2000)


# ---------------------------------------------------------------- edit distance and LCS


def edit_rows(a: str, b: str) -> int:
    """Levenshtein distance with two rows."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def lcs_table(a: str, b: str) -> int:
    """LCS length with the full table."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    return table[len(a)][len(b)]


def is_subsequence(small: str, big: str) -> bool:
    """Whether ``small`` can be read off ``big`` left to right."""
    letters = iter(big)
    return all(c in letters for c in small)


@PROPERTY_SETTINGS
@given(dna, dna)
def test_edit_distance(a: str, b: str) -> None:
    """edit_distance equals the two-row table."""
    assert dp_edit_distance.edit_distance(a, b) == edit_rows(a, b)


@PROPERTY_SETTINGS
@given(dna, dna)
def test_lcs(a: str, b: str) -> None:
    """lcs returns a common subsequence as long as the table's LCS length."""
    common = dp_edit_distance.lcs(a, b)
    assert len(common) == lcs_table(a, b)
    assert is_subsequence(common, a)
    assert is_subsequence(common, b)


def test_edit_distance_long_strings() -> None:
    """A 20,000 x 7 edit distance (20,000+ frames deep) equals the table."""
    a = "ACGT" * 5_000
    b = "TTAGGCA"
    assert dp_edit_distance.edit_distance(a, b) == edit_rows(a, b)


# ---------------------------------------------------------------- knapsack


def knapsack_table(items: list[tuple[int, int]], capacity: int) -> int:
    """Best 0/1 knapsack value with the one-row table, capacities walked downwards."""
    best = [0] * (capacity + 1)
    for weight, value in items:
        for room in range(capacity, weight - 1, -1):
            best[room] = max(best[room], best[room - weight] + value)
    return best[capacity]


@PROPERTY_SETTINGS
@given(knapsack_items, st.integers(0, 120))
def test_knapsack(items: list[tuple[int, int]], capacity: int) -> None:
    """knapsack's value equals the table's, and its chosen items fit and add up to it."""
    total, chosen = dp_knapsack.knapsack(items, capacity)
    assert total == knapsack_table(items, capacity)
    assert len(set(chosen)) == len(chosen)
    assert sum(items[i][0] for i in chosen) <= capacity
    assert sum(items[i][1] for i in chosen) == total


# ---------------------------------------------------------------- coin change


def fewest_table(coins: list[int], amount: int) -> int | None:
    """Fewest coins with the bottom-up table (None: impossible)."""
    inf = amount + 1
    best = [0] + [inf] * amount
    for rest in range(1, amount + 1):
        for coin in coins:
            if coin <= rest and best[rest - coin] + 1 < best[rest]:
                best[rest] = best[rest - coin] + 1
    return None if best[amount] == inf else best[amount]


def ways_table(coins: list[int], amount: int) -> int:
    """Number of multisets of coins summing to amount, coin by coin."""
    ways = [1] + [0] * amount
    for coin in coins:
        for rest in range(coin, amount + 1):
            ways[rest] += ways[rest - coin]
    return ways[amount]


@PROPERTY_SETTINGS
@given(coin_sets, st.integers(0, 300))
def test_coin_change(coins: list[int], amount: int) -> None:
    """fewest_coins and ways_to_pay equal the bottom-up tables."""
    assert dp_coin_change.fewest_coins(coins, amount) == fewest_table(coins, amount)
    assert dp_coin_change.ways_to_pay(coins, amount) == ways_table(coins, amount)


def test_coin_change_deep() -> None:
    """Paying 100,000 with a coin of 1 available (100,000 frames deep) matches the table."""
    coins = [1, 7, 23, 50, 119]
    assert dp_coin_change.fewest_coins(coins, 100_000) == fewest_table(coins, 100_000)


# ---------------------------------------------------------------- longest path


def longest_table(dag: WeightedDag) -> list[int]:
    """Heaviest path weight from each node, from the last node down to the first."""
    best = [0] * dag.size
    for v in range(dag.size - 1, -1, -1):
        best[v] = max([0] + [w + best[u] for u, w in dag.edges[v]])
    return best


@PROPERTY_SETTINGS
@given(weighted_dags())
def test_longest_path(dag: WeightedDag) -> None:
    """longest_path's weight equals the table's, and its path uses real edges summing to it."""
    want = longest_table(dag)
    for start in range(dag.size):
        total, path = dp_longest_path.longest_path(dag.edges, start)
        assert total == want[start]
        assert path[0] == start
        weight = 0
        for v, u in itertools.pairwise(path):
            weight += max(w for x, w in dag.edges[v] if x == u)
        assert weight == total


def test_longest_path_long_chain() -> None:
    """A 100,000-edge chain gives weight 100,000 and the whole chain as the path."""
    chain = {v: [(v + 1, 1)] for v in range(100_000)}
    total, path = dp_longest_path.longest_path(chain, 0)
    assert total == 100_000
    assert path == list(range(100_001))


# ---------------------------------------------------------------- DagEvaluator example


@PROPERTY_SETTINGS
@given(st.integers(0, 12), st.integers(0, 50))
def test_expression_dag(k: int, x: int) -> None:
    """Repeated squaring evaluates like the plain loop; each node is computed once."""
    mod = dp_dag_evaluator.MOD
    nodes = dp_dag_evaluator.repeated_squaring(dp_dag_evaluator.Expr.leaf(x), k)
    ev = dp_dag_evaluator.evaluator()
    want = x % mod
    for _ in range(k):
        want = (want * want + want) % mod
    assert ev.evaluate(nodes[-1]) == want
    assert ev.stats().computations == 2 * k + 1


@PROPERTY_SETTINGS
@given(st.integers(0, 10))
def test_path_counter(k: int) -> None:
    """Paths from e[0] up to e[k] number 3**k, as a brute-force walk of the tree counts."""
    x = dp_dag_evaluator.Expr.leaf(2)
    nodes = dp_dag_evaluator.repeated_squaring(x, k)
    visits: Counter[int] = Counter()
    todo = [nodes[-1]]
    while todo:  # walk the expression as a tree: every path visited separately
        node = todo.pop()
        visits[id(node)] += 1
        todo.extend(node.args)
    counter = dp_dag_evaluator.path_counter(nodes[-1])
    assert counter.evaluate(x) == visits[id(x)] == 3**k
    for node in nodes:
        assert counter.evaluate(node) == visits[id(node)]


def test_equation_nodes_are_not_comparisons() -> None:
    """Expr.__eq__ builds a node; the evaluator never compares Expr values itself."""
    a = dp_dag_evaluator.Expr.leaf(4)
    b = dp_dag_evaluator.Expr.leaf(4)
    eq = a == b
    assert isinstance(eq, dp_dag_evaluator.Expr)
    ev = dp_dag_evaluator.evaluator()
    assert ev.evaluate(eq) == 1
    assert ev.stats().computations == 3  # a and b are separate nodes despite equal values
