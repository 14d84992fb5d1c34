"""Keys hashed once: what lets a call run a key's ``__hash__`` a single time.

A memoized call looks its key up, and on a miss claims it (single flight),
reads the store again, writes the value and retires the claim: five dict
operations, each of which hashes the key. For the built-in scalar types that
is harmless (hashing them runs no code of the user's and costs next to
nothing; a ``str`` and a ``frozenset`` even keep their hash), but a tuple is
hashed again element by element, and a class with a ``__hash__`` of its own
runs it every time. So a key is made *canonical* once per call:

* a key of a :func:`plain <is_plain>` type is used as it is;
* any other key is wrapped in a :class:`HashedKey`, which computes the hash
  once and hands it to every dict operation after that.

The in-memory stores keep canonical keys in their tables, so whoever reads a
table (an engine's generated code, a store's own methods) must canonicalize
the same way: :func:`hashed` does, and the generated code inlines its first
test (``type(key) in PLAIN_TYPES``).

Builtins that user code may replace (``builtins.hash = memoize(hash)``) are
bound here at import, as :mod:`functools` does, so that the machinery of a
memoized ``hash`` never calls itself.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Final

__all__ = ["PLAIN_TYPES", "HashedKey", "hashed", "hashed_tuple", "is_plain", "unhashed"]

_hash = hash
_len = len
_type = type
_bool = bool
_getattr = getattr
_object_hash = object.__hash__

#: Types whose instances are used as keys as they are: hashing one again runs
#: no code of the user's and costs little. The built-in scalars are here from
#: the start; a class that hashes by identity (``object``'s ``__hash__``) joins
#: when first met. Read by generated code, so it stays a set (a fast ``in``).
PLAIN_TYPES: set[type] = {int, float, complex, str, bytes, bool, type(None), frozenset, type}
_NOT_PLAIN: set[type] = set()
# Classes made at run time (in a loop, in tests) would otherwise be kept alive
# by these sets for good: past this many, new types are classified each time.
_LEARN_AT_MOST: Final = 4096


def is_plain(cls: type) -> bool:
    """Whether keys of type ``cls`` may be hashed again at no cost and with no code of the user's.

    True for the built-in scalars (``int``, ``float``, ``complex``, ``str``,
    ``bytes``, ``bool``, ``None``), ``frozenset`` (which keeps its hash),
    ``type``, and classes that hash by identity. A tuple is hashed element by
    element each time, and any other class runs its own ``__hash__``.

    >>> is_plain(int), is_plain(object), is_plain(tuple)
    (True, True, False)
    """
    if cls in PLAIN_TYPES:
        return True
    if cls in _NOT_PLAIN:
        return False
    plain = _getattr(cls, "__hash__", None) is _object_hash
    learned = PLAIN_TYPES if plain else _NOT_PLAIN
    if _len(learned) < _LEARN_AT_MOST:
        learned.add(cls)
    return plain


class HashedKey:
    """A key and its hash, computed once: dict operations on it never hash the key again.

    It compares equal to another ``HashedKey`` of an equal key *and to the
    key itself*, so a table may hold either form: ``f(5)`` (a plain key) and
    ``f(Fraction(5))`` (a wrapped one) are one entry, as in any dict.

    >>> key = HashedKey((1, "a"))
    >>> key == HashedKey((1, "a")) == (1, "a"), hash(key) == hash((1, "a"))
    (True, True)
    """

    __slots__ = ("hash", "key")

    def __init__(self, key: Hashable) -> None:
        self.key = key
        self.hash = _hash(key)  # the one time the key is hashed

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        if _type(other) is HashedKey:
            other = other.key
        # Identity first, as dict lookups do (a NaN key finds itself).
        return self.key is other or _bool(self.key == other)

    def __repr__(self) -> str:
        return f"HashedKey({self.key!r})"

    def __reduce__(self) -> tuple[type[HashedKey], tuple[Hashable]]:
        return (HashedKey, (self.key,))  # the hash may differ in another process


def hashed(key: Any) -> Hashable:
    """Return ``key`` in canonical form: as it is if its type is plain, else a :class:`HashedKey`.

    Raises ``TypeError`` for an unhashable key, as ``hash`` does.

    >>> hashed(5), hashed((5,))
    (5, HashedKey((5,)))
    """
    cls = _type(key)
    if cls in PLAIN_TYPES or cls is HashedKey or is_plain(cls):
        return key  # type: ignore[no-any-return]
    return HashedKey(key)


def hashed_tuple(key: tuple[Any, ...]) -> Hashable:
    """Return a tuple key as it is if every item's type is plain, else a :class:`HashedKey`.

    >>> hashed_tuple((1, "a")), hashed_tuple((1, (2,)))
    ((1, 'a'), HashedKey((1, (2,))))
    """
    for item in key:
        if not is_plain(_type(item)):
            return HashedKey(key)
    return key


def unhashed(key: Hashable) -> Hashable:
    """Return the key a canonical ``key`` stands for (the inverse of :func:`hashed`)."""
    return key.key if _type(key) is HashedKey else key
