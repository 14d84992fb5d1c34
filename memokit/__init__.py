"""memokit: typed memoization and dynamic programming.

One idea runs through the package: a memo table keyed by sub-problem turns
exponential recursion into linear work, and backpropagation is that idea
applied to the chain rule.
"""

from memokit._core import IMPLEMENTATION
from memokit._dag import DagEvaluator, DagStats
from memokit._dp import DPFunction, dp
from memokit._errors import CycleError
from memokit._info import CacheInfo, CacheStats
from memokit._memoize import Memoized, memoize
from memokit.stores import (
    MISSING,
    BadEntryWarning,
    DictStore,
    LRUStore,
    Missing,
    RedisStore,
    SQLiteStore,
    Store,
    StoreUnavailableError,
    StoreUnavailableWarning,
    UnlistedKeysWarning,
)

__all__ = [
    "IMPLEMENTATION",
    "MISSING",
    "BadEntryWarning",
    "CacheInfo",
    "CacheStats",
    "CycleError",
    "DPFunction",
    "DagEvaluator",
    "DagStats",
    "DictStore",
    "LRUStore",
    "Memoized",
    "Missing",
    "RedisStore",
    "SQLiteStore",
    "Store",
    "StoreUnavailableError",
    "StoreUnavailableWarning",
    "UnlistedKeysWarning",
    "dp",
    "memoize",
]
