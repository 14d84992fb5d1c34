"""Stores: where memoized results live.

Every engine (``memoize``, ``dp``, ``DagEvaluator``) keeps its results in an
object that follows the small :class:`Store` protocol, so a store plugs into
all of them at once. In memory: :class:`DictStore` (unbounded) and
:class:`LRUStore` (bounded). Beyond one process: :class:`SQLiteStore` (one
file, shared by the processes of a machine) and :class:`RedisStore` (a
server, shared across machines).
"""

from memokit.stores._codec import BadEntryWarning
from memokit.stores._keylist import UnlistedKeysWarning
from memokit.stores._memory import DictStore, LRUStore
from memokit.stores._protocol import MISSING, Missing, Store
from memokit.stores._redis import RedisStore, StoreUnavailableError, StoreUnavailableWarning
from memokit.stores._sqlite import SQLiteStore

__all__ = [
    "MISSING",
    "BadEntryWarning",
    "DictStore",
    "LRUStore",
    "Missing",
    "RedisStore",
    "SQLiteStore",
    "Store",
    "StoreUnavailableError",
    "StoreUnavailableWarning",
    "UnlistedKeysWarning",
]
