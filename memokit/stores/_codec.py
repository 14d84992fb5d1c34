"""The value codec: a result as entry bytes and back, signed so that nothing forged is loaded.

Results are written with pickle, as JSON, or (``bytes``, ``bytearray`` and
``memoryview`` results) as they are. A pickle runs code when loaded, so a
pickled entry carries an HMAC-SHA256 tag (the standard library's
:mod:`hmac`) over the entry's namespace, key and payload, made with a secret
only the writers know; an entry whose tag does not verify is never
unpickled. The tag covers the key too, so a valid entry copied under
another key (or another function's name) does not verify either. JSON and
bytes cannot run code when read, so they need no secret (and are signed
when there is one).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import pickle
import struct
from typing import Any, Final, Literal

from memokit.stores._keybytes import encode_length

__all__ = [
    "SECRET_ENV",
    "BadEntry",
    "BadEntryWarning",
    "Codec",
    "Data",
    "make_codec",
]

#: The environment variable a store reads its HMAC secret from.
SECRET_ENV: Final = "MEMOKIT_CACHE_KEY"
_MIN_SECRET = 16


class BadEntryWarning(UserWarning):
    """A stored entry failed its integrity check and was ignored (treated as a miss)."""


class BadEntry(Exception):
    """Raised by :meth:`Codec.decode` for an entry it will not return; the reason is the message."""


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

    __slots__ = ("_fmt", "_header", "_mac", "format", "head_size", "signed")

    def __init__(self, fmt: Literal["pickle", "json", "bytes"], secret: bytes | None) -> None:
        self.format = fmt
        self.signed = secret is not None
        self._fmt = _FORMATS[fmt]
        self._header = bytes((_SIGNED if self.signed else 0,)) + self._fmt
        prefix = 1 + _DATA_LENGTH.size if fmt == "bytes" else 0
        #: The bytes of every entry this codec writes before the data.
        self.head_size = 2 + (_TAG if self.signed else 0) + prefix
        self._mac: Any = None
        if secret is not None:
            # Keyed once, over the two header bytes every entry starts with;
            # each entry continues a copy.
            self._mac = hmac.new(secret, self._header, hashlib.sha256)

    def _tag(self, context: bytes, prefix: bytes | memoryview, parts: list[Data]) -> bytes:
        """HMAC-SHA256(secret, header + len(context) + context + prefix + the parts' bytes)."""
        mac = self._mac.copy()
        mac.update(encode_length(len(context)) + context)
        if prefix:
            mac.update(prefix)
        for part in parts:
            mac.update(part)
        digest: bytes = mac.digest()
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
            # pickle.dumps copies everything into one growing buffer; a
            # Pickler writing to _Parts keeps each piece as it is given, so
            # a large bytes object inside the value is never copied.
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
        if self._mac is None:
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
        if self._mac is not None:
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
