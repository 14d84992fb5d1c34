"""``python -m memokit``: the command line of the tour (:mod:`memokit.tour`)."""

import sys

from memokit.tour._cli import main

if __name__ == "__main__":
    sys.exit(main())
