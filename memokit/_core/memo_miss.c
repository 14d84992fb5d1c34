/* A @memoize cache's miss path in C, and the LRU store's insertion.
 *
 * memokit/_miss.py is the reference (miss_lines, and why single flight works
 * the way it does); this is the same sequence with the key hashed once:
 * claim the key with a flight [owner thread, PENDING], look in the store
 * again, compute and store (counted as a miss) or take what another thread
 * stored (a hit), publish the outcome, retire the flight, wake any waiters.
 * The rare turns call the Python helpers of memokit._miss.Helpers: a key
 * another thread is computing (contended), a computation that raised (fail),
 * waiters to wake (wake).
 *
 * LRUPut is memokit/stores/_lru.py's LRUStore._put_plain: the insertion of
 * a store bounded in entries, without ttl= or sizeof=.
 */
#include "memo.h"

/* A new flight, [threading.get_ident(), PENDING]. */
static PyObject *
new_flight(Memo *self)
{
    PyObject *owner = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
    if (owner == NULL) {
        return NULL;
    }
    PyObject *flight = PyList_New(2);
    if (flight == NULL) {
        Py_DECREF(owner);
        return NULL;
    }
    PyList_SET_ITEM(flight, 0, owner);
    PyList_SET_ITEM(flight, 1, Py_NewRef(self->pending));
    return flight;
}

/* flights.setdefault(key, flight), borrowed: the flight now under key. */
static PyObject *
claim(Memo *self, PyObject *key, Py_hash_t hash, PyObject *flight)
{
    PyObject *held = _PyDict_GetItem_KnownHash(self->flights, key, hash);
    if (held != NULL || PyErr_Occurred()) {
        return held;
    }
    return memo_dict_set(self->flights, key, flight, hash) < 0 ? NULL : flight;
}

/* The call's arguments as (args, kwargs), for the Python helpers. */
static PyObject *
pack(PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *positional = PyTuple_New(nargs);
    PyObject *keywords = PyDict_New();
    if (positional == NULL || keywords == NULL) {
        goto error;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        PyTuple_SET_ITEM(positional, i, Py_NewRef(args[i]));
    }
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t i = 0; i < nkw; i++) {
        if (PyDict_SetItem(keywords, PyTuple_GET_ITEM(kwnames, i), args[nargs + i]) < 0) {
            goto error;
        }
    }
    PyObject *packed = PyTuple_Pack(2, positional, keywords);
    Py_DECREF(positional);
    Py_DECREF(keywords);
    return packed;
error:
    Py_XDECREF(positional);
    Py_XDECREF(keywords);
    return NULL;
}

/* Another thread is computing key: wait for its outcome (Helpers.contended). */
static PyObject *
contended(Memo *self, PyObject *key, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *packed = pack(args, nargsf, kwnames);
    if (packed == NULL) {
        return NULL;
    }
    PyObject *stack[2] = {key, packed};
    PyObject *value = PyObject_Vectorcall(self->contended, stack, 2, NULL);
    Py_DECREF(packed);
    return value;
}

/* The store's value for key from a second look (a new reference), or NULL:
 * absent, or with an exception set. */
static PyObject *
second_look(Memo *self, PyObject *key, Py_hash_t hash)
{
    if (self->clock == NULL) {
        return Py_XNewRef(_PyDict_GetItem_KnownHash(self->table, key, hash));
    }
    PyObject *value = PyObject_CallOneArg(self->read, key);
    if (value == self->missing) {
        Py_DECREF(value);
        return NULL;
    }
    return value;
}

/* Store value under key: table[key] = value, or the store's put. */
static int
store(Memo *self, PyObject *key, Py_hash_t hash, PyObject *value)
{
    if (self->put == NULL) {
        return memo_dict_set(self->table, key, value, hash);
    }
    if (Py_IS_TYPE(self->put, &CoreLRUPut_Type)) {
        return lru_put(self->put, key, value);
    }
    PyObject *stack[2] = {key, value};
    PyObject *done = PyObject_Vectorcall(self->put, stack, 2, NULL);
    if (done == NULL) {
        return -1;
    }
    Py_DECREF(done);
    return 0;
}

/* The computation (or storing its value) raised: end the flight with the
 * exception, as the wrapper's `except BaseException:` does, and re-raise it. */
static void
failed(Memo *self, PyObject *key, PyObject *flight)
{
    PyObject *error = core_take_exception();
    if (error == NULL) {
        PyErr_SetString(PyExc_SystemError, "memoize: a miss failed without an exception");
        return;
    }
    PyObject *stack[3] = {key, flight, error};
    PyObject *done = PyObject_Vectorcall(self->fail, stack, 3, NULL);
    if (done == NULL) {  /* raised inside the handler: chained to the original */
        PyObject *other = core_take_exception();
        PyException_SetContext(other, error);
        core_raise(other);
        return;
    }
    Py_DECREF(done);
    core_raise(error);
}

PyObject *
memo_miss(Memo *self, PyObject *key, Py_hash_t hash,
          PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *value = NULL;
    PyObject *flight = new_flight(self);
    if (flight == NULL) {
        goto done;
    }
    PyObject *held = claim(self, key, hash, flight);
    if (held != flight) {
        if (held != NULL) {  /* another thread is computing this key: its outcome is a hit */
            value = contended(self, key, args, nargsf, kwnames);
        }
        goto done;
    }
    /* Another thread may have stored the value since our lookup. */
    value = second_look(self, key, hash);
    if (value == NULL) {
        if (!PyErr_Occurred()) {
            self->misses++;
            value = PyObject_Vectorcall(self->function, args, nargsf, kwnames);
            if (value != NULL && store(self, key, hash, value) < 0) {
                Py_CLEAR(value);
            }
        }
        if (value == NULL) {
            failed(self, key, flight);
            goto done;
        }
    }
    else {
        self->hits++;
    }
    /* Publish, retire, then wake the waiters: the order memokit._flight relies on. */
    if (PyList_SetItem(flight, 1, Py_NewRef(value)) < 0) {
        Py_CLEAR(value);
        goto done;
    }
    if (memo_dict_discard(self->flights, key, hash) < 0) {
        Py_CLEAR(value);
        goto done;
    }
    if (PyList_GET_SIZE(flight) > 2) {
        PyObject *done = PyObject_CallOneArg(self->wake, flight);
        if (done == NULL) {
            Py_CLEAR(value);
            goto done;
        }
        Py_DECREF(done);
    }
done:
    Py_XDECREF(flight);
    Py_DECREF(key);
    return value;
}

/* ---------------------------------------------------------------- LRUPut */

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *store;
    PyObject *data;         /* store._data, an OrderedDict */
    PyObject *acquire;      /* store._lock.acquire */
    PyObject *release;
    PyObject *move_to_end;  /* data.move_to_end */
    PyObject *popitem;      /* data.popitem */
    Py_ssize_t maxsize_at;  /* offsets of the store's _maxsize and _evictions slots */
    Py_ssize_t evictions_at;
} LRUPut;

/* The store's bound, from its _maxsize slot (an int >= 0). */
static int
bound_of(LRUPut *self, Py_ssize_t *bound)
{
    PyObject *maxsize = CORE_SLOT(self->store, self->maxsize_at);
    if (maxsize == NULL) {
        PyErr_SetString(PyExc_AttributeError, "LRUStore._maxsize is not set");
        return -1;
    }
    *bound = PyLong_AsSsize_t(maxsize);
    if (*bound == -1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError)) {
            return -1;
        }
        PyErr_Clear();  /* more than any table can hold */
        *bound = PY_SSIZE_T_MAX;
    }
    return 0;
}

/* Evict the least recently used entry (held in *evicted until the lock is
 * released: its value's finalizer may run code) and count it. */
static int
evict_oldest(LRUPut *self, PyObject **evicted)
{
    PyObject *last = Py_False;
    *evicted = PyObject_Vectorcall(self->popitem, &last, 1, NULL);
    if (*evicted == NULL) {
        return -1;
    }
    PyObject **slot = &CORE_SLOT(self->store, self->evictions_at);
    Py_ssize_t before = *slot == NULL ? 0 : PyLong_AsSsize_t(*slot);
    if (before == -1 && PyErr_Occurred()) {
        return -1;
    }
    PyObject *count = PyLong_FromSsize_t(before + 1);
    if (count == NULL) {
        return -1;
    }
    Py_XSETREF(*slot, count);
    return 0;
}

int
lru_put(PyObject *op, PyObject *key, PyObject *value)
{
    LRUPut *self = (LRUPut *)op;
    PyObject *evicted = NULL;
    PyObject *done = PyObject_CallNoArgs(self->acquire);
    if (done == NULL) {
        return -1;
    }
    Py_DECREF(done);
    int result = -1;
    PyObject *data = self->data;
    int present = PySequence_Contains(data, key);
    if (present < 0) {
        goto release;
    }
    if (present) {
        if (PyObject_SetItem(data, key, value) < 0) {
            goto release;
        }
        done = PyObject_CallOneArg(self->move_to_end, key);
        if (done == NULL) {
            goto release;
        }
        Py_DECREF(done);
        result = 0;
        goto release;
    }
    Py_ssize_t bound;
    if (bound_of(self, &bound) < 0) {
        goto release;
    }
    if (bound) {
        if (PyObject_Size(data) >= bound && evict_oldest(self, &evicted) < 0) {
            goto release;
        }
        if (PyObject_SetItem(data, key, value) < 0) {
            goto release;
        }
    }
    result = 0;
release:;
    PyObject *error = result < 0 ? core_take_exception() : NULL;
    done = PyObject_CallNoArgs(self->release);
    if (done == NULL) {
        Py_XDECREF(error);
        result = -1;
    }
    else {
        Py_DECREF(done);
        if (error != NULL) {
            core_raise(error);
        }
    }
    Py_XDECREF(evicted);
    return result;
}

static PyObject *
lruput_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (PyVectorcall_NARGS(nargsf) != 2 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError, "put(key, value) takes two positional arguments");
        return NULL;
    }
    if (lru_put(self, args[0], args[1]) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
lruput_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *store;
    if (!PyArg_ParseTuple(args, "O:LRUPut", &store)) {
        return NULL;
    }
    LRUPut *self = (LRUPut *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->vectorcall = lruput_vectorcall;
    self->store = Py_NewRef(store);
    PyObject *lock = PyObject_GetAttrString(store, "_lock");
    self->data = PyObject_GetAttrString(store, "_data");
    if (lock == NULL || self->data == NULL) {
        Py_XDECREF(lock);
        Py_DECREF(self);
        return NULL;
    }
    self->acquire = PyObject_GetAttrString(lock, "acquire");
    self->release = PyObject_GetAttrString(lock, "release");
    Py_DECREF(lock);
    self->move_to_end = PyObject_GetAttrString(self->data, "move_to_end");
    self->popitem = PyObject_GetAttrString(self->data, "popitem");
    if (self->acquire == NULL || self->release == NULL || self->move_to_end == NULL
        || self->popitem == NULL
        || (self->maxsize_at = core_slot_offset(Py_TYPE(store), "_maxsize")) < 0
        || (self->evictions_at = core_slot_offset(Py_TYPE(store), "_evictions")) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int
lruput_traverse(LRUPut *self, visitproc visit, void *arg)
{
    Py_VISIT(self->store);
    Py_VISIT(self->data);
    Py_VISIT(self->acquire);
    Py_VISIT(self->release);
    Py_VISIT(self->move_to_end);
    Py_VISIT(self->popitem);
    return 0;
}

static int
lruput_clear(LRUPut *self)
{
    Py_CLEAR(self->store);
    Py_CLEAR(self->data);
    Py_CLEAR(self->acquire);
    Py_CLEAR(self->release);
    Py_CLEAR(self->move_to_end);
    Py_CLEAR(self->popitem);
    return 0;
}

static void
lruput_dealloc(LRUPut *self)
{
    PyObject_GC_UnTrack(self);
    lruput_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyTypeObject CoreLRUPut_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "memokit._core._compiled.LRUPut",
    .tp_doc = "LRUPut(store): LRUStore._put_plain of one store, in C (memokit/_core/memo_miss.c).",
    .tp_basicsize = sizeof(LRUPut),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_new = lruput_new,
    .tp_dealloc = (destructor)lruput_dealloc,
    .tp_traverse = (traverseproc)lruput_traverse,
    .tp_clear = (inquiry)lruput_clear,
    .tp_vectorcall_offset = offsetof(LRUPut, vectorcall),
    .tp_call = PyVectorcall_Call,
};
