"""Calls mypy must reject for @memoize on coroutine functions (each line's ignore must be used)."""

from __future__ import annotations

from memokit import memoize


@memoize
async def fetch(url: str, *, retries: int = 3) -> bytes:
    return url.encode() * retries


class Client:
    @memoize
    async def get(self, path: str) -> dict[str, int]:
        return {path: 1}


def needs_text(value: str) -> None: ...


async def main() -> None:
    await fetch(1)  # type: ignore[arg-type]
    await fetch("x", retries="3")  # type: ignore[arg-type]
    await fetch("x", tries=3)  # type: ignore[call-arg]
    needs_text(await fetch("x"))  # type: ignore[arg-type]
    await Client().get(3)  # type: ignore[arg-type]
    fetch.cache_invalidate(2)  # type: ignore[arg-type]
