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

:func:`decode_key` is the inverse, for listing what a store holds: it gives
back a key equal to the one encoded (numbers in the type they were encoded
as: ``1`` for ``True`` or ``1.0``, as a dict keeps the first of equal keys).
It runs no code named by the bytes: an enum member or a class is looked up
in the modules this process has already imported, never imported.
A key whose encoding is long is filed under its digest, so a store that
lists keys keeps the whole encoding beside it (:func:`filed_key`,
:func:`listed_key`).
"""

from __future__ import annotations

import enum
import hashlib
import math
import struct
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from memokit._keys import KWD_MARK

__all__ = [
    "DIGEST",
    "decode_key",
    "encode_key",
    "encode_length",
    "filed_key",
    "listed_key",
    "listed_keys",
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


# ---------------------------------------------------------------- decoding

# A length prefix longer than this many bytes (2**63 and up) is not one memokit writes.
_MAX_LENGTH_BYTES = 9


def _length(raw: bytes, at: int) -> tuple[int, int]:
    """Read a varint at ``at``; return it and where the next part starts."""
    n = shift = 0
    for _ in range(_MAX_LENGTH_BYTES):
        byte = raw[at]
        at += 1
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            return n, at
        shift += 7
    raise ValueError("a length prefix is too long")


def _take(raw: bytes, at: int, n: int) -> tuple[bytes, int]:
    end = at + n
    if end > len(raw):
        raise ValueError("it ends inside a part")
    return raw[at:end], end


def _named(dotted: str) -> Any:
    """The object ``module:qualname`` names in a module already imported (none is imported)."""
    module, _, qualname = dotted.partition(":")
    found: Any = sys.modules.get(module)
    if found is None:
        raise ValueError(f"it names {dotted!r}, and module {module!r} is not imported")
    for part in qualname.split("."):
        # vars(), not getattr: no descriptor or module __getattr__ runs.
        try:
            found = vars(found)[part]
        except (TypeError, KeyError):
            found = _hidden_builtin(dotted) if module == "builtins" else None
            if found is None:
                raise ValueError(f"it names {dotted!r}, which does not exist here") from None
            break
    return found


def _hidden_builtin(dotted: str) -> type | None:
    """A built-in type that ``builtins`` does not name (``NoneType``, ``function``, ...)."""
    for cls in object.__subclasses__():
        if type(cls) is type and f"{cls.__module__}:{cls.__qualname__}" == dotted:
            return cls
    return None


def _decode(raw: bytes, at: int) -> tuple[Any, int]:
    """Decode the key encoded at ``at``; return it and where the next part starts."""
    tag = raw[at : at + 1]
    at += 1
    if tag in (b"i", b"s", b"b"):
        n, at = _length(raw, at)
        part, at = _take(raw, at, n)
        if tag == b"i":
            return int.from_bytes(part, "big", signed=True), at
        return (part.decode("utf-8", "surrogatepass") if tag == b"s" else part), at
    if tag in (b"t", b"F"):
        n, at = _length(raw, at)
        items = []
        for _ in range(n):
            item, at = _decode(raw, at)
            items.append(item)
        return (tuple(items) if tag == b"t" else frozenset(items)), at
    if tag == b"f":
        part, at = _take(raw, at, 8)
        return struct.unpack(">d", part)[0], at
    if tag == b"c":
        part, at = _take(raw, at, 16)
        return complex(*struct.unpack(">dd", part)), at
    if tag in (b"e", b"T"):
        dotted, at = _decode(raw, at)
        if type(dotted) is not str:
            raise ValueError("a name is not a str")
        found = _named(dotted)
        if tag == b"T":
            return found, at
        name, at = _decode(raw, at)
        if not (isinstance(found, type) and issubclass(found, enum.Enum) and type(name) is str):
            raise ValueError(f"it names {dotted!r} as an enum, which it is not")
        member = found.__members__.get(name)
        if member is None:
            raise ValueError(f"enum {dotted!r} has no member {name!r} here")
        return member, at
    constant = _CONSTANTS.get(tag, _NONE)
    if constant is _NONE:
        raise ValueError(f"its type tag {tag!r} is not one memokit writes")
    return constant, at


_NONE = object()
_CONSTANTS: dict[bytes, Any] = {b"N": None, b"n": math.nan, b"K": KWD_MARK}


def decode_key(raw: bytes) -> Any:
    """Return the key :func:`encode_key` encoded as ``raw`` (a key equal to the one encoded).

    Raises ``ValueError`` for bytes that are not an encoding memokit writes,
    and for an enum member or a class whose module this process has not
    imported (decoding never imports a module: that would run its code).

    >>> decode_key(encode_key(("a", 1, frozenset({2.5}), None)))
    ('a', 1, frozenset({2.5}), None)
    >>> decode_key(encode_key(True)), decode_key(encode_key(int))
    (1, <class 'int'>)
    """
    try:
        key, end = _decode(raw, 0)
    except IndexError:
        raise ValueError("it ends inside a part") from None
    except RecursionError:
        raise ValueError("its parts are nested too deeply") from None
    if end != len(raw):
        raise ValueError("bytes follow the key")
    # Exactly the bytes memokit writes for it (one encoding per key: sorted
    # frozenset parts, shortest lengths), so a store's get finds the entry.
    if _encode(key) != raw:
        raise ValueError("it is not in the form memokit writes")
    return key


def listed_key(kb: bytes, whole: bytes | None) -> Any:
    """Return the key filed as ``kb`` (its storage key) with ``whole`` (its encoding, if digested).

    Raises ``ValueError`` when the key cannot be given back: ``kb`` is a
    digest and ``whole`` is missing (an entry written before stores kept
    it) or is not what the digest was made of, or the bytes do not decode.
    """
    if kb[:1] == DIGEST:
        if whole is None:
            raise ValueError("only a digest of its key was kept")
        if len(whole) <= _MAX_RAW_KEY or DIGEST + hashlib.sha256(whole).digest() != kb:
            raise ValueError("the key kept beside it is not the one its digest was made of")
        return decode_key(whole)
    return decode_key(kb)


def listed_keys(filed: Iterable[tuple[bytes, bytes | None]]) -> Iterator[Any]:
    """Yield the key of each ``(kb, whole)`` pair, skipping those that cannot be given back."""
    for kb, whole in filed:
        try:
            yield listed_key(kb, whole)
        except ValueError:
            continue
