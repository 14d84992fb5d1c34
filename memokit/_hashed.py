"""Keys hashed once: what lets a call run a key's ``__hash__`` a single time.

A memoized call looks its key up, and on a miss claims it (single flight),
reads the store again, writes the value and retires the claim: five dict
operations, each of which hashes the key. For most keys that is harmless:
hashing an ``int``, a ``str`` or any object whose hash is built into Python
runs no code of the user's and costs next to nothing. But a tuple is hashed
again element by element, and a class with a ``__hash__`` written in Python
runs it every time. So each call makes its key *canonical* once:

* a key of a :func:`plain <is_plain>` type is used as it is;
* a tuple of plain items is used as it is too;
* any other key is wrapped (:data:`HashedKey`): a one-item ``frozenset``,
  which hashes the key as it is made, keeps that hash, and compares the
  keys (all in C) when two of them meet.

The form of a key depends on its type (and a tuple's on its items' types)
alone, so every lookup of one key finds the same entry. A wrapped key never
equals a key that is not wrapped: ``f(Fraction(1))`` and ``f(1)`` are two
entries (as ``f(1)`` and ``f(1.0)`` are in ``functools.lru_cache``).

Telling plain keys from others costs a type check per argument per call. A
parameter annotated ``int``, ``str`` and the like (:func:`plain_annotation`)
is taken at its word: the generated code skips its check.

The in-memory stores keep canonical keys in their tables, so whoever reads a
table (an engine's generated code, a store's own methods) makes keys
canonical the same way: :func:`hashed` does, and the generated code inlines
its first tests (``type(key) in PLAIN_TYPES``, ``type(key) in WRAPPED_TYPES``).

Builtins that user code may replace (``builtins.hash = memoize(hash)``) are
bound here at import, as :mod:`functools` does, so that the machinery of a
memoized builtin never calls itself.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Hashable
from typing import Any, Final

__all__ = [
    "PLAIN_TYPES",
    "WRAPPED_TYPES",
    "HashedKey",
    "hashed",
    "hashed_tuple",
    "is_plain",
    "plain_annotation",
    "unhashed",
]

_len = len
_type = type
_next = next
_iter = iter
_getattr = getattr
_isinstance = isinstance
_issubclass = issubclass
# A __hash__ written in C shows on the class as a slot wrapper.
_C_HASH = types.WrapperDescriptorType
# Hashes written in C that hash other objects again each time (a tuple's
# items, a bound method's self), and frozenset, the wrapper's own type.
_NOT_FLAT = (tuple, slice, types.MethodType, frozenset)

#: Types whose instances are keys as they are (see :func:`is_plain`). The
#: built-in scalars are here from the start; other plain types join when first
#: met. Generated code reads it, so it stays a set (a fast ``in``).
PLAIN_TYPES: set[type] = {int, float, complex, str, bytes, bool, type(None), type}
#: Types whose instances are always wrapped (met before, and not plain).
WRAPPED_TYPES: set[type] = set()
# Classes made at run time (in a loop, in tests) would otherwise be kept alive
# by these sets for good: past this many, new types are classified each time.
_LEARN_AT_MOST: Final = 4096


def is_plain(cls: type) -> bool:
    """Whether keys of type ``cls`` are used as they are: hashing them again is free and silent.

    True when ``cls`` hashes with code built into Python (its ``__hash__``
    is written in C: ``int``, ``str``, ``float``, ``bytes``, an ``IntEnum``,
    a NumPy scalar, a ``Decimal``, a class that hashes by identity...),
    unless that code hashes other objects each time (a tuple hashes its
    items; a tuple of plain items is used as it is, see :func:`hashed`). A
    class with a ``__hash__`` written in Python (a dataclass, a
    ``Fraction``, a ``Path``) would run it each time: its keys are wrapped.
    The answer depends on the class alone, so it is learned once.

    >>> is_plain(int), is_plain(object), is_plain(tuple)
    (True, True, False)
    """
    if cls in PLAIN_TYPES:
        return True
    if cls in WRAPPED_TYPES:
        return False
    plain = _isinstance(_getattr(cls, "__hash__", None), _C_HASH) and not _issubclass(
        cls, _NOT_FLAT
    )
    if plain:
        if _len(PLAIN_TYPES) < _LEARN_AT_MOST:
            PLAIN_TYPES.add(cls)
    elif not _issubclass(cls, tuple) and _len(WRAPPED_TYPES) < _LEARN_AT_MOST:
        WRAPPED_TYPES.add(cls)  # a tuple's form depends on its items: never learned
    return plain


#: The wrapper: ``HashedKey((key,))``, a ``frozenset`` holding the key alone. A
#: frozenset computes its hash once and keeps it, and two of them compare their
#: items by identity, then ``==``, without hashing again: everything a dict does
#: with a wrapped key runs in C and never calls the key's ``__hash__``. Raw
#: frozensets are wrapped too (``frozenset`` is not plain), so in a table every
#: frozenset is a wrapper.
HashedKey = frozenset


def hashed(key: Any) -> Hashable:
    """Return ``key`` in canonical form: as it is, or wrapped (``HashedKey((key,))``).

    ``key`` is a key as a call makes it, never one already canonical (a
    wrapper given again would be wrapped again). Raises ``TypeError`` for an
    unhashable key, as ``hash`` does.

    >>> hashed(5), hashed((5, "a")), hashed((5, (6,)))
    (5, (5, 'a'), frozenset({(5, (6,))}))
    """
    cls = _type(key)
    if cls in PLAIN_TYPES:
        return key  # type: ignore[no-any-return]
    if cls is tuple:
        return hashed_tuple(key)
    if is_plain(cls):
        return key  # type: ignore[no-any-return]
    return HashedKey((key,))  # the one time the key is hashed


def hashed_tuple(key: tuple[Any, ...]) -> Hashable:
    """Return a tuple key as it is if every item's type is plain, else wrapped.

    >>> hashed_tuple((1, "a")), hashed_tuple((1, (2,)))
    ((1, 'a'), frozenset({(1, (2,))}))
    """
    for item in key:
        if not is_plain(_type(item)):
            return HashedKey((key,))
    return key


def unhashed(key: Hashable) -> Hashable:
    """Return the key a canonical ``key`` stands for (the inverse of :func:`hashed`)."""
    return _next(_iter(key)) if _type(key) is HashedKey else key


_PLAIN_ANNOTATIONS = {int, float, complex, str, bytes, bool, None, type(None)}
_PLAIN_NAMES = {"int", "float", "complex", "str", "bytes", "bool", "None"}


def plain_annotation(annotation: object) -> bool:
    """Whether a parameter annotated so receives plain keys (see :mod:`memokit._hashed`).

    True for ``int``, ``float``, ``complex``, ``str``, ``bytes``, ``bool``,
    ``None`` and unions of them, as objects or as the strings that
    ``from __future__ import annotations`` leaves. A call that passes such a
    parameter a subclass with a ``__hash__`` of its own is taken at its word.

    >>> plain_annotation(int), plain_annotation("int | None"), plain_annotation(tuple)
    (True, True, False)
    """
    if isinstance(annotation, str):
        return all(part.strip() in _PLAIN_NAMES for part in annotation.split("|"))
    try:
        if annotation in _PLAIN_ANNOTATIONS:
            return True
    except TypeError:  # an unhashable annotation object
        return False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return all(plain_annotation(arg) for arg in typing.get_args(annotation))
    return False
