"""The package keeps its layers: what `import memokit` loads, and no process-wide switches."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "memokit"


def _modules_after(statement: str) -> list[str]:
    """The modules a fresh interpreter has loaded after running ``statement``."""
    code = f"{statement}; import sys, json; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def test_import_memokit_loads_no_teaching_code_and_no_plotting() -> None:
    """`import memokit` loads the library only: no tour, lesson or picture module, no matplotlib."""
    loaded = _modules_after("import memokit")
    assert "memokit._memoize" in loaded  # the check sees memokit's own modules
    assert [m for m in loaded if m.startswith("memokit.tour")] == []
    assert [m for m in loaded if m.split(".")[0] in ("matplotlib", "numpy", "redis")] == []


def test_the_tour_is_one_import_away() -> None:
    """`import memokit.tour` is what brings the teaching code in (the check above can fail)."""
    loaded = _modules_after("import memokit.tour._run")
    assert "memokit.tour.lessons.fib" in loaded


SWITCHES = re.compile(r"\bgc\.(disable|enable|freeze|set_threshold)\(|\bsetrecursionlimit\(")


def test_library_code_has_no_process_wide_switches() -> None:
    """No module of the library switches the collector or the recursion limit for everyone."""
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SWITCHES.search(line)
    ]
    assert found == []


def test_modules_import_only_names_their_owners_export() -> None:
    """A name one memokit module imports from another is in that module's __all__."""
    import ast
    import importlib

    private: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("memokit")):
                continue
            assert node.module is not None
            owner = importlib.import_module(node.module)
            exported = getattr(owner, "__all__", ())
            for alias in node.names:
                if _is_submodule(owner, alias.name):
                    continue  # a submodule, not a name
                if alias.name not in exported:
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    private.append(f"{where}: {alias.name} from {node.module}")
    assert private == []


def _is_submodule(owner: object, name: str) -> bool:
    """Whether ``from owner import name`` names a submodule, imported yet or not."""
    import importlib.util
    import types

    if isinstance(getattr(owner, name, None), types.ModuleType):
        return True
    package_path = getattr(owner, "__path__", None)
    owner_name = getattr(owner, "__name__", "")
    return package_path is not None and importlib.util.find_spec(f"{owner_name}.{name}") is not None
