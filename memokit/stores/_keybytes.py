"""Key bytes: the bytes a persistent store files an entry under, the same in every process.

An in-memory store keys entries by ``hash()``, which changes from one
process to the next (string hashing is randomized) and says nothing about a
``frozenset``'s iteration order. A persistent store needs bytes that are the
same in every process and every Python run, and two keys that are not equal
must never give the same bytes (that would be a wrong result, not just a
miss). So keys are encoded by *value*, with a type tag and a length before
each part, for a closed set of types whose equality is known: ``None``,
``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes``, ``tuple``,
``frozenset``, enum members and classes. Numbers that compare equal (``1``,
``1.0``, ``True``) encode alike, as a dict would merge them. Anything else
raises a ``TypeError`` that says to pass a ``key=`` function, rather than
being keyed by something unstable such as ``repr`` or ``id``.

A key whose encoding is long is filed under its digest; a store that lists
its keys keeps the whole encoding beside it (:func:`filed_key`), which
:mod:`._keylist` reads back.
"""

from __future__ import annotations

import enum
import hashlib
import math
import struct
from collections.abc import Callable
from typing import Any

from memokit._keys import KWD_MARK

__all__ = [
    "DIGEST",
    "encode_key",
    "encode_length",
    "filed_key",
    "namespace_context",
    "storage_key",
]

# Encoded keys longer than this are stored as a SHA-256 digest (tag "#", which
# no encoded key starts with), so large arguments make small index entries.
_MAX_RAW_KEY = 64
#: The first byte of a storage key that is a digest.
DIGEST = b"#"


def encode_length(n: int) -> bytes:
    """Return ``n`` as a LEB128 varint: a length prefix that tells where a part ends.

    >>> encode_length(5), encode_length(300)
    (b'\\x05', b'\\xac\\x02')
    """
    if n < 0x80:
        return bytes((n,))
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _int(n: int) -> bytes:
    raw = n.to_bytes((n.bit_length() + 8) // 8, "big", signed=True)
    return b"i" + encode_length(len(raw)) + raw


def _float(x: float) -> bytes:
    if math.isfinite(x) and x.is_integer():
        return _int(int(x))  # 2.0 == 2, and -0.0 == 0
    if math.isnan(x):
        return b"n"  # one canonical NaN, whatever its payload bits
    return b"f" + struct.pack(">d", x)


def _complex(z: complex) -> bytes:
    if z.imag == 0:
        return _float(z.real)  # (2+0j) == 2
    real = math.nan if math.isnan(z.real) else z.real
    imag = math.nan if math.isnan(z.imag) else z.imag
    return b"c" + struct.pack(">dd", real, imag)


def _str(s: str) -> bytes:
    raw = s.encode("utf-8", "surrogatepass")
    return b"s" + encode_length(len(raw)) + raw


def _bytes(b: bytes) -> bytes:
    return b"b" + encode_length(len(b)) + b


def _tuple(t: tuple[Any, ...]) -> bytes:
    return b"t" + encode_length(len(t)) + b"".join([_encode(item) for item in t])


def _frozenset(s: frozenset[Any]) -> bytes:
    # Iteration order depends on hashes (randomized for str): sort the parts.
    # Each part is self-delimiting, so the sorted concatenation is unambiguous.
    return b"F" + encode_length(len(s)) + b"".join(sorted([_encode(item) for item in s]))


def _dotted_name(obj: Any, what: str) -> str:
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        # Two classes made by one function share "f.<locals>.C": not one class for good.
        raise TypeError(
            f"{what} {obj!r} has no stable name (it is defined inside a function), so it "
            f"cannot be part of a persistent cache key: define it at module level, or pass "
            f"a key= function that returns plain values"
        )
    return f"{module}:{qualname}"


_ENCODERS: dict[type, Callable[[Any], bytes]] = {
    int: _int,
    str: _str,
    tuple: _tuple,
    bytes: _bytes,
    float: _float,
    bool: _int,  # True == 1: one entry, as in a dict
    frozenset: _frozenset,
    complex: _complex,
    type(None): lambda _: b"N",
}
# A subclass of these is encoded as its base only if it keeps the base's
# equality: a tuple subclass that also compared its type would otherwise be
# merged with a plain tuple (namedtuples keep tuple's, so they qualify).
_BASES: tuple[type, ...] = (bool, int, float, complex, str, bytes, tuple, frozenset)


def _encode(key: Any) -> bytes:
    encoder = _ENCODERS.get(type(key))
    if encoder is not None:
        return encoder(key)
    if key is KWD_MARK:
        return b"K"  # memoize's marker between positional and keyword arguments
    if isinstance(key, enum.Enum):
        return b"e" + _str(_dotted_name(type(key), "enum")) + _str(key.name)
    if isinstance(key, type):
        return b"T" + _str(_dotted_name(key, "class"))
    cls = type(key)
    for base in _BASES:
        if isinstance(key, base):
            if cls.__eq__ is base.__eq__ and cls.__hash__ is base.__hash__:
                return _ENCODERS[base](key)
            break
    raise TypeError(
        f"cannot use a {cls.__name__} in a persistent cache key: its value has no encoding "
        f"that is the same in every process (supported: None, bool, int, float, complex, "
        f"str, bytes, tuple, frozenset, enum members and module-level classes). Pass a "
        f"key= function that maps the arguments to such values"
    )


def encode_key(key: Any) -> bytes:
    """Return bytes for ``key`` that are equal in every process exactly when the keys are.

    >>> encode_key(1) == encode_key(1.0) == encode_key(True)
    True
    >>> encode_key(frozenset({"a", "b"})) == encode_key(frozenset({"b", "a"}))
    True
    >>> encode_key(("a", 1)) == encode_key(("a", "1"))
    False
    """
    return _encode(key)


def storage_key(key: Any) -> bytes:
    """Return the bytes a store files ``key`` under: its encoding, or a digest if that is long.

    >>> storage_key("abc")
    b's\\x03abc'
    >>> len(storage_key("x" * 1000))
    33
    """
    raw = _encode(key)
    if len(raw) > _MAX_RAW_KEY:
        return DIGEST + hashlib.sha256(raw).digest()
    return raw


def filed_key(key: Any) -> tuple[bytes, bytes | None]:
    """Return :func:`storage_key` of ``key``, and its whole encoding if that is a digest.

    A store that lists its keys keeps the second beside the entry (it is
    ``None`` when the storage key is the encoding itself).

    >>> filed_key("abc")
    (b's\\x03abc', None)
    >>> kb, whole = filed_key("x" * 100)
    >>> kb[:1], whole[:3]
    (b'#', b'sdx')
    """
    raw = _encode(key)
    if len(raw) > _MAX_RAW_KEY:
        return DIGEST + hashlib.sha256(raw).digest(), raw
    return raw, None


def namespace_context(name: str, version: str) -> bytes:
    """Return the bytes that tie an entry to its function's name and version when signing.

    >>> namespace_context("m:f", "2")
    b't\\x02s\\x03m:fs\\x012'
    """
    return _tuple((name, version))
