"""Type checks that must pass for @memoize on coroutine functions (checked by mypy, never run)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, assert_type

from memokit import CacheInfo, memoize


@memoize
async def fetch(url: str, *, retries: int = 3) -> bytes:
    return url.encode() * retries


@memoize(maxsize=64)
async def score(a: int, b: float) -> float:
    return a * b


class Client:
    @memoize
    async def get(self, path: str) -> dict[str, int]:
        return {path: 1}


async def main() -> None:
    pending = assert_type(fetch("x"), Coroutine[Any, Any, bytes])
    assert_type(await pending, bytes)
    assert_type(await fetch("x"), bytes)
    assert_type(await fetch("x", retries=1), bytes)
    assert_type(await score(1, 2.0), float)
    assert_type(await Client().get("/"), dict[str, int])
    assert_type(fetch.cache_info(), CacheInfo)
    assert_type(fetch.cache_invalidate("x"), bool)
