"""Reading keys back: what a persistent store lists from the bytes it filed its entries under.

:func:`decode_key` inverts :func:`~memokit.stores._keybytes.encode_key`: it
gives back a key equal to the one encoded (numbers in the type they were
encoded as: ``1`` for ``True`` or ``1.0``, as a dict keeps the first of
equal keys), and refuses bytes that are not exactly what memokit writes. It
runs no code named by the bytes: an enum member or a class is looked up in
the modules this process has already imported, never imported.

A store lists its keys with :func:`listed_keys`, which leaves out, and
reports in one :class:`UnlistedKeysWarning`, the entries whose key cannot be
given back (a long key filed as a digest alone, by a memokit that did not
keep the whole key; bytes altered outside memokit; a class whose module is
not imported here).
"""

from __future__ import annotations

import enum
import math
import struct
import sys
import warnings
from collections import Counter
from collections.abc import Iterable
from typing import Any

from memokit._keys import KWD_MARK
from memokit.stores._keybytes import DIGEST, encode_key, storage_key

__all__ = ["UnlistedKeysWarning", "decode_key", "listed_key", "listed_keys"]


class UnlistedKeysWarning(UserWarning):
    """A store's ``keys()`` left out entries whose key it cannot give back (calls find them)."""


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
    if encode_key(key) != raw:
        raise ValueError("it is not in the form memokit writes")
    return key


def listed_key(kb: bytes, whole: bytes | None) -> Any:
    """Return the key filed as ``kb`` (its storage key) with ``whole`` (its encoding, if digested).

    Raises ``ValueError`` saying why when the key cannot be given back:
    ``kb`` is a digest and ``whole`` is missing or is not what the digest
    was made of, or the bytes do not decode.

    >>> from memokit.stores._keybytes import filed_key
    >>> listed_key(*filed_key(("a", 1)))
    ('a', 1)
    >>> listed_key(filed_key("x" * 100)[0], None)
    Traceback (most recent call last):
      ...
    ValueError: only a digest of its key was kept
    """
    if kb[:1] != DIGEST:
        return decode_key(kb)
    if whole is None:
        raise ValueError("only a digest of its key was kept")
    key = decode_key(whole)
    # A short encoding is never digested: storage_key gives it back as is.
    if storage_key(key) != kb:
        raise ValueError("the key kept beside it is not the one its digest was made of")
    return key


def listed_keys(filed: Iterable[tuple[bytes, bytes | None]], where: str) -> list[Any]:
    """Return the key of each ``(kb, whole)`` pair; warn once about those that cannot be given back.

    ``where`` names the store in the warning (e.g. ``SQLiteStore('c.db') 'm:f'``).
    The warning counts the entries left out by reason, and says that calls
    still find them: listing is the only thing they miss.

    >>> from memokit.stores._keybytes import filed_key
    >>> listed_keys([filed_key("a"), filed_key(2)], "a store")
    ['a', 2]
    """
    keys: list[Any] = []
    left_out: Counter[str] = Counter()
    for kb, whole in filed:
        try:
            keys.append(listed_key(kb, whole))
        except ValueError as why:
            left_out[str(why)] += 1
    if left_out:
        reasons = "; ".join(f"{n} because {why}" for why, n in left_out.most_common())
        warnings.warn(
            f"{where}: keys() left out {left_out.total()} entries whose key cannot be given "
            f"back ({reasons}). Calls still find them and len() counts them. A long key "
            f"filed by a memokit that kept only its digest is listed again once written "
            f"again (e.g. after cache_clear()); an enum or class key once its module is "
            f"imported.",
            UnlistedKeysWarning,
            stacklevel=3,
        )
    return keys
