"""The statements ``SQLiteStore`` runs on its entries, in one place to read them together.

Named parameters: ``:ns``, ``:key`` (the storage key), ``:whole`` (the
key's whole encoding when ``:key`` is its digest, else ``NULL``),
``:value``, ``:file``, ``:expires``, ``:now``. The schema they run on is
in :mod:`._database`.
"""

from __future__ import annotations

from memokit.stores._sqlite._database import LIVE

__all__ = [
    "DELETE",
    "FILE_OF",
    "GET",
    "GET_LRU",
    "KEYS",
    "PUT_ENTRY",
    "PUT_VALUE",
    "TOUCH",
]

# The newest "used" of a namespace is read from the end of the (ns, used)
# index, in O(log n); MAX(used) would scan the namespace's rows.
_NEWEST = "(SELECT used FROM memokit_entries WHERE ns = :ns ORDER BY used DESC LIMIT 1)"

#: An entry's value, its expiry, whether it is the newest (always 1 here), its file.
GET = (
    "SELECT v.value, e.expires, 1, v.file FROM memokit_entries e "
    "JOIN memokit_values v ON v.id = e.id WHERE e.ns = :ns AND e.key = :key"
)
#: For a bounded store, also whether the entry is already the most recently
#: used one (then a hit need not write).
GET_LRU = (
    f"SELECT v.value, e.expires, e.used = {_NEWEST}, v.file FROM memokit_entries e "
    "JOIN memokit_values v ON v.id = e.id WHERE e.ns = :ns AND e.key = :key"
)
FILE_OF = (
    "SELECT v.file FROM memokit_entries e JOIN memokit_values v ON v.id = e.id "
    "WHERE e.ns = :ns AND e.key = :key"
)
TOUCH = f"UPDATE memokit_entries SET used = {_NEWEST} + 1 WHERE ns = :ns AND key = :key"
#: An entry and its value: run both, in one transaction. An upsert, not
#: INSERT OR REPLACE: a REPLACE deletes the old row without firing the
#: delete triggers, and its file would never be listed as garbage.
PUT_ENTRY = (
    "INSERT INTO memokit_entries (ns, key, whole_key, expires, used) VALUES "
    f"(:ns, :key, :whole, :expires, COALESCE({_NEWEST}, 0) + 1) "
    "ON CONFLICT (ns, key) DO UPDATE SET whole_key = excluded.whole_key, "
    "expires = excluded.expires, used = excluded.used"
)
PUT_VALUE = (
    "INSERT INTO memokit_values (id, value, file) VALUES "
    "((SELECT id FROM memokit_entries WHERE ns = :ns AND key = :key), :value, :file) "
    "ON CONFLICT (id) DO UPDATE SET value = excluded.value, file = excluded.file"
)
DELETE = "DELETE FROM memokit_entries WHERE ns = :ns AND key = :key"
#: The keys of a namespace's live entries, least recently used (or written) first.
KEYS = f"SELECT key, whole_key FROM memokit_entries WHERE ns = :ns AND {LIVE} ORDER BY used"
