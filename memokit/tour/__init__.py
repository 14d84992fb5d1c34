"""The tour: a lecture's lessons, measured live (``python -m memokit tour``).

The lecture is a deep-learning lecture on memoization in backpropagation;
the tour follows its notes, from naive against memoized Fibonacci to
"backpropagation = chain rule + memoization" on a small network. This
package is the teaching side of memokit and is never imported by
``import memokit``. ``lessons`` measure (each returns plain data), ``_run``
prints the chapters in order, ``pictures`` draws the figures and ``_cli`` is
the command line.
"""

__all__ = ["pictures"]
