"""The tour (``python -m memokit tour``) and its Fibonacci lesson."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from memokit.tour import _cli as cli
from memokit.tour import _run as _tour
from memokit.tour._cli import main
from memokit.tour.lessons import fib, progress

ROOT = Path(__file__).resolve().parents[2]


def bottom_up_fib(n: int) -> int:
    """fib(n) by a plain loop, independent of the code under test."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


@pytest.fixture(scope="module")
def quick_tour(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The quick tour run once, in process, with its pictures in a fresh folder."""
    folder = tmp_path_factory.mktemp("tour") / "pictures"
    out = io.StringIO()
    _tour.run_tour(quick=True, out=out, pictures=folder)
    return out.getvalue(), folder


def test_quick_tour_prints_every_heading(quick_tour: tuple[str, Path]) -> None:
    """The quick tour prints each step's numbered heading, the pictures step last."""
    out, _ = quick_tour
    total = len(_tour.STEPS) + 1
    for number, step in enumerate(_tour.STEPS, 1):
        assert f"== {number}/{total}  {step.heading} ==" in out
    assert f"== {total}/{total}  {_tour.PICTURES_HEADING} ==" in out
    assert "Naive Fibonacci against @memoize" in out
    assert "quick run" in out


def test_tour_says_what_the_lecture_is_before_it_mentions_it(quick_tour: tuple[str, Path]) -> None:
    """The first mention of the lecture or its notes is the intro, which says what it is."""
    out, _ = quick_tour
    intro = " ".join(out.split("== 1/", 1)[0].split())  # before step 1, unwrapped
    assert "follows the notes of a deep-learning lecture on memoization in backpropagation" in intro
    first = min(out.index(word) for word in ("lecture", "notes"))
    assert first < len(out.split("== 1/", 1)[0])


def test_quick_tour_prints_the_path_of_every_picture(quick_tour: tuple[str, Path]) -> None:
    """Every file in the pictures folder is printed, with index.html, and exists."""
    out, folder = quick_tour
    written = sorted(folder.iterdir())
    names = {f.name for f in written}
    assert {"calls_vs_n.png", "mlp_dag.png", "evaluations_vs_depth.png", "index.html"} <= names
    for file in written:
        assert f"    {file}\n" in out, f"{file} is not printed"
    tail = out.split(f"{_tour.PICTURES_HEADING} ==", 1)[1]
    assert f"Open {(folder / 'index.html').resolve().as_uri()}" in tail


def test_tour_output_has_no_progress_lines(quick_tour: tuple[str, Path]) -> None:
    """Without a progress stream nothing but lines reach the output: no carriage returns."""
    out, _ = quick_tour
    assert "\r" not in out and "… step" not in out


def test_quick_tour_checks_gradients_and_the_lru_trade_off(quick_tour: tuple[str, Path]) -> None:
    """The finite-difference and LRU steps print their verdicts from the measurements."""
    out, _ = quick_tour
    assert "All 15 gradients agree within" in out
    assert "Every row computes exactly the same gradients" in out or "agree with memo" in out
    assert "memo=False" in out and "memo=16" in out


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


def test_python_dash_m_runs_the_quick_tour_into_out(tmp_path: Path) -> None:
    """``python -m memokit tour --quick --out DIR`` works in a fresh interpreter, writes to DIR."""
    done = subprocess.run(
        [sys.executable, "-m", "memokit", "tour", "--quick", "--out", "here"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # not a terminal: no progress lines
    assert f"== 1/{len(_tour.STEPS) + 1}  {_tour.STEPS[0].heading} ==" in done.stdout
    assert "    here/index.html\n" in done.stdout
    assert (tmp_path / "here" / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here"]


def test_out_defaults_to_memokit_tour_and_progress_to_a_terminal_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The command line passes --out (default ./memokit-tour) and progress only to a TTY."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(cli, "run_tour", lambda **kwargs: calls.append(kwargs))
    assert main(["tour"]) == 0
    assert main(["tour", "--quick", "--out", "elsewhere"]) == 0

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["tour"]) == 0
    assert [(c["quick"], c["pictures"]) for c in calls] == [
        (False, "memokit-tour"),
        (True, "elsewhere"),
        (False, "memokit-tour"),
    ]
    assert [c["progress_to"] for c in calls] == [None, None, terminal]


def slow_step(quick: bool) -> Iterator[str]:
    """A step that notes its progress and takes a while between two lines."""
    yield "first line"
    progress.note("halfway there")
    time.sleep(0.6)
    yield "second line"


def fast_step(quick: bool) -> Iterator[str]:
    """A step that finishes at once."""
    progress.note("never shown")
    yield "done"


def test_progress_shows_on_a_slow_step_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A step slower than PROGRESS_AFTER shows its note on the progress stream; a fast one not."""
    monkeypatch.setattr(_tour, "PROGRESS_AFTER", 0.2)
    steps = (_tour.Step("Fast", fast_step), _tour.Step("Slow", slow_step))
    monkeypatch.setattr(_tour, "STEPS", steps)
    out, status = io.StringIO(), io.StringIO()
    _tour.run_tour(out=out, progress_to=status)
    shown = status.getvalue()
    assert re.search(r"… step 2/2: halfway there \(\d+ s\)", shown)
    assert "never shown" not in shown and "Fast" not in shown
    assert shown.endswith("\r")  # erased at the end
    assert "first line\nsecond line\n" in out.getvalue() and "\r" not in out.getvalue()


def test_progress_notes_reach_only_a_listener() -> None:
    """progress.note is silent outside listening() and heard inside it."""
    heard: list[str] = []
    progress.note("lost")
    with progress.listening(heard.append):
        progress.note("kept")
    progress.note("lost too")
    assert heard == ["kept"]


def test_tour_without_matplotlib_says_once_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With matplotlib unimportable the text still runs and one line names the plot extra."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setattr(shutil, "which", lambda name: None)  # and no Graphviz either
    monkeypatch.setattr(_tour, "STEPS", _tour.STEPS[:1])
    out = io.StringIO()
    _tour.run_tour(quick=True, out=out, pictures=tmp_path)
    text = out.getvalue()
    assert "Naive Fibonacci against @memoize" in text and "naive calls" in text
    assert text.count("pip install 'memokit[plot]'") == 1
    assert f"    {tmp_path / 'mlp_dag.dot'}\n" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html", "mlp_dag.dot"]


def test_pictures_command_writes_only_pictures_with_no_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``memokit pictures --no-index --out DIR`` prints each file it wrote, and no index.html."""
    assert main(["pictures", "--quick", "--no-index", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.split()
    assert sorted(printed) == sorted(str(p) for p in tmp_path.iterdir())
    assert not (tmp_path / "index.html").exists()


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


def test_quick_tour_runs_fib_past_the_recursion_limit_with_dp(quick_tour: tuple[str, Path]) -> None:
    """The dp step computes fib(2000) and fib(100,000) and checks both against other methods."""
    out, _ = quick_tour
    assert "fib(100,000) mod 1,000,000,007" in out
    assert "as a bottom-up loop gives" in out
    assert "the notes' number" in out


def test_fib_mod_matches_exact_fib() -> None:
    """The bottom-up check used for deep dp runs agrees with exact Fibonacci numbers."""
    for n in (0, 1, 2, 50, 300):
        assert fib.fib_mod(n, fib.PRIME) == bottom_up_fib(n) % fib.PRIME
