"""Compile small generated functions (the engines' exact-signature wrappers)."""

from __future__ import annotations

from types import CodeType
from typing import Any

__all__ = ["compile_function", "compile_source"]


def compile_source(source: str, label: str) -> CodeType:
    """Compile ``source`` once; run it later with ``exec(code, namespace)``.

    ``label`` becomes the code's file name, so tracebacks through generated
    code say what it is instead of ``<string>``.
    """
    return compile(source, f"<memokit: {label}>", "exec")


def compile_function(source: str, name: str, namespace: dict[str, Any], label: str) -> Any:
    """Execute ``source`` in ``namespace`` and return the object it binds to ``name``.

    ``label`` becomes the code's file name, so tracebacks through generated
    code say what it is instead of ``<string>``.
    """
    code = compile(source, f"<memokit: {label}>", "exec")
    exec(code, namespace)
    return namespace[name]
