"""memokit: typed memoization and dynamic programming.

One idea runs through the package: a memo table keyed by sub-problem turns
exponential recursion into linear work, and backpropagation is that idea
applied to the chain rule.
"""

from memokit._dag import DagEvaluator, DagStats
from memokit._dp import DPFunction, dp
from memokit._errors import CycleError
from memokit._info import CacheInfo, CacheStats
from memokit._memoize import Memoized, memoize
from memokit._redis import RedisStore, StoreUnavailableError, StoreUnavailableWarning
from memokit._serialize import BadEntryWarning
from memokit._sqlite import SQLiteStore
from memokit._stores import MISSING, DictStore, LRUStore, Missing, Store

__all__ = [
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
    "dp",
    "memoize",
]
