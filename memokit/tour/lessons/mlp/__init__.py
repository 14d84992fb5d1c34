"""The lecture's network: backpropagation = chain rule + memoization, measured.

The lecture the tour follows draws a small network: two inputs, two hidden
layers of two neurons each, one output ŷ, and the squared-error loss
``L = (y - ŷ)²``. Every function here builds it from
:class:`memokit.autodiff.Value` nodes, measures something, and returns plain
data; :mod:`memokit.tour.lessons.mlp_text` turns that data into lines. One
module per step of the lesson:

* ``_network``: the names the notes use (``w¹₁₁``, ``O₂₁``), the shape, one
  forward pass as a graph (:func:`seed_network`, :func:`deep_network`);
* ``_paths``: ∂L/∂w¹₁₁ as path-1 + path-2, each factor read off the graph;
* ``_adjoints``: how often backward() computes each adjoint, with and
  without a memo;
* ``_depth``: naive against memoized against LRU-bounded backward passes as
  the network deepens, and memory kept against recomputation paid;
* ``_training``: gradient descent on noisy XOR.

Every count and loss comes from running the code; times come from
``time.perf_counter``; only the estimates for skipped naive runs are
extrapolated (from the measured growth ratio).
"""

from memokit.tour.lessons.mlp._adjoints import (
    AdjointCounts,
    SharedAdjoint,
    count_adjoints,
    shared_adjoint,
)
from memokit.tour.lessons.mlp._depth import (
    FULL_LAYERS,
    LRU_SIZES,
    LRU_SWEEP,
    QUICK_LAYERS,
    TRADEOFF_LAYERS,
    ScalingRow,
    Skipped,
    Timed,
    backprop_edges,
    growth_per_layer,
    memo_label,
    memory_tradeoff,
    scaling,
    tour_scaling,
)
from memokit.tour.lessons.mlp._network import (
    SEED,
    SEED_EXAMPLE,
    Activation,
    Architecture,
    Network,
    bias_name,
    build_network,
    deep_network,
    init_weights,
    make_parameters,
    neuron_name,
    parameter_names,
    seed_network,
    weight_name,
)
from memokit.tour.lessons.mlp._paths import Factor, PathTerm, TwoPaths, path_factor, two_paths
from memokit.tour.lessons.mlp._training import (
    FULL_STEPS,
    QUICK_STEPS,
    Example,
    TrainResult,
    TrainStep,
    accuracy,
    dataset_loss,
    make_xor,
    predict,
    train,
    train_steps,
)

__all__ = [
    "FULL_LAYERS",
    "FULL_STEPS",
    "LRU_SIZES",
    "LRU_SWEEP",
    "QUICK_LAYERS",
    "QUICK_STEPS",
    "SEED",
    "SEED_EXAMPLE",
    "TRADEOFF_LAYERS",
    "Activation",
    "AdjointCounts",
    "Architecture",
    "Example",
    "Factor",
    "Network",
    "PathTerm",
    "ScalingRow",
    "SharedAdjoint",
    "Skipped",
    "Timed",
    "TrainResult",
    "TrainStep",
    "TwoPaths",
    "accuracy",
    "backprop_edges",
    "bias_name",
    "build_network",
    "count_adjoints",
    "dataset_loss",
    "deep_network",
    "growth_per_layer",
    "init_weights",
    "make_parameters",
    "make_xor",
    "memo_label",
    "memory_tradeoff",
    "neuron_name",
    "parameter_names",
    "path_factor",
    "predict",
    "scaling",
    "seed_network",
    "shared_adjoint",
    "tour_scaling",
    "train",
    "train_steps",
    "two_paths",
    "weight_name",
]
