"""Command line: ``python -m memokit tour`` (also installed as ``memokit tour``)."""

from __future__ import annotations

import argparse
import io
import os
import sys

from memokit._tour import run_tour

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    parser = argparse.ArgumentParser(
        prog="memokit" if name == "memokit" else "python -m memokit",
        description="memokit: typed memoization and dynamic programming.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    tour = commands.add_parser(
        "tour",
        help="run the lesson: naive vs memoized recursion, measured live",
        description="Naive vs memoized Fibonacci, then Python's recursion limit.",
    )
    tour.add_argument("--quick", action="store_true", help="smaller sizes; runs in seconds")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if isinstance(sys.stdout, io.TextIOWrapper):
        # The tour prints φ, ≈ and …; never crash on a terminal that cannot show them.
        sys.stdout.reconfigure(errors="replace")
    try:
        run_tour(quick=args.quick)
    except BrokenPipeError:  # e.g. `memokit tour | head`: the reader left, so stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
