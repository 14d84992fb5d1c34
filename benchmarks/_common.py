"""What the benchmark scripts share: optional peers, versions, which memokit was measured."""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import tomllib
from pathlib import Path
from typing import Any


def optional_import(name: str) -> tuple[Any, str]:
    """Import an optional peer; return (module or None, why not)."""
    try:
        return importlib.import_module(name), ""
    except Exception as exc:  # a broken binary wheel must not stop the run either
        return None, f"not installed ({type(exc).__name__}: {exc})"


def dist_version(dist: str, module: Any = None) -> str:
    """A package's version: the module's ``__version__`` if it has one, else its metadata."""
    found = getattr(module, "__version__", None)
    if isinstance(found, str):
        return found
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def memokit_version() -> str:
    """The version of the memokit that was imported (its working tree's pyproject.toml first)."""
    import memokit

    found = getattr(memokit, "__version__", None)
    if isinstance(found, str):
        return found
    pyproject = Path(memokit.__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.is_file():
        with pyproject.open("rb") as fh:
            project = tomllib.load(fh).get("project", {})
        if project.get("name") == "memokit" and isinstance(project.get("version"), str):
            return str(project["version"])
    return dist_version("memokit")


def memokit_fingerprint() -> str:
    """A short hash of memokit's source files, to tell apart runs of different working trees."""
    import memokit

    digest = hashlib.sha256()
    package = Path(memokit.__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
