"""Bytes for stores that outlive the process: stable keys, and values signed with HMAC.

Two jobs, both about trusting what comes back from disk or from another
machine:

* **Keys** (:func:`encode_key`). An in-memory store keys entries by
  ``hash()``, which changes from one process to the next (string hashing is
  randomized) and says nothing about a ``frozenset``'s iteration order. A
  persistent store needs bytes that are the same in every process and every
  Python run, and two keys that are not equal must never give the same bytes
  (that would be a wrong result, not just a miss). So keys are encoded by
  *value*, with a type tag and a length before each part, for a closed set of
  types whose equality we know: ``None``, ``bool``, ``int``, ``float``,
  ``complex``, ``str``, ``bytes``, ``tuple``, ``frozenset``, enum members and
  classes. Numbers that compare equal (``1``, ``1.0``, ``True``) encode
  alike, as a dict would merge them. Anything else raises a ``TypeError``
  that says to pass a ``key=`` function, rather than being keyed by
  something unstable such as ``repr`` or ``id``.
* **Values** (:class:`Codec`). Results are written with pickle, as JSON, or
  (``bytes``, ``bytearray`` and ``memoryview`` results) as they are. A
  pickle runs code when loaded, so a pickled entry carries an HMAC-SHA256
  tag over the entry's namespace, key and payload, made with a secret only
  the writers know; an entry whose tag does not verify is never unpickled.
  The tag covers the key too, so a valid entry copied under another key (or
  another function's name) does not verify either. JSON and bytes cannot run
  code when read, so they need no secret (and are signed when there is one).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import math
import os
import pickle
import struct
import warnings
from collections.abc import Callable
from typing import Any, Final, Literal, Self

from memokit._keys import KWD_MARK

__all__ = [
    "SECRET_ENV",
    "BadEntry",
    "BadEntryWarning",
    "Codec",
    "Data",
    "NamedViews",
    "check_name",
    "check_seconds",
    "encode_key",
    "make_codec",
    "namespace_context",
    "storage_key",
    "warn_bad_entry",
]

#: The environment variable a store reads its HMAC secret from.
SECRET_ENV: Final = "MEMOKIT_CACHE_KEY"
_MIN_SECRET = 16
# Encoded keys longer than this are stored as a SHA-256 digest (tag "#", which
# no encoded key starts with), so large arguments make small index entries.
_MAX_RAW_KEY = 64


class BadEntryWarning(UserWarning):
    """A stored entry failed its integrity check and was ignored (treated as a miss)."""


def warn_bad_entry(store: str, name: str, reason: str) -> None:
    """Warn, once per store, that an entry of ``name`` was ignored and why.

    ``store`` says which store, e.g. ``SQLiteStore('cache.db')``; the caller
    decides that this is the first such entry and counts every one.
    """
    warnings.warn(
        BadEntryWarning(
            f"{store}: ignored an entry of {name or '<unbound>'!r} because {reason}; it "
            f"counts as a miss and will be recomputed. Later ones are counted in "
            f"store.rejected without a warning."
        ),
        stacklevel=5,  # past this function, the store's decoding and get: toward the caller
    )


# ---------------------------------------------------------------- keys


def _length(n: int) -> bytes:
    """``n`` as a LEB128 varint: a prefix that tells where a part ends."""
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
    return b"i" + _length(len(raw)) + raw


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
    return b"s" + _length(len(raw)) + raw


def _bytes(b: bytes) -> bytes:
    return b"b" + _length(len(b)) + b


def _tuple(t: tuple[Any, ...]) -> bytes:
    return b"t" + _length(len(t)) + b"".join([_encode(item) for item in t])


def _frozenset(s: frozenset[Any]) -> bytes:
    # Iteration order depends on hashes (randomized for str): sort the parts.
    # Each part is self-delimiting, so the sorted concatenation is unambiguous.
    return b"F" + _length(len(s)) + b"".join(sorted([_encode(item) for item in s]))


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
        return b"#" + hashlib.sha256(raw).digest()
    return raw


def namespace_context(name: str, version: str) -> bytes:
    """Return the bytes that tie an entry to its function's name and version when signing."""
    return _tuple((name, version))


# ---------------------------------------------------------------- names and options


def check_seconds(owner: str, option: str, value: object) -> float:
    """Return ``value`` as a float if it is a positive number of seconds, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{owner}({option}=...) takes a number of seconds > 0, got {value!r}")
    return float(value)


def check_name(owner: str, name: object) -> str:
    """Return ``name`` if it can name a namespace for good, else raise a TypeError saying why."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"{owner}.bind() takes a non-empty str name, got {name!r}")
    if "<" in name:
        # "make.<locals>.f" is shared by every closure that make() returns,
        # and "<lambda>" by every lambda of a module: results would be mixed up.
        raise TypeError(
            f"{owner} keeps each function's entries under its qualified name, and {name!r} "
            f"does not name one function for good (functions defined inside another "
            f"function, and lambdas, share their name with every other one made by the same "
            f"code). Define the function at module level, or choose a name yourself: "
            f"store=store.bind('a-unique-name')"
        )
    return name


class NamedViews:
    """What the persistent stores share: views bound to a name, their counts, ``with`` blocks.

    A store sets ``_name`` (``""`` when unbound), ``_version`` and the
    per-view state that ``_init_view`` makes (``_rejected`` among it), and
    gives ``close``, which the end of a ``with`` block calls.
    """

    _name: str
    _version: str
    _rejected: int

    def _init_view(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        """Leave a ``with`` block: :meth:`close` the store."""
        self.close()

    def bind(self, name: str) -> Self:
        """Return a view of this store whose entries live under ``name`` (``@memoize`` calls this).

        A store made by the constructor is unbound (its own entries use the
        empty name); ``bind`` on it gives a view that shares its file or
        client, and its settings. A view is already bound, so binding it
        again returns it unchanged: that is how to choose a name yourself,
        ``@memoize(store=store.bind("my-name"))``.
        """
        if self._name:
            return self
        check_name(type(self).__name__, name)
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._name = name
        view._init_view()
        return view

    @property
    def name(self) -> str:
        """The name this store's entries live under (``""`` if unbound)."""
        return self._name

    @property
    def version(self) -> str:
        """The version that, with the name (and a RedisStore's prefix), selects the entries."""
        return self._version

    @property
    def rejected(self) -> int:
        """How many entries failed their integrity check and were ignored (treated as misses)."""
        return self._rejected


# ---------------------------------------------------------------- values

_SIGNED = 0x01
_FORMATS = {"pickle": b"p", "json": b"j", "bytes": b"b"}
_TAG = 32  # bytes of an HMAC-SHA256 tag
_JSON_TYPES = (type(None), bool, int, float, str)
# The bytes serializer's prefix: the value's type, then the data's length.
_BYTES_TYPES: dict[type, bytes] = {bytes: b"b", bytearray: b"a", memoryview: b"m"}
_DATA_LENGTH = struct.Struct(">Q")

#: What a value's bytes may be held in: a store writes the parts without joining them.
Data = bytes | bytearray | memoryview


def _check_json(value: Any, where: str) -> None:
    """Raise a TypeError unless ``value`` comes back from JSON equal and of the same type."""
    cls = type(value)
    if cls in _JSON_TYPES:
        if cls is float and not math.isfinite(value):
            raise TypeError(f"the JSON serializer cannot store the float {value!r} at {where}")
        return
    if cls is list:
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]")
        return
    if cls is dict:
        for k, item in value.items():
            if type(k) is not str:
                raise TypeError(
                    f"the JSON serializer stores dicts with str keys only; {where} has the "
                    f"{type(k).__name__} key {k!r} (it would come back as a str)"
                )
            _check_json(item, f"{where}[{k!r}]")
        return
    hint = " (it would come back as a list)" if isinstance(value, tuple) else ""
    raise TypeError(
        f"the JSON serializer stores None, bool, int, float, str, list and dict with str keys; "
        f"{where} is a {cls.__name__}{hint}. Return plain data, or use serializer='pickle' "
        f"with an HMAC secret"
    )


def _bytes_kind(value: Any) -> bytes:
    """Return the type code of a value the bytes serializer keeps; raise TypeError for others."""
    kind = _BYTES_TYPES.get(type(value))
    if kind is None:
        raise TypeError(
            f"the bytes serializer stores bytes, bytearray and memoryview; the result is of "
            f"type {type(value).__name__}. Return bytes, or use serializer='pickle' with an "
            f"HMAC secret"
        )
    if kind == b"m" and (value.format != "B" or value.ndim != 1 or not value.c_contiguous):
        # Only a flat view of unsigned bytes comes back equal to the one stored.
        raise TypeError(
            f"the bytes serializer stores flat memoryviews of unsigned bytes (format 'B', one "
            f"dimension, contiguous); the result has format {value.format!r} and "
            f"{value.ndim} dimension(s). Return view.cast('B') or bytes(view)"
        )
    return kind


class Codec:
    """Turns values into entry bytes and back, signing them when it has a secret.

    An entry is a *head* followed by the *data*::

        [flags][format][32-byte HMAC tag, if signed][prefix][data]

    The tag is HMAC-SHA256 over the first two bytes, the entry's context (its
    namespace and key), the prefix and the data. For pickle and JSON the data
    is the serialized value and the prefix is empty. For bytes the data is
    the value itself, and the prefix is its type (one byte: bytes, bytearray
    or memoryview) and the data's length (8 bytes), so an unsigned entry that
    lost its end is refused rather than returned short.

    :meth:`encode` and :meth:`decode` take the head and the data as two
    parts, so that a store can write and read a large value without copying
    it into one string; :meth:`dumps` and :meth:`loads` take the whole entry.
    """

    __slots__ = ("_fmt", "_header", "_inner", "_outer", "format", "head_size", "signed")

    def __init__(self, fmt: Literal["pickle", "json", "bytes"], secret: bytes | None) -> None:
        self.format = fmt
        self.signed = secret is not None
        self._fmt = _FORMATS[fmt]
        self._header = bytes((_SIGNED if self.signed else 0,)) + self._fmt
        prefix = 1 + _DATA_LENGTH.size if fmt == "bytes" else 0
        #: The bytes of every entry this codec writes before the data.
        self.head_size = 2 + (_TAG if self.signed else 0) + prefix
        self._inner: Any = None
        self._outer: Any = None
        if secret is not None:
            # HMAC as RFC 2104 defines it, H(K ^ opad, H(K ^ ipad, message)),
            # with both keyed SHA-256 states made once and copied per entry:
            # half the time of hmac.HMAC.copy() per hit (1.7 us against 3.3
            # us measured), whose Python wrapper costs more than the hashing.
            # tests/test_stores.py checks the tags against hmac.new.
            key = hashlib.sha256(secret).digest() if len(secret) > 64 else secret
            key = key.ljust(64, b"\0")
            self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key) + self._header)
            self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def _tag(self, context: bytes, prefix: bytes | memoryview, parts: list[Data]) -> bytes:
        """HMAC-SHA256(secret, header + len(context) + context + prefix + the parts' bytes)."""
        inner = self._inner.copy()
        inner.update(_length(len(context)) + context)
        if prefix:
            inner.update(prefix)
        for part in parts:
            inner.update(part)
        outer = self._outer.copy()
        outer.update(inner.digest())
        digest: bytes = outer.digest()
        return digest

    def encode(self, context: bytes, value: Any) -> tuple[bytes, list[Data], int]:
        """Return the entry for ``value`` under ``context`` as ``(head, data parts, size)``.

        The entry is the head followed by the parts; ``size`` is its length
        in bytes. The parts are not copied into one string: a bytes value is
        its own part, and a pickle comes as the pickler wrote it (a large
        bytes object inside a value is passed through as it is).
        """
        prefix = b""
        parts: list[Data]
        if self.format == "bytes":
            kind = _bytes_kind(value)
            size = len(value) if kind != b"m" else value.nbytes
            parts = [value]
            prefix = kind + _DATA_LENGTH.pack(size)
        elif self.format == "json":
            _check_json(value, "the result")
            data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
            parts, size = [data], len(data)
        else:
            # pickle.dumps copies everything into one growing buffer: for a
            # 1 MiB bytes value, 0.8 ms and 258 fresh page faults per call
            # (measured); a Pickler writing to _Parts copies nothing.
            sink = _Parts()
            try:
                pickle.Pickler(sink, pickle.HIGHEST_PROTOCOL).dump(value)
            except Exception as exc:
                raise TypeError(
                    f"cannot pickle a result of type {type(value).__name__} for a persistent "
                    f"store ({type(exc).__name__}: {exc}); return a picklable value, or use "
                    f"an in-memory store"
                ) from exc
            parts, size = sink.parts, sink.size
        if self._inner is None:
            head = self._header + prefix
        else:
            head = self._header + self._tag(context, prefix, parts) + prefix
        return head, parts, len(head) + size

    def dumps(self, context: bytes, value: Any) -> bytes:
        """Return the entry bytes for ``value`` stored under ``context``."""
        head, parts, _ = self.encode(context, value)
        return b"".join([head, *parts])

    def decode(self, context: bytes, head: bytes | memoryview, data: Data) -> Any:
        """Return the value in the entry ``head + data``; raise :class:`BadEntry` if it fails.

        A pickle is loaded only after its tag has been checked; an unsigned
        pickle is never loaded.
        """
        if head[:2] != self._header:
            kind = "signed" if head[:1] == bytes((_SIGNED,)) else "unsigned"
            raise BadEntry(
                f"it is {kind} {_format_name(bytes(head[1:2]))}, expected {self._describe()}"
            )
        if len(head) != self.head_size:
            raise BadEntry(f"it is {len(head) + len(data)} bytes long, too short to be an entry")
        if self._inner is not None:
            prefix = head[2 + _TAG :]
            if not hmac.compare_digest(head[2 : 2 + _TAG], self._tag(context, prefix, [data])):
                raise BadEntry(
                    "its HMAC tag does not verify (written with another secret, or altered)"
                )
        else:
            prefix = head[2:]
        if self.format == "bytes":
            return _bytes_value(prefix, data)
        try:
            if self.format == "json":
                return json.loads(bytes(data))
            return pickle.loads(data)
        except Exception as exc:
            # Signed by us, but written by code that has changed since (a class
            # renamed or moved): recompute rather than fail the call.
            raise BadEntry(f"it could not be loaded ({type(exc).__name__}: {exc})") from None

    def loads(self, context: bytes, entry: bytes) -> Any:
        """Return the value in ``entry``; raise :class:`BadEntry` if it does not verify."""
        view = memoryview(entry)  # no copy of a large payload
        size = self.head_size
        if len(entry) < size:  # then the head check fails, or says "too short"
            return self.decode(context, view, b"")
        return self.decode(context, view[:size], view[size:])

    def _describe(self) -> str:
        return f"{'signed' if self.signed else 'unsigned'} {self.format}"


class _Parts:
    """A file for ``pickle.Pickler`` that keeps each piece it is given, without copying it."""

    __slots__ = ("parts", "size")

    def __init__(self) -> None:
        self.parts: list[Data] = []
        self.size = 0

    def write(self, data: Data) -> int:
        """Keep ``data``; return its length in bytes."""
        size = len(data) if type(data) is bytes else memoryview(data).nbytes
        self.parts.append(data)
        self.size += size
        return size


def _bytes_value(prefix: bytes | memoryview, data: Data) -> bytes | bytearray | memoryview:
    """Return the bytes serializer's value: ``data`` as the type the prefix names."""
    (length,) = _DATA_LENGTH.unpack(prefix[1:])
    if len(data) != length:
        raise BadEntry(f"it holds {len(data)} bytes of data where its head says {length}")
    kind = bytes(prefix[:1])
    if kind == b"a":
        return bytearray(data)
    raw = data if type(data) is bytes else bytes(data)
    if kind == b"b":
        return raw
    if kind == b"m":
        return memoryview(raw)
    raise BadEntry(f"its bytes type code {kind!r} is unknown")


class BadEntry(Exception):
    """Raised by :meth:`Codec.loads` for an entry it will not return; the reason is the message."""


def _format_name(code: bytes) -> str:
    for name, fmt in _FORMATS.items():
        if fmt == code:
            return name
    return "data of an unknown format"


def _secret_bytes(secret: bytes | str | None, owner: str) -> bytes | None:
    if secret is None:
        found = os.environ.get(SECRET_ENV)
        if not found:
            return None
        secret, source = found, f"${SECRET_ENV}"
    else:
        source = "secret="
    if isinstance(secret, str):
        secret = secret.encode()
    if not isinstance(secret, bytes):
        raise TypeError(f"{owner}(secret=...) takes bytes or str, got {type(secret).__name__}")
    if len(secret) < _MIN_SECRET:
        raise ValueError(
            f"{owner}: the HMAC secret from {source} is {len(secret)} bytes; use at least "
            f"{_MIN_SECRET}, e.g. the output of: python -c 'import secrets; "
            f"print(secrets.token_hex(32))'"
        )
    return secret


def make_codec(serializer: object, secret: bytes | str | None, owner: str) -> Codec:
    """Return the codec for a store's ``serializer=`` and ``secret=`` options.

    ``"pickle"`` needs a secret (``secret=`` or the ``MEMOKIT_CACHE_KEY``
    environment variable) and signs every entry. ``"json"`` stores plain
    data and ``"bytes"`` bytes-like values as they are; both sign their
    entries when there is a secret, and need none.
    """
    if serializer not in _FORMATS:
        raise ValueError(
            f"{owner}(serializer=...) takes 'pickle', 'json' or 'bytes', got {serializer!r}"
        )
    key = _secret_bytes(secret, owner)
    if serializer == "pickle" and key is None:
        raise ValueError(
            f"{owner} with serializer='pickle' needs an HMAC secret, so that it never "
            f"unpickles an entry it did not write: set the {SECRET_ENV} environment variable "
            f"(e.g. export {SECRET_ENV}=$(python -c 'import secrets; "
            f"print(secrets.token_hex(32))')), pass secret=..., or use serializer='json' "
            f"for plain data or serializer='bytes' for bytes"
        )
    fmt: Literal["pickle", "json", "bytes"] = (
        "pickle" if serializer == "pickle" else "json" if serializer == "json" else "bytes"
    )
    return Codec(fmt, key)
