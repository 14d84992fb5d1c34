"""Bad input to Tensor operations and to grad gets an error that says what was wrong.

Also: the array half is optional. ``import memokit.autodiff`` loads no NumPy,
and asking for a Tensor without NumPy names what to install.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_import_memokit_autodiff_loads_no_numpy() -> None:
    """`import memokit.autodiff` (and grad on Values) never imports NumPy."""
    done = _run(
        "import sys, json; import memokit.autodiff as ad; "
        "x = ad.Value(2.0); ad.grad(x * x, [x]); print(json.dumps(sorted(sys.modules)))"
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert "memokit.autodiff._grad" in loaded
    assert [m for m in loaded if m.split(".")[0] == "numpy"] == []
    assert "memokit.autodiff._tensor" not in loaded


def test_tensor_without_numpy_says_what_to_install() -> None:
    """With NumPy unimportable, memokit.autodiff.Tensor raises naming the extra to install."""
    done = _run(
        "import sys; sys.modules['numpy'] = None\n"
        "import memokit.autodiff\n"
        "try:\n"
        "    from memokit.autodiff import Tensor\n"
        "except ModuleNotFoundError as e:\n"
        "    print(type(e).__name__, e.name, '|', e)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ModuleNotFoundError numpy |"), done.stdout
    assert "pip install 'memokit[array]'" in done.stdout
    assert "Tensor" in done.stdout


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    """memokit.autodiff.Nope is an AttributeError, not an import of anything."""
    import memokit.autodiff

    with pytest.raises(AttributeError, match="Nope"):
        memokit.autodiff.Nope  # noqa: B018


np = pytest.importorskip("numpy", reason="the Tensor tests need NumPy (pip install numpy)")

from memokit.autodiff import Tensor, Value, backward, grad  # noqa: E402


@pytest.mark.parametrize(
    ("a", "b", "verb"),
    [((2, 3), (4,), "add"), ((3, 2), (2, 3), "multiply"), ((5,), (2, 4), "subtract")],
)
def test_shapes_that_do_not_broadcast_are_named_both(
    a: tuple[int, ...], b: tuple[int, ...], verb: str
) -> None:
    """x (op) y with shapes that do not broadcast: a ValueError naming both shapes."""
    x, y = Tensor(np.ones(a)), Tensor(np.ones(b))
    ops: dict[str, Callable[[], Any]] = {
        "add": lambda: x + y,
        "multiply": lambda: x * y,
        "subtract": lambda: x - y,
    }
    do = ops[verb]
    both = rf"shapes {re.escape(str(a))} and {re.escape(str(b))}"
    with pytest.raises(ValueError, match=rf"cannot {verb} {both}: they do not broadcast"):
        do()
    with pytest.raises(ValueError, match=rf"cannot divide {both}"):
        x / np.ones(b)


def test_matmul_shapes_that_do_not_fit_are_named_both() -> None:
    """(2, 3) @ (4, 5) names both shapes and the two lengths that differ."""
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(4, 5\).*\(3\).*second-to-last.*\(4\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(4,\).*\(3\).*only.*\(4\)"):
        Tensor(np.ones((2, 3))) @ np.ones(4)
    with pytest.raises(ValueError, match=r"at least one axis.*\(\)"):
        Tensor(np.ones(3)) @ 2.0


def test_reshape_to_a_wrong_size_names_both_shapes() -> None:
    """Reshaping 6 entries to (4,) says how many there are and what was asked."""
    with pytest.raises(ValueError, match=r"shape \(2, 3\) \(6 entries\) to \(4,\)"):
        Tensor(np.ones((2, 3))).reshape(4)


@pytest.mark.parametrize("shape", [(3,), (2, 2), (0,)])
def test_a_loss_holding_more_than_one_number_is_refused(shape: tuple[int, ...]) -> None:
    """grad of a non-scalar Tensor says its shape and how to reduce it."""
    t = Tensor(np.ones(shape))
    loss = t * 2.0
    said = rf"one number, got shape {re.escape(str(shape))}.*sum\(\).*mean\(\)"
    with pytest.raises(ValueError, match=said):
        grad(loss, [t])


def test_a_size_one_loss_of_any_shape_is_accepted() -> None:
    """A (1, 1) loss is one number: its gradient is computed as for a 0-d one."""
    t = Tensor(np.array([[3.0]]))
    assert grad(t * t, [t])[0].tolist() == [[6.0]]


def test_a_tensor_from_another_graph_in_wrt_is_named() -> None:
    """wrt holding a Tensor the loss does not depend on: ValueError naming wrt[i]."""
    x, stranger = Tensor(np.ones(2)), Tensor(np.ones(2), label="stranger")
    loss = (x * 3.0).sum()
    for memo in (True, False, 2):
        with pytest.raises(ValueError, match=r"wrt\[1\] .*stranger.*not part of.*allow_unused"):
            grad(loss, [x, stranger], memo=memo)
    zero = grad(loss, [stranger, x], allow_unused=True)[0]
    assert zero.shape == (2,) and not zero.any()


def test_a_value_in_a_tensor_graphs_wrt_is_a_type_error() -> None:
    """wrt=[Value] for a Tensor loss (or a Tensor for a Value loss) names both kinds."""
    x = Tensor(np.ones(2))
    with pytest.raises(TypeError, match=r"wrt\[0\] is a Value, not a Tensor"):
        grad(x.sum(), [Value(1.0)])  # type: ignore[list-item]
    v = Value(2.0)
    with pytest.raises(TypeError, match=r"wrt\[0\] is a Tensor, not a Value"):
        backward(v * v, [x])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"wrt=\[x\]"):
        grad(x.sum(), x)  # type: ignore[call-overload]


@pytest.mark.parametrize("data", [np.arange(3), np.array([True, False]), [1, 2], np.ones(2, "c16")])
def test_integer_boolean_and_complex_data_cannot_be_a_tensor(data: Any) -> None:
    """A Tensor's gradient must exist: integer arrays get a TypeError saying how to convert."""
    if isinstance(data, list):  # plain Python ints become float64: this one is fine
        assert Tensor(data).dtype == np.float64
        return
    with pytest.raises(TypeError, match=r"floating-point.*astype|floating-point.*dtype"):
        Tensor(data)


def test_integer_labels_are_required_and_checked() -> None:
    """cross_entropy wants one integer label per row, each naming a class."""
    logits = Tensor(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="labels must be integers"):
        logits.cross_entropy(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"labels must lie in 0 \.\. 2.*-1 to 3"):
        logits.cross_entropy(np.array([-1, 3]))
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*labels of shape \(3,\)"):
        logits.cross_entropy(np.array([0, 1, 2]))


def test_log_of_non_positive_entries_is_refused() -> None:
    """log() with zeros or negatives says how many and the smallest."""
    with pytest.raises(ValueError, match=r"log\(\) needs positive entries, got 2 of 3.*-1\.0"):
        Tensor(np.array([1.0, 0.0, -1.0])).log()


@pytest.mark.parametrize("bad", ["s", None, object(), 1j])
def test_combining_with_something_else_is_a_type_error(bad: Any) -> None:
    """Tensor + str (or None, an object, a complex) names the type it got."""
    with pytest.raises(TypeError, match=type(bad).__name__):
        Tensor(np.ones(2)) + bad


def test_a_tensor_exponent_is_refused() -> None:
    """t ** t says to write exp(log(t) * t)."""
    t = Tensor(np.ones(2))
    with pytest.raises(TypeError, match=r"number exponent.*log\(\).*exp\(\)"):
        t ** t  # type: ignore[operator]


def test_a_failed_operation_leaves_nothing_behind() -> None:
    """An operation that raised recorded no node: the next graph's gradient is unaffected."""
    x = Tensor(np.ones(3))
    with pytest.raises(ValueError):
        x + np.ones(4)
    loss = (x * 2.0).sum()
    result = backward(loss, [x])
    assert result.graph_size == 3 and result.gradients[0].tolist() == [2.0, 2.0, 2.0]


def test_tensors_compare_by_identity() -> None:
    """A subclass that defines == is refused: nodes are memo keys by identity."""
    with pytest.raises(TypeError, match="identity"):

        class Equal(Tensor):
            def __eq__(self, other: object) -> bool:
                return True

            __hash__ = Tensor.__hash__
