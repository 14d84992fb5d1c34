# Regenerate docs/img: python -m memokit pictures --out docs/img --no-index
"""Pictures of the tour's lessons, drawn from counts measured when they are drawn.

The tour follows the notes of a deep-learning lecture on memoization in
backpropagation. Three pictures tell its story (``python -m memokit tour``
writes them all, with an ``index.html`` to open them in one go):

* :func:`plot_calls_vs_n`: calls made by naive and by memoized fib(n);
* :func:`draw_dag`: the lecture's MLP as a computation graph, each node with
  its value and ∂L/∂node, the two paths from w¹₁₁ to the loss highlighted;
* :func:`plot_evaluations_vs_depth`: local-derivative evaluations of the
  naive, memoized and LRU-bounded backward passes as the network deepens.

:func:`to_dot` writes a graph as Graphviz DOT text and needs nothing
installed. Drawing needs matplotlib (``pip install 'memokit[plot]'``), imported
only when a picture is drawn; :func:`draw_dag` uses Graphviz's ``dot`` program
instead when it is on the ``PATH``, and otherwise lays the graph out in layers
itself and draws it with matplotlib.
"""

from memokit.tour.pictures._dot import DotError, draw_dag, to_dot
from memokit.tour.pictures._figure import PLOT_EXTRA, MissingExtraError
from memokit.tour.pictures._gallery import Gallery, Picture, write_index, write_pictures
from memokit.tour.pictures._plots import plot_calls_vs_n, plot_evaluations_vs_depth

__all__ = [
    "PLOT_EXTRA",
    "DotError",
    "Gallery",
    "MissingExtraError",
    "Picture",
    "draw_dag",
    "plot_calls_vs_n",
    "plot_evaluations_vs_depth",
    "to_dot",
    "write_index",
    "write_pictures",
]
