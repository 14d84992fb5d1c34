/* The @memoize call path in C: what memo.c, memo_miss.c and memo_method.c share.
 *
 * The Python modules are the reference: memokit/_codegen.py writes the
 * wrapper these files replace (how a call becomes a canonical key, how each
 * kind of in-memory store is read), memokit/_miss.py the miss path (single
 * flight), memokit/_hashed.py the key forms, memokit/_methods.py the
 * per-instance caches of a method. The C reads and writes the very tables,
 * flight dicts and counters the Python helpers use, so the two can hand a
 * call to each other at any point.
 */
#ifndef MEMOKIT_MEMO_H
#define MEMOKIT_MEMO_H

#include "core.h"

/* Calls whose arguments are keyed in C: at most this many, all positional. */
#define MEMO_MAX_ARITY 8

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *dict;          /* __dict__: the wrapper's name, doc and controls */
    PyObject *weakrefs;
    /* How a call becomes a key. */
    Py_ssize_t skip;         /* 1 for a method's cache: args[0] is the receiver */
    Py_ssize_t arity;        /* positional calls with this many key arguments are
                                keyed here; -1: every call goes to binder */
    unsigned char checked[MEMO_MAX_ARITY];  /* whose type decides the key's form */
    PyObject *binder;        /* any other call -> its canonical key */
    PyObject *check;         /* check(values): names an unhashable argument */
    PyObject *plain;         /* memokit._hashed.PLAIN_TYPES */
    PyObject *wrapped;       /* memokit._hashed.WRAPPED_TYPES */
    PyObject *hashed;        /* memokit._hashed.hashed */
    PyObject *hashed_tuple;  /* memokit._hashed.hashed_tuple */
    /* The store's fast path (memokit.stores._memory.FastPath). */
    PyObject *table;         /* a dict, or an LRU store's OrderedDict */
    PyObject *touch;         /* table.move_to_end, or NULL */
    PyObject *clock;         /* entries are (value, deadline), or NULL */
    PyObject *expire;
    PyObject *read;          /* read(key): the miss path's second look, with a clock */
    PyObject *put;           /* put(key, value), or NULL: table[key] = value */
    /* The miss path (memokit._miss.Helpers). */
    PyObject *function;
    PyObject *flights;       /* key -> [owner thread, outcome, *waiter locks] */
    PyObject *pending;
    PyObject *contended;     /* contended(key, (args, kwargs)) */
    PyObject *fail;          /* fail(key, flight, exc) */
    PyObject *wake;          /* wake(flight) */
    PyObject *missing;       /* MISSING, what read() returns for an absent key */
    Py_ssize_t hits;
    Py_ssize_t misses;
} Memo;

/* memo_miss.c: the miss path for `key` (stolen), whose hash is `hash`. */
PyObject *memo_miss(Memo *self, PyObject *key, Py_hash_t hash,
                    PyObject *const *args, size_t nargsf, PyObject *kwnames);

/* memo.c: call a Memo (what its vectorcall slot does). */
PyObject *memo_call(Memo *self, PyObject *const *args, size_t nargsf, PyObject *kwnames);

/* memo_miss.c: an LRUPut's put(key, value), called from C. */
int lru_put(PyObject *put, PyObject *key, PyObject *value);

/* Known-hash dict writes: declared by CPython's public headers up to 3.12;
 * 3.13 moved them to its internal headers, so there the key is hashed again
 * (a canonical key's hash runs no user code, and a wrapped key caches it). */
static inline int
memo_dict_set(PyObject *dict, PyObject *key, PyObject *value, Py_hash_t hash)
{
#if PY_VERSION_HEX < 0x030D0000
    return _PyDict_SetItem_KnownHash(dict, key, value, hash);
#else
    (void)hash;
    return PyDict_SetItem(dict, key, value);
#endif
}

/* Delete `key` from `dict` if present: 0, or -1 with an exception set. */
static inline int
memo_dict_discard(PyObject *dict, PyObject *key, Py_hash_t hash)
{
#if PY_VERSION_HEX < 0x030D0000
    if (_PyDict_DelItem_KnownHash(dict, key, hash) < 0) {
#else
    (void)hash;
    if (PyDict_DelItem(dict, key) < 0) {
#endif
        if (!PyErr_ExceptionMatches(PyExc_KeyError)) {
            return -1;
        }
        PyErr_Clear();
    }
    return 0;
}

/* The object a weakref.ref points to (a new reference, or NULL when dead). */
static inline PyObject *
memo_weakref_target(PyObject *ref)
{
#if PY_VERSION_HEX >= 0x030D0000
    PyObject *target = NULL;
    if (PyWeakref_GetRef(ref, &target) < 0) {
        PyErr_Clear();
        return NULL;
    }
    return target;
#else
    PyObject *target = PyWeakref_GET_OBJECT(ref);
    return target == Py_None ? NULL : Py_NewRef(target);
#endif
}

#endif
