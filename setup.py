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

Every build also copies the extension beside its sources, as
``build_ext --inplace`` does: run from a checkout (``python -m memokit``, as
the README does), Python imports the checkout's ``memokit/`` before the
installed copy, and that one should run the compiled core too.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

CORE = "memokit/_core"
PARTS = ("module", "dp_engine", "dp_stack", "dp_front", "dp_front_type", "dp_request", "sweep")
SOURCES = [f"{CORE}/{name}.c" for name in PARTS]
HEADERS = [f"{CORE}/core.h", f"{CORE}/dp_engine.h", f"{CORE}/dp_front.h"]
# The @memoize call path.
SOURCES += [f"{CORE}/{name}.c" for name in ("memo", "memo_miss", "memo_method")]
HEADERS += [f"{CORE}/memo.h"]


def wanted() -> bool:
    """Whether to build the compiled core (see the module docstring)."""
    if os.environ.get("MEMOKIT_NO_EXTENSIONS", "") not in ("", "0"):
        print("memokit: MEMOKIT_NO_EXTENSIONS is set: building without the compiled core")
        return False
    return sys.implementation.name == "cpython"


class build_core(build_ext):
    """build_ext that also leaves the built extension in the source tree (see above)."""

    def run(self) -> None:
        super().run()
        if self.inplace or self.editable_mode:
            return  # setuptools has put it there already
        try:
            self.copy_extensions_to_source()
        except OSError as error:  # a read-only checkout: the installed copy still has it
            self.warn(f"memokit: could not copy the compiled core into the source tree: {error}")


extensions = []
if wanted():
    extensions.append(
        Extension(
            "memokit._core._compiled",
            sources=SOURCES,
            depends=HEADERS,
            # A compile failure leaves a pure-Python install, not a failed one.
            optional=True,
            # No fused multiply-add: the sweep must round like Python's float ops.
            extra_compile_args=["-std=c11", "-ffp-contract=off"] if os.name == "posix" else [],
        )
    )

setup(ext_modules=extensions, cmdclass={"build_ext": build_core})
