"""The tour: the lecture's lessons, measured live (``python -m memokit tour``).

This package is the teaching side of memokit and is never imported by
``import memokit``. ``lessons`` measure (each returns plain data),
``_run`` prints the chapters in order, ``pictures`` draws the figures and
``_cli`` is the command line.
"""

__all__ = ["pictures"]
