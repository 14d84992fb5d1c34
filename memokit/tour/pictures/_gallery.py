"""Every picture at once, into one folder, with an ``index.html`` that shows them all."""

from __future__ import annotations

import html
import os
import platform
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from memokit.tour.lessons import mlp, progress
from memokit.tour.lessons.mlp import Skipped
from memokit.tour.pictures._dot import draw_dag, to_dot
from memokit.tour.pictures._figure import MissingExtraError, require_matplotlib
from memokit.tour.pictures._plots import count_calls, plot_calls_vs_n, plot_evaluations_vs_depth

__all__ = [
    "ABOUT",
    "CALLS_VS_N",
    "EVALUATIONS_VS_DEPTH",
    "MLP_DAG",
    "Gallery",
    "Picture",
    "write_index",
    "write_pictures",
]

#: The index page's first paragraph, for a reader who opens it without the tour's text.
ABOUT = (
    "The memokit tour follows the notes of a deep-learning lecture on memoization in"
    " backpropagation; these pictures are drawn from its lessons."
)

#: File names the pictures are written under (the docs link these).
CALLS_VS_N = "calls_vs_n.png"
MLP_DAG = "mlp_dag"
EVALUATIONS_VS_DEPTH = "evaluations_vs_depth.png"


@dataclass(frozen=True)
class Picture:
    """One picture on disk: its files (the one to show first) and a one-line caption."""

    #: A short heading ("Calls against n").
    title: str
    #: One sentence saying what the picture shows, with the numbers measured for it.
    caption: str
    #: The files, the one to show first (a PNG or SVG), then others (the DOT source).
    files: tuple[Path, ...]


@dataclass(frozen=True)
class Gallery:
    """What :func:`write_pictures` wrote, and what it could not draw and why."""

    #: The folder everything was written into.
    directory: Path
    #: The pictures drawn, in the order the tour tells them.
    pictures: tuple[Picture, ...]
    #: The index page, when one was written.
    index: Path | None
    #: One line per picture not drawn (e.g. matplotlib is not installed).
    missing: tuple[str, ...]

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file written, pictures first, the index last."""
        found = tuple(f for p in self.pictures for f in p.files)
        return found + ((self.index,) if self.index is not None else ())


def write_pictures(
    directory: str | os.PathLike[str],
    *,
    quick: bool = False,
    index: bool = True,
    renderer: Literal["auto", "dot", "matplotlib"] = "auto",
) -> Gallery:
    """Measure the lessons and write every picture (and ``index.html``) into ``directory``.

    Without matplotlib the pictures that need it are skipped and listed in
    ``missing``; the DAG's DOT text is always written, and drawn by ``dot``
    when that program is installed.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    pictures: list[Picture] = []
    missing: list[str] = []
    try:
        require_matplotlib()
        has_plot = True
    except MissingExtraError:
        has_plot = False

    if has_plot:
        progress.note(f"counting calls for {CALLS_VS_N}")
        rows = count_calls(quick)
        last = rows[-1]
        progress.note(f"drawing {CALLS_VS_N}")
        pictures.append(
            Picture(
                "Calls against n",
                f"Calls to fib(n), counted: fib({last.n}) takes {last.naive_calls:,} calls by naive"
                f" recursion and {last.memo_calls} with @memoize (log scale).",
                (plot_calls_vs_n(out / CALLS_VS_N, rows),),
            )
        )
    else:
        missing.append(f"{CALLS_VS_N} needs matplotlib")

    net = mlp.seed_network()
    dot_file = out / f"{MLP_DAG}.dot"
    dot_file.write_text(to_dot(net, highlight="w¹₁₁"), encoding="utf-8")
    split = mlp.two_paths(net)
    nodes, _ = net.graph_size()
    dag_caption = (
        f"The lecture's MLP as a graph of {nodes} nodes, each with its value and ∂L/∂node;"
        f" the two paths from w¹₁₁ to L are highlighted: path-1 ({split.paths[0].value:.4g})"
        f" + path-2 ({split.paths[1].value:.4g}) = ∂L/∂w¹₁₁ = {split.grad:.4g}."
    )
    drawn: tuple[Path, ...] = ()
    if renderer != "matplotlib" and shutil.which("dot") is not None:
        progress.note(f"drawing {MLP_DAG} with Graphviz")
        drawn = draw_dag(net, out / MLP_DAG, renderer=renderer)
    elif has_plot:
        progress.note(f"drawing {MLP_DAG}.png with matplotlib")
        drawn = draw_dag(net, out / MLP_DAG, renderer="matplotlib")
    else:
        missing.append(f"{MLP_DAG}.png needs matplotlib (or Graphviz's dot program)")
    pictures.append(Picture("The two paths of ∂L/∂w¹₁₁", dag_caption, (*drawn, dot_file)))

    if has_plot:
        progress.note(f"measuring backward passes for {EVALUATIONS_VS_DEPTH}")
        depth_rows = list(mlp.tour_scaling(quick))
        progress.note(f"drawing {EVALUATIONS_VS_DEPTH}")
        deepest = depth_rows[-1]
        naive = deepest.runs["none"]
        how = "estimated" if isinstance(naive, Skipped) else "counted"
        pictures.append(
            Picture(
                "Evaluations against depth",
                f"Local-derivative evaluations for every parameter's gradient at 1 to"
                f" {deepest.layers} hidden layers: at {deepest.layers}, naive"
                f" {naive.evaluations:,.0f} ({how}), memoized"
                f" {deepest.runs['dict'].evaluations:,.0f}, LRU memos in between (log scale).",
                (plot_evaluations_vs_depth(out / EVALUATIONS_VS_DEPTH, depth_rows),),
            )
        )
    else:
        missing.append(f"{EVALUATIONS_VS_DEPTH} needs matplotlib")
    page = write_index(out, pictures, intro=ABOUT) if index else None
    return Gallery(out, tuple(pictures), page, tuple(missing))


def write_index(
    directory: str | os.PathLike[str],
    pictures: Sequence[Picture],
    *,
    title: str = "memokit tour: the pictures",
    intro: str = "",
) -> Path:
    """Write ``index.html`` in ``directory``: every picture with its caption, links relative.

    The page is standalone (no scripts, fonts or styles from the network) and
    also well-formed XML. Each picture shows its first file, and links the rest
    (another format, the DOT source). An ``intro``, if given, is the first
    paragraph.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as name:
    ...     folder = Path(name)
    ...     _ = (folder / "graph.dot").write_text("digraph { a -> b }")
    ...     picture = Picture("A graph", "Two nodes, one edge.", (folder / "graph.dot",))
    ...     page = write_index(folder, [picture])
    ...     page.name, 'href="graph.dot"' in page.read_text(encoding="utf-8")
    ('index.html', True)
    """
    out = Path(directory)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8"/>',
        f"<title>{_text(title)}</title>",
        "<style>",
        "body { font-family: sans-serif; max-width: 72em; margin: 2em auto; padding: 0 1em;"
        " color: #222; }",
        "figure { margin: 2.5em 0; } img { max-width: 100%; height: auto;"
        " border: 1px solid #ddd; }",
        "figcaption { margin-top: 0.5em; } .files { color: #555; font-size: 0.9em; }",
        "</style>",
        "</head>",
        "<body>",
        f"<h1>{_text(title)}</h1>",
        *([f"<p>{_text(intro)}</p>"] if intro else []),
        f"<p>Drawn by memokit {_text(_version())} on {_text(platform.python_implementation())}"
        f" {platform.python_version()}, from counts measured when the pictures were made"
        f" ({time.strftime('%Y-%m-%d %H:%M')}).</p>",
    ]
    for picture in pictures:
        files = [_relative(f, out) for f in picture.files]
        images = [f for f in files if f.rsplit(".", 1)[-1] in ("png", "svg")]
        parts.append("<figure>")
        parts.append(f"<h2>{_text(picture.title)}</h2>")
        if images:
            shown = images[0]
            parts.append(
                f'<a href="{html.escape(shown)}"><img src="{html.escape(shown)}"'
                f' alt="{html.escape(picture.title)}"/></a>'
            )
        links = " · ".join(
            f'<a href="{html.escape(f)}">{html.escape(f)}</a>' for f in files[1 if images else 0 :]
        )
        extra = f' <span class="files">Also: {links}.</span>' if links else ""
        parts.append(f"<figcaption>{_text(picture.caption)}{extra}</figcaption>")
        parts.append("</figure>")
    parts += ["</body>", "</html>", ""]
    page = out / "index.html"
    page.write_text("\n".join(parts), encoding="utf-8")
    return page


def _text(text: str) -> str:
    return html.escape(text, quote=False)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("memokit")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "(not installed)"


def _relative(file: Path, directory: Path) -> str:
    try:
        return file.resolve().relative_to(directory.resolve()).as_posix()
    except ValueError:
        raise ValueError(
            f"{file} is not inside {directory}: index.html links only the files beside it"
        ) from None
