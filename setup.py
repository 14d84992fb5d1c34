"""Build memokit, with its compiled core when a C compiler is at hand.

Everything declarative lives in pyproject.toml; this file only adds the one
C extension, ``memokit._core._compiled``. It is *optional*: when it fails to
compile (no compiler, no Python headers), setuptools prints a warning and
the install goes on without it, and memokit runs its pure-Python modules,
which are the reference implementation anyway. ``memokit.IMPLEMENTATION``
says which one a process uses.

``MEMOKIT_NO_EXTENSIONS=1`` at build time skips the extension (at import
time it makes memokit ignore a built one). Interpreters other than CPython
never get it: the C uses CPython's API.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup

CORE = "memokit/_core"
SOURCES = [f"{CORE}/{name}.c" for name in ("module", "dp_engine", "dp_stack", "sweep")]
HEADERS = [f"{CORE}/core.h", f"{CORE}/dp_engine.h"]


def wanted() -> bool:
    """Whether to build the compiled core (see the module docstring)."""
    if os.environ.get("MEMOKIT_NO_EXTENSIONS", "") not in ("", "0"):
        print("memokit: MEMOKIT_NO_EXTENSIONS is set: building without the compiled core")
        return False
    return sys.implementation.name == "cpython"


extensions = []
if wanted():
    extensions.append(
        Extension(
            "memokit._core._compiled",
            sources=SOURCES,
            depends=HEADERS,
            # A compile failure leaves a pure-Python install, not a failed one.
            optional=True,
            extra_compile_args=["-std=c11"] if os.name == "posix" else [],
        )
    )

setup(ext_modules=extensions)
