"""SQLiteStore: memoized results in one SQLite file, shared by the threads and processes of a host.

Layout of the file (schema version 3, in ``PRAGMA user_version``)::

    memokit_namespaces  id, name, version, entries     one row per (function, version)
    memokit_entries     id, ns, key, expires, used,    one row per cached result
                        whole_key                      (the key, if `key` is its digest)
    memokit_values      id, value, file                its bytes, or the file holding them
    memokit_leases      ns, key, owner, expires        who is computing which key now
    memokit_garbage     file                           files to delete once this commits

and a folder beside it, ``<path>-values``, made when the first large entry
is written. The modules, from the bottom up:

* :mod:`._files`: the value files (vectored writes, rename into place,
  reads into a reused buffer, names that never leave the folder);
* :mod:`._database`: the schema and its migrations, one connection per
  thread, what happens at a fork, transactions, and the sweep that deletes
  what a killed process left behind;
* :mod:`._sql`: the statements the store runs on its entries;
* :mod:`._namespace`: a view's namespace row, and what it holds: its keys,
  its size, its count of expired entries;
* :mod:`._flight`: single flight across processes, by lease;
* :mod:`._store`: :class:`SQLiteStore` itself and the Store protocol.

A process killed at any point (SIGKILL included) leaves the last committed
state, never half an entry: at worst a value file that no row names, or a
stale temporary file, which the next store opened on the file deletes.
"""

from memokit.stores._sqlite._store import SQLiteStore

__all__ = ["SQLiteStore"]
