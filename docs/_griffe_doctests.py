"""A Griffe extension for the API pages: show docstrings' ``>>>`` examples as code.

memokit's docstrings are prose plus doctest examples, the way pytest's
``--doctest-modules`` runs them. Rendered as Markdown, a bare ``>>> x`` line
is a triple-nested block quote, and Sphinx roles such as ``:func:`grad``` show
their markup. mkdocstrings loads this file (see ``mkdocs.yml``) and, for every
object it documents, rewrites the docstring text before rendering:

* each run of lines starting at ``>>>`` up to the next blank line (what
  doctest treats as one example and its expected output) is fenced as
  ``pycon``, with ``# doctest: ...`` directives dropped from the display;
* ``:role:`name``` becomes ``name`` in code style;
* a paragraph ending in ``::`` (a reStructuredText literal block) ends in ``:``;
* an attribute with no docstring but ``#:`` comment lines just above it (the
  Sphinx convention the dataclasses here use) gets those lines as docstring.

The docstrings themselves stay plain, so they read the same in ``help()``.
Only the rendered site changes; pytest still runs the originals.
"""

from __future__ import annotations

import re
from typing import Any

try:
    from griffe import Docstring, Extension
except ImportError:  # only mkdocs loads this file; the docs extra brings griffe
    Extension = object  # type: ignore[assignment,misc]

_ROLE = re.compile(r":(?:class|func|meth|data|mod|attr|exc|obj):`~?([^`]+)`")
_FLAGS = re.compile(r"\s*#\s*doctest:.*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def fence_doctests(text: str) -> str:
    """Return ``text`` with its doctest examples fenced and its Sphinx roles made code."""
    out: list[str] = []
    lines = text.splitlines()
    in_fence = False
    in_example = False
    indent = ""
    for number, line in enumerate(lines):
        stripped = line.strip()
        if in_example and not stripped:
            out.append(indent + "```")
            in_example = False
        if _FENCE.match(line) and not in_example:
            in_fence = not in_fence
            out.append(line)
            continue
        if in_fence:
            out.append(line)
            continue
        if not in_example and stripped.startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + "```pycon")
            in_example = True
        if in_example:
            out.append(_FLAGS.sub("", line))
            continue
        line = _ROLE.sub(r"`\1`", line)
        following = lines[number + 1].strip() if number + 1 < len(lines) else ""
        if line.endswith("::") and not following:
            line = line[:-1]
        out.append(line)
    if in_example:
        out.append(indent + "```")
    return "\n".join(out)


class DoctestFences(Extension):  # type: ignore[misc]
    """Fence the doctest examples of every docstring mkdocstrings renders."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        """Rewrite the docstring of each object as Griffe loads it."""
        if obj.docstring is None and obj.is_attribute:
            comment = _comment_above(obj)
            if comment:
                obj.docstring = Docstring(comment, parent=obj)
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)


def _comment_above(obj: Any) -> str:
    """Return the ``#:`` comment lines right above an attribute's line, joined."""
    if obj.lineno is None or obj.filepath is None:
        return ""
    try:
        source = obj.lines_collection[obj.filepath]
    except KeyError:
        return ""
    found: list[str] = []
    number = obj.lineno - 2  # the line above, 0-based
    while number >= 0 and source[number].strip().startswith("#:"):
        found.insert(0, source[number].strip()[2:].strip())
        number -= 1
    return " ".join(found)
