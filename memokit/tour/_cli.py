"""Command line: ``python -m memokit tour`` (also installed as ``memokit tour``)."""

from __future__ import annotations

import argparse
import io
import os
import sys
from typing import TextIO

from memokit.tour._run import run_tour

__all__ = ["DEFAULT_OUT", "main"]

#: Where the tour and ``pictures`` write their pictures unless told otherwise.
DEFAULT_OUT = "memokit-tour"


def _parser() -> argparse.ArgumentParser:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    parser = argparse.ArgumentParser(
        prog="memokit" if name == "memokit" else "python -m memokit",
        description="memokit: typed memoization and dynamic programming.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    tour = commands.add_parser(
        "tour",
        help="run the lesson: naive vs memoized recursion and backprop, measured live",
        description=(
            "Follows the notes of a deep-learning lecture on memoization in backpropagation:"
            " naive vs memoized Fibonacci, Python's recursion limit and memokit.dp, then the"
            " lecture's MLP: ∂L/∂w¹₁₁ as two paths, the shared adjoint, finite differences,"
            " naive vs memoized vs LRU backprop as depth grows, training. Ends by drawing"
            " pictures into --out."
        ),
    )
    _quick_and_out(tour, "folder for the pictures and index.html")
    pictures = commands.add_parser(
        "pictures",
        help="draw the tour's pictures only",
        description="Measure the lessons and draw the tour's pictures, without the text.",
    )
    _quick_and_out(pictures, "folder to write into")
    pictures.add_argument(
        "--no-index", action="store_true", help="write the pictures only, no index.html"
    )
    return parser


def _quick_and_out(command: argparse.ArgumentParser, out_help: str) -> None:
    """The options both commands take: --quick, and --out DIR (described by ``out_help``)."""
    command.add_argument("--quick", action="store_true", help="smaller sizes; runs in seconds")
    command.add_argument(
        "--out", metavar="DIR", default=DEFAULT_OUT, help=f"{out_help} (default: ./{DEFAULT_OUT})"
    )


def _progress_stream() -> TextIO | None:
    """Standard error when it is a terminal (progress lines there); otherwise none."""
    stream = sys.stderr
    try:
        return stream if stream is not None and stream.isatty() else None
    except ValueError:  # closed
        return None


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
        if args.command == "pictures":
            return _pictures(args.out, quick=args.quick, index=not args.no_index)
        run_tour(quick=args.quick, pictures=args.out, progress_to=_progress_stream())
    except BrokenPipeError:  # e.g. `memokit tour | head`: the reader left, so stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def _pictures(out: str, *, quick: bool, index: bool) -> int:
    from memokit.tour import pictures

    gallery = pictures.write_pictures(out, quick=quick, index=index)
    for file in gallery.files:
        print(file)
    for line in gallery.missing:
        print(f"not drawn: {line}: {pictures.PLOT_EXTRA}", file=sys.stderr)
    return 1 if gallery.missing else 0


if __name__ == "__main__":
    sys.exit(main())
