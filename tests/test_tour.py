"""The tour (``python -m memokit tour``) and its Fibonacci lesson."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import memokit
from memokit import _tour
from memokit.__main__ import main
from memokit.lessons import fib

ROOT = Path(__file__).resolve().parent.parent


def bottom_up_fib(n: int) -> int:
    """fib(n) by a plain loop, independent of the code under test."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def test_quick_tour_prints_every_heading(capsys: pytest.CaptureFixture[str]) -> None:
    """``tour --quick`` exits 0 and prints each step's numbered heading."""
    assert main(["tour", "--quick"]) == 0
    out = capsys.readouterr().out
    total = len(_tour.STEPS)
    for number, step in enumerate(_tour.STEPS, 1):
        assert f"== {number}/{total}  {step.heading} ==" in out
    assert "Naive Fibonacci against @memoize" in out
    assert "quick run" in out


def test_no_subcommand_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m memokit`` with no subcommand prints help naming ``tour`` and exits 0."""
    assert main([]) == 0
    assert "tour" in capsys.readouterr().out


def test_unknown_subcommand_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown subcommand exits with argparse's usage error (status 2)."""
    with pytest.raises(SystemExit) as exit_info:
        main(["nonsense"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_python_dash_m_runs_the_quick_tour() -> None:
    """``python -m memokit tour --quick`` works as a command, in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-m", "memokit", "tour", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"== 1/{len(_tour.STEPS)}  {_tour.STEPS[0].heading} ==" in done.stdout


@pytest.mark.parametrize("n", [0, 1, 2, 5, 10, 15, 20])
def test_naive_calls_are_2_fib_n_plus_1_minus_1(n: int) -> None:
    """Naive fib(n)'s counted calls equal 2*fib(n+1) - 1, fib taken from a separate loop."""
    run = fib.run_naive(n)
    assert run.value == bottom_up_fib(n)
    assert run.calls == 2 * bottom_up_fib(n + 1) - 1


@pytest.mark.parametrize("n", [0, 2, 5, 10, 30, 200])
def test_memoized_calls_are_n_plus_1(n: int) -> None:
    """Memoized fib(n) from an empty cache runs its body exactly n + 1 times (n != 1)."""
    run = fib.run_memoized(n)
    assert run.value == bottom_up_fib(n)
    assert run.calls == n + 1


def test_memoized_fib_1_is_one_call() -> None:
    """fib(1) is a base case: one call, it never reaches fib(0)."""
    assert fib.run_memoized(1).calls == 1


def test_compare_rows_match_independent_counts() -> None:
    """Every row of the lesson's table has the right value and both call counts."""
    rows = fib.compare(fib.QUICK_NS)
    assert [row.n for row in rows] == list(fib.QUICK_NS)
    for row in rows:
        assert row.value == bottom_up_fib(row.n)
        assert row.naive_calls == 2 * bottom_up_fib(row.n + 1) - 1
        assert row.memo_calls == row.n + 1
        assert row.naive_seconds > 0 and row.memo_seconds > 0
        assert row.calls_per_phi_n == pytest.approx(2 * fib.PHI / 5**0.5, rel=0.01)


def test_naive_calls_estimate_matches_a_real_count() -> None:
    """The estimate used for fib(38) and fib(40) agrees with counting, where counting is cheap."""
    for n in range(15):
        assert fib.naive_calls_estimate(n) == fib.run_naive(n).calls


def test_notes_value_of_fib_2000_is_right() -> None:
    """The 418-digit fib(2000) copied from the notes equals a bottom-up computation."""
    assert str(bottom_up_fib(2000)) == fib.NOTES_FIB_2000


def test_seed_fib_matches_the_notes_code() -> None:
    """The notes' dict-memoized fib gives correct values where it does not hit the limit."""
    seed = fib.make_seed_fib()
    assert [seed(n) for n in range(12)] == [bottom_up_fib(n) for n in range(12)]


def outcome(function: Callable[[int], int], n: int) -> str:
    """'RecursionError' or the value, from calling function(n) right here in the test."""
    try:
        return str(function(n))
    except RecursionError:
        return "RecursionError"


def test_recursion_demo_reports_what_really_happens() -> None:
    """The lesson's fib(2000) reports agree with running the same functions in the test."""
    reported = fib.attempt(fib.make_seed_fib(), 2000)
    here = outcome(fib.make_seed_fib(), 2000)
    assert reported.recursion_limit == sys.getrecursionlimit()
    if here == "RecursionError":
        assert reported.value is None
        assert reported.error is not None and reported.error.startswith("RecursionError")
    else:
        assert reported.error is None and str(reported.value) == here

    memo_reported = fib.attempt(fib.make_memoized_fib()[0], 2000)
    memo_here = outcome(fib.make_memoized_fib()[0], 2000)
    assert (memo_reported.error is not None) == (memo_here == "RecursionError")


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="the default limit is CPython's")
def test_cpython_default_limit_stops_the_notes_fib_2000() -> None:
    """On CPython at the default limit (1000), the notes' fib(2000) raises RecursionError."""
    if sys.getrecursionlimit() > 1000:
        pytest.skip(f"recursion limit raised to {sys.getrecursionlimit()}")
    assert fib.attempt(fib.make_seed_fib(), 2000).error is not None


def test_bottom_up_fill_reaches_fib_2000() -> None:
    """Filling the notes' dict from the bottom reaches fib(2000) without a RecursionError."""
    filled = fib.fill_bottom_up(fib.make_seed_fib(), 2000)
    assert filled.error is None
    assert filled.value == bottom_up_fib(2000)


def test_quick_tour_says_what_it_does_about_dp(capsys: pytest.CaptureFixture[str]) -> None:
    """The dp step demos memokit.dp when it exists and says it is coming when it does not."""
    assert main(["tour", "--quick"]) == 0
    out = capsys.readouterr().out
    if hasattr(memokit, "dp"):
        assert "fib(100,000) mod 1,000,000,007" in out
        assert "as a bottom-up loop gives" in out
        assert "the notes' number" in out
    else:
        assert "memokit.dp is not in this version" in out


def test_fib_mod_matches_exact_fib() -> None:
    """The bottom-up check used for deep dp runs agrees with exact Fibonacci numbers."""
    for n in (0, 1, 2, 50, 300):
        assert fib.fib_mod(n, fib.PRIME) == bottom_up_fib(n) % fib.PRIME
