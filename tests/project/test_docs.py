"""The documentation runs: its code blocks, its commands, its links and its build.

What each kind of fenced block in ``docs/**/*.md`` and ``README.md`` gets:

* ``>>>`` examples (in ```` ```pycon ```` or ```` ```python ```` fences) are
  doctests: pytest runs them through ``--doctest-glob='*.md'`` (the
  ``testpaths`` in pyproject.toml name README.md and ``docs/*.md``).
* Other ```` ```python ```` blocks run here, each page's blocks in order in
  one namespace, in a temporary working directory.
* ```` ```sh ```` blocks are not run; the scripts, files, extras and options
  their commands name must exist.

A python block can be held back only for a stated reason, with a comment on
the line before its fence:

* ``<!-- docs-test: needs module:NAME -->`` (or ``program:NAME``): run it
  when that module imports (that program is on PATH); otherwise the page's
  test runs the other blocks and then reports a skip naming what was missing;
* ``<!-- docs-test: skip REASON -->``: never run; REASON must say why.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import traceback
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
README = ROOT / "README.md"

#: Fence languages a page may use, and what happens to each.
RUN = {"python"}
DOCTEST = {"pycon"}
SHELL = {"sh", "bash", "console"}
SHOWN = {"text", "yaml", "toml", "json", "html", "ini"}
#: Seconds the strict site build may take.
BUILD_TIMEOUT = 180

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_MARK = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<body>.*?)\s*-->\s*$")
_SNIPPET = re.compile(r"""^\s*(?:-|;)?-8<-+\s*["']?(?P<path>[^"'\s]+)["']?\s*$""")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    #: Line number (1-based) of the opening fence.
    line: int
    language: str
    code: str
    #: The body of a ``<!-- docs-test: ... -->`` comment right above the fence.
    mark: str | None

    @property
    def where(self) -> str:
        """The block's place, as ``file:line``."""
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def is_doctest(self) -> bool:
        """Whether the block is an interactive session that doctest runs."""
        first = next((ln.strip() for ln in self.code.splitlines() if ln.strip()), "")
        return first.startswith(">>>")

    @property
    def snippets(self) -> list[str]:
        """Files the block includes with ``--8<--`` (pymdownx.snippets), if any."""
        found = [_SNIPPET.match(ln) for ln in self.code.splitlines() if ln.strip()]
        return [m.group("path") for m in found if m] if found and all(found) else []


def parse_blocks(text: str, path: Path) -> list[Block]:
    """Return the fenced code blocks of a Markdown text, with their markers."""
    lines = text.splitlines()
    blocks: list[Block] = []
    number = 0
    while number < len(lines):
        opening = _FENCE.match(lines[number])
        if not opening:
            number += 1
            continue
        fence, indent = opening.group("fence"), opening.group("indent")
        language = (opening.group("info").split() or [""])[0].lstrip(".").lower()
        above = lines[number - 1] if number else ""
        marked = _MARK.match(above)
        body: list[str] = []
        end = number + 1
        while end < len(lines):
            closing = lines[end].strip()
            if set(closing) == {fence[0]} and len(closing) >= len(fence):
                break
            body.append(lines[end][len(indent) :] if lines[end].startswith(indent) else lines[end])
            end += 1
        else:
            raise AssertionError(f"{path}:{number + 1}: this code fence is never closed")
        code = "\n".join(body) + "\n"
        blocks.append(
            Block(path, number + 1, language, code, marked.group("body") if marked else None)
        )
        number = end + 1
    return blocks


def blocks_of(path: Path) -> list[Block]:
    """The fenced blocks of one file."""
    return parse_blocks(path.read_text(encoding="utf-8"), path)


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _python_pages() -> list[Path]:
    return [p for p in [*PAGES, README] if any(_runnable(b) for b in blocks_of(p))]


def _runnable(block: Block) -> bool:
    """Whether this suite runs the block itself (python, not a doctest or an include)."""
    return block.language in RUN and not block.is_doctest and not block.snippets


def _shell_pages() -> list[Path]:
    return [p for p in [*PAGES, README] if any(b.language in SHELL for b in blocks_of(p))]


# ---------------------------------------------------------------- the parser itself


def test_parse_blocks_reads_fences_markers_and_snippets() -> None:
    """The block parser finds languages, bodies, line numbers, markers and snippet includes."""
    text = "\n".join(
        [
            "# Title",
            "",
            "<!-- docs-test: needs module:cachetools -->",
            "```python",
            "x = 1",
            "```",
            "",
            "````text",
            "```python",
            "not a block of its own",
            "```",
            "````",
            "",
            "    ```pycon",
            "    >>> 1 + 1",
            "    2",
            "",
            "    ```",
            '```python title="fib.py"',
            '--8<-- "examples/fib.py"',
            "```",
        ]
    )
    blocks = parse_blocks(text, ROOT / "page.md")
    assert [(b.line, b.language) for b in blocks] == [
        (4, "python"),
        (8, "text"),
        (14, "pycon"),
        (19, "python"),
    ]
    assert blocks[0].mark == "needs module:cachetools" and blocks[0].code == "x = 1\n"
    assert blocks[1].code.splitlines()[1] == "not a block of its own"
    assert blocks[2].is_doctest and blocks[2].code.startswith(">>> 1 + 1")
    assert blocks[3].snippets == ["examples/fib.py"] and blocks[0].snippets == []


def test_parse_blocks_rejects_an_unclosed_fence() -> None:
    """A fence that is never closed is reported with its line, not silently swallowed."""
    with pytest.raises(AssertionError, match=r"page\.md:2: this code fence is never closed"):
        parse_blocks("text\n```python\nx = 1\n", Path("page.md"))


# ---------------------------------------------------------------- every block is accounted for


@pytest.mark.parametrize("path", [*PAGES, README], ids=_rel)
def test_every_block_has_a_known_language_and_valid_marker(path: Path) -> None:
    """Each fence names a language this suite knows, and each docs-test marker is well formed."""
    known = RUN | DOCTEST | SHELL | SHOWN
    for block in blocks_of(path):
        assert block.language in known, (
            f"{block.where}: fence language {block.language!r} is not one of {sorted(known)}; "
            f"write ```python for code to run (or ```pycon for >>> sessions)"
        )
        if block.language in DOCTEST:
            assert block.is_doctest, f"{block.where}: a pycon block must start with >>>"
        if block.mark is not None:
            assert block.language in RUN and not block.is_doctest, (
                f"{block.where}: docs-test markers apply to ```python blocks that are not doctests"
            )
            _requirements(block)  # raises on a malformed marker


def _requirements(block: Block) -> list[str]:
    """Return what a marked block needs (empty for an unmarked one); reject bad markers."""
    if block.mark is None:
        return []
    verb, _, rest = block.mark.partition(" ")
    if verb == "skip":
        if len(rest.split()) < 2:
            raise AssertionError(f"{block.where}: `docs-test: skip` needs a reason in words")
        return [f"skip:{rest}"]
    if verb == "needs":
        needs = [n.strip() for n in rest.split(",") if n.strip()]
        for need in needs:
            kind, _, name = need.partition(":")
            if kind not in {"module", "program"} or not name:
                raise AssertionError(
                    f"{block.where}: write `needs module:NAME` or `needs program:NAME`, "
                    f"got {need!r}"
                )
        if needs:
            return needs
    raise AssertionError(
        f"{block.where}: unknown marker {block.mark!r}; use `docs-test: needs module:NAME` "
        f"or `docs-test: skip REASON`"
    )


def _missing(needs: list[str]) -> list[str]:
    """Return the requirements that this machine does not meet."""
    missing = []
    for need in needs:
        kind, _, name = need.partition(":")
        if kind == "skip":
            missing.append(f"never run: {name}")
        elif kind == "module" and importlib.util.find_spec(name) is None:
            missing.append(f"module {name} is not installed")
        elif kind == "program" and shutil.which(name) is None:
            missing.append(f"program {name} is not on PATH")
    return missing


def test_doctest_pages_are_collected_by_pytest() -> None:
    """Every page with >>> examples is matched by pytest's testpaths and doctest glob."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    options = config["tool"]["pytest"]["ini_options"]
    assert "--doctest-glob='*.md'" in options["addopts"]
    collected: set[Path] = set()
    for pattern in options["testpaths"]:
        for match in ROOT.glob(pattern):
            collected.update([match] if match.is_file() else match.rglob("*.md"))
    with_doctests = [p for p in [*PAGES, README] if any(b.is_doctest for b in blocks_of(p))]
    assert with_doctests, "no page has a >>> example: is the parser broken?"
    for page in with_doctests:
        assert page in collected, f"{_rel(page)} has >>> examples that pytest never collects"


# ---------------------------------------------------------------- python blocks run


@pytest.mark.parametrize("path", _python_pages(), ids=_rel)
def test_python_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's ```python blocks run in order, in one namespace, without an error."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem.replace('-', '_')}"}
    not_run: list[str] = []
    ran = 0
    for block in blocks_of(path):
        if not _runnable(block):
            continue
        missing = _missing(_requirements(block))
        if missing:
            not_run.append(f"{block.where} ({'; '.join(missing)})")
            continue
        # Pad with blank lines so that tracebacks give the line in the page.
        source = "\n" * block.line + block.code
        try:
            exec(compile(source, str(block.path), "exec"), namespace)
        except BaseException:
            pytest.fail(f"{block.where} failed:\n{traceback.format_exc()}", pytrace=False)
        ran += 1
    if not_run:
        pytest.skip(f"ran {ran} block(s); not run: {', '.join(not_run)}")
    assert ran, f"{_rel(path)} has no block that runs"


# ---------------------------------------------------------------- shell commands name real things


@cache
def _help(command: tuple[str, ...]) -> str:
    """Return the --help text of a command run from the repository root."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, *command, "--help"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"`python {' '.join(command)} --help` failed:\n{done.stderr}"
    return done.stdout


def _extras() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(config["project"]["optional-dependencies"])


_REPO_PATH = re.compile(r"^(?:examples|benchmarks|docs|tests|memokit|\.ci)/[\w./-]*$")
_EXTRA = re.compile(r"^(?:\.|memokit)?\[(?P<extras>[\w,-]+)\]$")


def commands_of(block: Block) -> list[list[str]]:
    """Split a shell block into simple commands (at &&, ||, ;, | and line ends)."""
    commands: list[list[str]] = []
    for line in block.code.splitlines():
        line = line.strip().removeprefix("$ ")
        if not line or line.startswith("#"):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        words: list[str] = []
        for token in [*lexer, ";"]:
            if token in {"&&", "||", ";", "|", "&"}:
                if words:
                    commands.append(words)
                words = []
            else:
                words.append(token)
    return commands


def check_command(words: list[str], where: str) -> None:
    """Assert that the files, extras, modules and options one command names exist."""
    for word in words:
        value = word.split("=", 1)[1] if word.startswith("--") and "=" in word else word
        if _REPO_PATH.match(value):
            assert (ROOT / value).exists(), f"{where}: `{' '.join(words)}` names missing {value}"
        extra = _EXTRA.match(word)
        if extra:
            for name in extra.group("extras").split(","):
                assert name in _extras(), f"{where}: there is no extra [{name}] in pyproject.toml"
    program = Path(words[0]).name
    if program == "memokit":  # the console script
        words = ["python", "-m", *words]
    elif not re.fullmatch(r"python(3(\.\d+)?)?", program) or len(words) < 2:
        return
    if words[1] == "-m" and len(words) > 2 and words[2] == "memokit":
        target = ("-m", "memokit", *words[3:4])
        options = words[4:]
    elif words[1].endswith(".py") and _REPO_PATH.match(words[1]):
        target = (words[1],)
        options = words[2:]
    else:
        return
    text = _help(target)
    for option in options:
        if option.startswith("-"):
            name = option.split("=", 1)[0]
            assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text), (
                f"{where}: `{' '.join(words)}`: {name} is not an option of "
                f"`python {' '.join(target)}`"
            )


def test_command_checker_catches_wrong_paths_options_and_extras() -> None:
    """The command check fails on a missing script, an unknown option and an unknown extra."""
    where = "page.md:1"
    check_command(["python", "examples/fib.py", "--quick"], where)
    with pytest.raises(AssertionError, match=r"names missing examples/nope\.py"):
        check_command(["python", "examples/nope.py"], where)
    with pytest.raises(AssertionError, match="--fast is not an option"):
        check_command(["python", "examples/fib.py", "--fast"], where)
    with pytest.raises(AssertionError, match=r"no extra \[plots\]"):
        check_command(["pip", "install", ".[plots]"], where)
    block = Block(Path("p.md"), 1, "sh", "$ a && b --x | c\nd 'e f'\n", None)
    assert commands_of(block) == [["a"], ["b", "--x"], ["c"], ["d", "e f"]]


@pytest.mark.parametrize("path", _shell_pages(), ids=_rel)
def test_shell_commands_name_real_files_and_options(path: Path) -> None:
    """Scripts, repository paths, extras and options in the page's shell blocks exist."""
    checked = 0
    for block in blocks_of(path):
        if block.language in SHELL:
            for words in commands_of(block):
                check_command(words, block.where)
                checked += 1
    assert checked


# ---------------------------------------------------------------- site structure


def _nav_pages() -> list[str]:
    """The .md files listed in mkdocs.yml's nav, in order."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = re.search(r"^nav:\n((?:[ \t]+.*\n|\n)+)", text, re.MULTILINE)
    assert nav, "mkdocs.yml has no nav: section"
    return re.findall(r"([\w./-]+\.md)\s*$", nav.group(1), re.MULTILINE)


def test_every_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    """Each docs/**/*.md is in mkdocs.yml's nav exactly once, and each nav entry is a file."""
    listed = _nav_pages()
    pages = sorted(str(p.relative_to(DOCS)) for p in PAGES)
    assert sorted(listed) == sorted(set(listed)), "a page is listed twice in the nav"
    assert sorted(listed) == pages, (
        f"not in the nav: {sorted(set(pages) - set(listed))}; "
        f"in the nav but missing: {sorted(set(listed) - set(pages))}"
    )


def test_every_example_is_included_in_the_docs() -> None:
    """Each examples/*.py is included (--8<--) on a docs page, inside a fenced block."""
    included = {s for p in PAGES for b in blocks_of(p) for s in b.snippets}
    examples = {f"examples/{p.name}" for p in (ROOT / "examples").glob("*.py")}
    assert examples, "no examples found"
    assert examples <= included, f"examples not in the docs: {sorted(examples - included)}"
    for name in included:
        assert (ROOT / name).is_file(), f"a page includes {name}, which does not exist"


# ---------------------------------------------------------------- the site builds


def _docs_tools_missing() -> list[str]:
    wanted = {"mkdocs": "mkdocs", "material": "mkdocs-material", "mkdocstrings": "mkdocstrings"}
    return [dist for module, dist in wanted.items() if importlib.util.find_spec(module) is None]


def test_site_builds_strict(tmp_path: Path) -> None:
    """mkdocs build --strict succeeds, shows the pictures and needs nothing from the network."""
    missing = _docs_tools_missing()
    if missing:
        pytest.skip(
            f"the docs extra is not installed ({', '.join(missing)} missing): "
            f"pip install -e '.[docs]' to build the site here; CI's docs step builds it"
        )
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}{done.stderr}"
    for page in PAGES:
        relative = page.relative_to(DOCS).with_suffix("")
        html = site / ("index.html" if relative.name == "index" else f"{relative}/index.html")
        assert html.is_file(), f"{_rel(page)} was not built"
    for html in site.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        remote = re.findall(r"""<(?:script|link|img)\b[^>]*?(?:src|href)=["']https?://""", text)
        assert not remote, f"{html.relative_to(site)} loads something from the network"
    backprop = (site / "backprop" / "index.html").read_text(encoding="utf-8")
    for picture in ("calls_vs_n.png", "mlp_dag.png", "evaluations_vs_depth.png"):
        assert f"img/{picture}" in backprop, f"the backprop page does not show {picture}"
        assert (site / "img" / picture).is_file(), f"docs/img/{picture} is not in the site"
