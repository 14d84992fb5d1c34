"""Test-suite configuration shared by every test module."""

from __future__ import annotations

# tests/typing/ holds files that mypy checks and nobody runs: some of their
# lines are wrong calls on purpose. Keep pytest (and --doctest-modules) from
# importing them.
collect_ignore_glob = ["typing/*.py"]
