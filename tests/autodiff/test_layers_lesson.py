"""The tour's chapter on arrays: both granularities agree, training learns, it skips cleanly."""

from __future__ import annotations

import importlib.util

import pytest

from memokit.tour.lessons import layers_text


def test_chapter_without_its_packages_is_one_line_saying_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With NumPy or scikit-learn missing, the chapter prints one Skipped line naming them."""
    monkeypatch.setattr(layers_text, "missing", lambda: ["NumPy", "scikit-learn"])
    lines = list(layers_text.chapter(quick=True))
    assert len(lines) == 1
    assert lines[0].startswith("Skipped:") and "NumPy and scikit-learn" in lines[0]
    assert "pip install 'memokit[examples]'" in lines[0]


def test_missing_names_the_absent_packages() -> None:
    """missing() lists exactly the needed packages this interpreter cannot import."""
    needs = layers_text.NEEDS.items()
    absent = {name for module, name in needs if importlib.util.find_spec(module) is None}
    assert set(layers_text.missing()) == absent


pytest.importorskip("numpy", reason="the chapter's measurements need NumPy")
pytest.importorskip("sklearn", reason="the chapter trains on scikit-learn's digits")

from memokit.tour.lessons import layers  # noqa: E402


def test_both_ways_give_the_scalar_gradients() -> None:
    """The layered graph's ∂L/∂W¹ holds the four per-weight gradients (18 nodes, not 47)."""
    both = layers.both_ways()
    assert (both.value_nodes, both.tensor_nodes) == (47, 18)
    for t_row, v_row in zip(both.tensor_dw1, both.value_dw1, strict=True):
        assert t_row == pytest.approx(v_row, rel=1e-12, abs=1e-15)


def test_training_learns_and_memo_saves_adjoints() -> None:
    """Two epochs raise test accuracy above 80%, shrink ‖∂L/∂W‖, and naive costs more adjoints."""
    run = layers.train_digits(2)
    assert [e.number for e in run.epochs] == [1, 2]
    assert run.epochs[-1].test_accuracy > 0.8
    assert run.epochs[1].loss < run.epochs[0].loss
    assert sum(run.norms_after) < sum(run.norms_before)
    assert run.memoized_computations == run.graph_size < run.naive_computations


def test_checkpointing_trades_memory_for_recomputation() -> None:
    """Smaller k: less peak memory, more recomputation, the same gradients bit for bit."""
    nodes, runs = layers.checkpointing(6, 16, 32, (12, 6, 3))
    assert nodes == 20 and [r.k for r in runs] == [None, 12, 6, 3]
    assert all(r.same_gradients for r in runs)
    recomputed = [r.recomputations for r in runs]
    assert recomputed[0] == 0 and recomputed == sorted(recomputed)
    assert runs[-1].peak_bytes < runs[0].peak_bytes


def test_quick_chapter_prints_its_three_parts() -> None:
    """The quick chapter prints the W¹ table, the epochs and the k sweep, all gradients equal."""
    text = "\n".join(layers_text.chapter(quick=True))
    assert "18 nodes instead of 47" in text
    assert "epoch" in text and "Adam" in text
    assert "same gradients" in text and " NO" not in text
