"""memokit.tour.pictures: DOT text, the DAG by dot or by the fallback, plots, index.html."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from memokit.autodiff import Value
from memokit.tour import pictures
from memokit.tour.lessons import mlp
from memokit.tour.pictures._graph import collect
from memokit.tour.pictures._layered import layout
from tests.helpers.graphs import all_paths, every_node

matplotlib = pytest.importorskip("matplotlib", reason="the plot extra: pip install 'memokit[plot]'")
matplotlib.use("Agg")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"

# ----------------------------------------------------------------- helpers


def paths_down(top: Value, bottom: Value) -> list[list[tuple[int, int]]]:
    """Every path of input edges from ``top`` to ``bottom``, as (id(input), id(consumer)) pairs."""
    return [
        [(id(below), id(above)) for above, below in itertools.pairwise(nodes)]
        for nodes, _ in all_paths(top, bottom)
    ]


class Dot:
    """A DOT file read back statement by statement: node labels and edge attributes."""

    NODE = re.compile(r"^  (n\d+) \[label=<(.*)>, fillcolor=.*\];$")
    EDGE = re.compile(r"^  (n\d+) -> (n\d+)(?: \[(.*)\])?;$")

    def __init__(self, text: str) -> None:
        self.labels: dict[str, str] = {}
        self.edges: list[tuple[str, str, dict[str, str]]] = []
        lines = text.splitlines()
        assert lines[0] == "digraph memokit {" and lines[-1] == "}"
        for line in lines[1:-1]:
            if node := self.NODE.match(line):
                assert node[1] not in self.labels, f"node {node[1]} declared twice"
                self.labels[node[1]] = node[2]
            elif edge := self.EDGE.match(line):
                attrs = dict(re.findall(r'(\w+)="([^"]*)"', edge[3] or ""))
                self.edges.append((edge[1], edge[2], attrs))
        for a, b, _ in self.edges:
            assert a in self.labels and b in self.labels, f"edge {a} -> {b} names no node"

    def named(self, name: str) -> str:
        """The id of the one node whose bold name is ``name`` (``O₂₁`` matches ``O₂₁ = tanh``)."""
        hits = [n for n, label in self.labels.items() if re.match(rf"<b>{name}( = |</b>)", label)]
        assert len(hits) == 1, (name, hits)
        return hits[0]

    def classed(self, name: str) -> list[tuple[str, str]]:
        """The edges whose class list holds ``name``."""
        return [(a, b) for a, b, attrs in self.edges if name in attrs.get("class", "").split()]


def count_paths(edges: list[tuple[str, str]], start: str, end: str) -> int:
    """Paths from ``start`` to ``end`` along ``edges`` (input -> consumer), by brute force."""
    if start == end:
        return 1
    return sum(count_paths(edges, b, end) for a, b in edges if a == start)


def is_png(path: Path) -> bool:
    """Whether the file starts with PNG's signature and holds more than a header."""
    data = path.read_bytes()
    return data.startswith(PNG_MAGIC) and len(data) > 1000


class References(HTMLParser):
    """Every src and href of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [v for k, v in attrs if k in ("src", "href") and v is not None]


def _is_dot(command: object) -> bool:
    """Whether a command given to subprocess (a command line or an argument list) starts dot."""
    if isinstance(command, str | bytes | os.PathLike):
        words = os.fsdecode(command).split()
    elif isinstance(command, Sequence):
        words = [os.fsdecode(word) for word in command[:1]]
    else:
        return False
    return bool(words) and Path(words[0]).name == "dot"


@pytest.fixture
def no_dot(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Hide Graphviz's dot: shutil.which cannot find it, and starting it fails the test.

    Every other program still runs: matplotlib starts ``fc-list`` the first
    time it builds its font cache, which depends on the machine, not on memokit.
    """
    which, popen = shutil.which, subprocess.Popen
    tried: list[object] = []

    def which_but_dot(cmd: str, *args: Any, **kwargs: Any) -> str | None:
        return None if _is_dot(cmd) else which(cmd, *args, **kwargs)

    def popen_but_dot(command: Any, *args: Any, **kwargs: Any) -> subprocess.Popen[Any]:
        if _is_dot(command):
            tried.append(command)
            raise AssertionError(f"dot must not run here: {command!r}")
        return popen(command, *args, **kwargs)

    monkeypatch.setattr(shutil, "which", which_but_dot)
    monkeypatch.setattr(subprocess, "Popen", popen_but_dot)
    yield
    assert tried == [], f"dot was started (and the error swallowed): {tried}"


def require_dot() -> str:
    """The dot program's path; skips when it is absent unless MEMOKIT_REQUIRE_DOT=1 (CI)."""
    dot = shutil.which("dot")
    if dot is None:
        if os.environ.get("MEMOKIT_REQUIRE_DOT") == "1":
            pytest.fail("MEMOKIT_REQUIRE_DOT=1 but Graphviz's dot is not on the PATH")
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    return dot


# ------------------------------------------------------------------- to_dot


def test_to_dot_has_one_statement_per_node_and_edge() -> None:
    """to_dot declares every node of the loss's graph once and every input edge once."""
    net = mlp.seed_network()
    dot = Dot(pictures.to_dot(net))
    nodes = every_node(net.loss)
    assert len(dot.labels) == len(nodes) == 45
    assert len(dot.edges) == sum(len(n.inputs) for n in nodes) == 48


def test_to_dot_highlights_the_two_paths_from_w111() -> None:
    """The edges classed path-1 and path-2 are exactly the graph's two paths from w¹₁₁ to L."""
    net = mlp.seed_network()
    dot = Dot(pictures.to_dot(net, highlight="w¹₁₁"))
    expected = paths_down(net.loss, net.params["w¹₁₁"])
    assert len(expected) == 2
    one, two = dot.classed("path-1"), dot.classed("path-2")
    assert len(one) == len(expected[0]) and len(two) == len(expected[1])
    shared = set(expected[0]) & set(expected[1])
    both = set(one) & set(two)
    assert len(both) == len(shared) > 0
    on_any = set(dot.classed("path"))
    assert on_any == set(one) | set(two)
    assert len(on_any) == len(set(expected[0]) | set(expected[1]))
    w, loss = dot.named("w¹₁₁"), dot.named("L")
    assert count_paths(one, w, loss) == 1 and count_paths(two, w, loss) == 1
    assert count_paths(sorted(on_any), w, loss) == 2
    o21, o22 = dot.named("O₂₁"), dot.named("O₂₂")
    assert any(b == o21 for _, b in one) and not any(b == o21 for _, b in two)
    assert any(b == o22 for _, b in two) and not any(b == o22 for _, b in one)
    for a, b, attrs in dot.edges:  # colored exactly when highlighted; shared edges in both
        classes = attrs.get("class", "").split()
        colors = attrs.get("color", "").split(":") if attrs.get("color") else []
        assert len(colors) == len([c for c in classes if c.startswith("path-")]), (a, b, attrs)


def test_to_dot_shows_each_nodes_value_and_adjoint() -> None:
    """Every node's label shows its value and ∂L/∂node; w¹₁₁'s adjoint is grad()'s."""
    from memokit.autodiff import grad

    net = mlp.seed_network()
    dot = Dot(pictures.to_dot(net))
    (g,) = grad(net.loss, wrt=[net.params["w¹₁₁"]])
    label = dot.labels[dot.named("w¹₁₁")]
    assert f"{net.params['w¹₁₁'].data:.4g}" in label and f"∂L/∂ {g:.4g}" in label
    assert all("∂L/∂ " in label for label in dot.labels.values())
    assert dot.labels[dot.named("L")].count("∂L/∂ 1<") == 1


def test_to_dot_of_a_plain_value_counts_repeated_inputs() -> None:
    """A node used twice (x * x) gives two edges, each on its own highlighted path."""
    x = Value(3.0, label="x")
    loss = x * x + x  # paths from x: through each factor of x * x, and straight into +
    dot = Dot(pictures.to_dot(loss, highlight=x))
    assert len(dot.labels) == 3 and len(dot.edges) == 4
    assert len(dot.classed("path")) == 4
    assert [len(dot.classed(f"path-{k}")) for k in (1, 2, 3)] == [2, 2, 1]
    assert "∂L/∂x = path-1 + path-2 + path-3 = 3 + 3 + 1 = 7" in pictures.to_dot(loss, highlight=x)


def test_to_dot_with_more_paths_than_colors_marks_them_all() -> None:
    """Past six paths every edge on any path gets the one class 'path', none 'path-k'."""
    x = Value(0.5, label="x")
    node = x
    for _ in range(3):  # each step doubles the paths: 8 in all
        node = node * node
    text = pictures.to_dot(node, highlight="x")
    dot = Dot(text)
    assert len(dot.classed("path")) == len(dot.edges) == 6
    assert "path-1" not in text and "the 8 paths from x" in text


def test_to_dot_rejects_what_it_cannot_draw() -> None:
    """A non-graph, an unknown label and a node outside the graph each get a clear error."""
    with pytest.raises(TypeError, match="expected the loss Value"):
        pictures.to_dot(3.0)  # type: ignore[arg-type]
    net = mlp.seed_network()
    with pytest.raises(ValueError, match=r"no node with that label.*w¹₁₁"):
        pictures.to_dot(net, highlight="w9")
    with pytest.raises(ValueError, match="not in the graph"):
        pictures.to_dot(net.loss, highlight=Value(1.0))


def test_to_dot_needs_neither_matplotlib_nor_dot(
    monkeypatch: pytest.MonkeyPatch, no_dot: None
) -> None:
    """to_dot works with matplotlib unimportable and no dot program."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert pictures.to_dot(mlp.seed_network()).startswith("digraph memokit {")


# --------------------------------------------------------------- draw_dag


def test_draw_dag_with_dot_writes_svg_and_png(tmp_path: Path) -> None:
    """With dot present draw_dag writes a parseable SVG with every node and edge, and a PNG."""
    require_dot()
    net = mlp.seed_network()
    svg, png = pictures.draw_dag(net, tmp_path / "dag")
    assert (svg.name, png.name) == ("dag.svg", "dag.png")
    assert is_png(png)
    root = ET.parse(svg).getroot()
    assert root.tag == f"{SVG}svg"
    groups = [g.get("class", "").split() for g in root.iter(f"{SVG}g")]
    assert sum("node" in c for c in groups) == 45
    assert sum("edge" in c for c in groups) == 48
    assert sum("path-1" in c and "edge" in c for c in groups) == len(
        paths_down(net.loss, net.params["w¹₁₁"])[0]
    )


def test_draw_dag_falls_back_to_matplotlib_without_dot(tmp_path: Path, no_dot: None) -> None:
    """Without dot, renderer='auto' draws one PNG with matplotlib and never starts dot."""
    files = pictures.draw_dag(mlp.seed_network(), tmp_path / "dag.png")
    assert files == (tmp_path / "dag.png",)
    assert is_png(files[0])
    assert not (tmp_path / "dag.svg").exists()


def test_renderer_dot_without_dot_says_how_to_get_it(tmp_path: Path, no_dot: None) -> None:
    """Asking for dot when it is absent raises, naming the package and the fallback."""
    with pytest.raises(FileNotFoundError, match=r"graphviz.*renderer='auto'"):
        pictures.draw_dag(mlp.seed_network(), tmp_path / "dag", renderer="dot")


def test_fallback_layout_is_layered_and_boxes_do_not_overlap() -> None:
    """Every edge climbs at least one level toward L, and slots in a level are a row apart."""
    graph = collect(mlp.seed_network(), "w¹₁₁")
    level, rows, levels = layout(graph)
    assert level[0] == levels - 1  # the loss (discovered first) is on top
    assert all(level[a] < level[b] for a, b in graph.edges)
    by_level: dict[int, list[float]] = {}
    for slot, row in rows.items():
        at = level[slot] if isinstance(slot, int) else slot[1]  # type: ignore[index]
        by_level.setdefault(at, []).append(row)
    for found in by_level.values():
        found.sort()
        assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(found))


# ---------------------------------------------------------- plots and index


def test_plots_write_png_files(tmp_path: Path) -> None:
    """Both plots write valid PNGs from given measurements, at the path asked for."""
    from memokit.tour.lessons import fib

    calls = pictures.plot_calls_vs_n(tmp_path / "calls.png", fib.compare(range(1, 12)))
    rows = list(mlp.scaling(range(1, 4), lru_sizes=(4,)))
    depth = pictures.plot_evaluations_vs_depth(tmp_path / "sub" / "depth.png", rows)
    assert (calls, depth) == (tmp_path / "calls.png", tmp_path / "sub" / "depth.png")
    assert is_png(calls) and is_png(depth)


def test_plots_refuse_other_suffixes_and_empty_data(tmp_path: Path) -> None:
    """A plot asked for a .jpg, or given no rows, says what is wrong before drawing."""
    with pytest.raises(ValueError, match=r"should end in \.png"):
        pictures.plot_calls_vs_n(tmp_path / "calls.jpg", [])
    with pytest.raises(ValueError, match="at least one"):
        pictures.plot_evaluations_vs_depth(tmp_path / "depth.png", [])


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> pictures.Gallery:
    """write_pictures(quick=True) run once for the tests below."""
    return pictures.write_pictures(tmp_path_factory.mktemp("pictures"), quick=True)


def test_write_pictures_writes_valid_files(gallery: pictures.Gallery) -> None:
    """Every file listed exists and is what its suffix says: PNG, SVG, DOT or HTML."""
    assert not gallery.missing
    names = {f.name for f in gallery.files}
    assert {"calls_vs_n.png", "mlp_dag.png", "mlp_dag.dot", "evaluations_vs_depth.png"} <= names
    assert "index.html" in names
    for file in gallery.files:
        assert file.parent == gallery.directory and file.is_file()
        if file.suffix == ".png":
            assert is_png(file), file
        elif file.suffix == ".svg":
            assert ET.parse(file).getroot().tag == f"{SVG}svg"
        elif file.suffix == ".dot":
            Dot(file.read_text(encoding="utf-8"))


def test_index_references_exactly_the_files_written(gallery: pictures.Gallery) -> None:
    """index.html is well-formed and links every file written, by relative path, and no other."""
    assert gallery.index is not None
    text = gallery.index.read_text(encoding="utf-8")
    ET.fromstring(text.replace("<!DOCTYPE html>", ""))  # well-formed: parses as XML too
    page = References()
    page.feed(text)
    pictures_written = {f.name for f in gallery.files} - {"index.html"}
    on_disk = {f.name for f in gallery.directory.iterdir()} - {"index.html"}
    assert set(page.found) == pictures_written == on_disk
    assert all("/" not in ref and ":" not in ref for ref in page.found)
    assert "http" not in text
    assert text.count("<figcaption>") == len(gallery.pictures) == 3


def test_index_says_what_the_lecture_is(gallery: pictures.Gallery) -> None:
    """index.html's first paragraph says the tour follows a lecture, and which kind."""
    assert gallery.index is not None
    text = gallery.index.read_text(encoding="utf-8")
    first = text.split("<p>", 1)[1].split("</p>", 1)[0]
    assert "deep-learning lecture on memoization in backpropagation" in first


def test_captions_carry_the_counted_numbers(gallery: pictures.Gallery) -> None:
    """The calls caption has fib(25)'s call counts, computed here from fib numbers."""
    a, b = 0, 1
    for _ in range(26):
        a, b = b, a + b  # a = fib(26)
    naive = 2 * a - 1  # naive fib(n) makes 2·fib(n+1) - 1 calls
    caption = gallery.pictures[0].caption
    assert f"fib(25) takes {naive:,} calls" in caption and "and 26 with @memoize" in caption


def test_write_pictures_without_matplotlib_writes_the_dot_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_dot: None
) -> None:
    """With neither matplotlib nor dot, only the DOT text and the index are written."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = pictures.write_pictures(tmp_path, quick=True)
    assert {f.name for f in result.files} == {"mlp_dag.dot", "index.html"}
    assert len(result.missing) == 3 and all("matplotlib" in m for m in result.missing)
    with pytest.raises(pictures.MissingExtraError, match=r"pip install 'memokit\[plot\]'"):
        pictures.plot_calls_vs_n(tmp_path / "calls.png")
