/* The dp call in C: memokit/_dp.py's generated wrapper, for the common shapes.
 *
 * This file is the call path and its check of the running frame;
 * dp_front_type.c has the rest of the type, dp_request.c the requests.
 *
 * memokit/_dp.py and memokit/_codegen.py are the reference: read them for
 * what a dp call does. A DPFront object is the wrapper of one dp function
 * whose parameters are all positional (no *args, **kwargs, keyword-only
 * parameters, key= or typed=). Called with exactly its parameters, by
 * position, it runs the reference's steps here:
 *
 * - the key: the argument itself for one parameter, else the tuple of the
 *   arguments; for a store's table made canonical as memokit._hashed says
 *   (plain types used as they are, others wrapped in a one-item frozenset),
 *   skipping parameters annotated with plain types;
 * - the lookup, its hash computed once: the table read directly (a dict
 *   store's, or an LRU store's with its touch; expiring entries checked
 *   against the clock and expired through the store), or the store's get;
 *   a hit is counted and returned;
 * - a miss is counted; the body's generator is made and wrapped in a request
 *   (a subclass of the engine's Request, taken from a free list); called
 *   directly in a running dp frame the request is returned to be yielded,
 *   from anywhere else the C loop computes it now (dp_engine_run).
 *
 * Any other call (keywords, defaults left out, wrong arguments) goes to
 * ``fallback``, a generated Python function with the decorated function's
 * signature, which binds the arguments and comes back through call(), saying
 * whether its own caller is a dp frame. The counters live here; count(),
 * tally() and key() serve the cache controls (memokit/_controls.py).
 *
 * Errors are the reference's: a TypeError while making or looking up the
 * key lets ``check`` name an unhashable argument (chained to the original
 * error, as an exception raised in an except clause is) or is raised as it
 * was; a KeyError from the lookup is a miss where the reference's lookup
 * lines catch it (``swallow_keyerror``).
 */
#include "dp_front.h"

#ifdef DP_FRONT

DP_THREAD_LOCAL void *dp_running_frame = NULL;

/* ---------------------------------------------------------------- the call path */

/* The lookup's answer for an absent key (never a value: it is not an object). */
static PyObject miss_marker;
#define MISS (&miss_marker)

/* Whether keys of ``type`` are used as they are (memokit._hashed.PLAIN_TYPES;
 * int and str, checked at construction to be there, never leave it). */
static inline int
is_plain(DPFront *self, PyTypeObject *type)
{
    if (type == &PyLong_Type || type == &PyUnicode_Type) {
        return 1;
    }
    return PySet_Contains(self->plain, (PyObject *)type);
}

/* The canonical form of a one-value key: memokit._hashed.hashed, whose first
 * tests the reference's generated code inlines. A new reference, or NULL. */
static PyObject *
canonical_one(DPFront *self, PyObject *arg)
{
    int found = is_plain(self, Py_TYPE(arg));
    if (found != 0) {
        return found < 0 ? NULL : Py_NewRef(arg);
    }
    found = PySet_Contains(self->wrapped, (PyObject *)Py_TYPE(arg));
    if (found < 0) {
        return NULL;
    }
    if (!found) { /* a type not met before: hashed() learns it */
        return PyObject_CallOneArg(self->hashed, arg);
    }
    PyObject *wrapper = PyFrozenSet_New(NULL); /* HashedKey((arg,)) */
    if (wrapper != NULL && PySet_Add(wrapper, arg) < 0) {
        Py_CLEAR(wrapper);
    }
    return wrapper;
}

/* The key of a call with exactly ``nparams`` positional arguments. */
PyObject *
dp_front_make_key(DPFront *self, PyObject *const *args)
{
    Py_ssize_t n = self->nparams;
    if (n == 1) {
        return self->canonical ? canonical_one(self, args[0]) : Py_NewRef(args[0]);
    }
    PyObject *key = PyTuple_New(n);
    if (key == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyTuple_SET_ITEM(key, i, Py_NewRef(args[i]));
    }
    if (!self->canonical) {
        return key;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyTuple_GET_ITEM(self->checks, i) != Py_True) {
            continue;
        }
        int plain = is_plain(self, Py_TYPE(args[i]));
        if (plain < 0) {
            Py_DECREF(key);
            return NULL;
        }
        if (!plain) {
            PyObject *wrapped = PyObject_CallOneArg(self->hashed_tuple, key);
            Py_DECREF(key);
            return wrapped;
        }
    }
    return key;
}

/* After a TypeError while keying the call with ``args``: let check() name the
 * unhashable argument, or raise the error again. Other errors pass. NULL. */
PyObject *
dp_front_unhashable(DPFront *self, PyObject *const *args)
{
    if (!PyErr_ExceptionMatches(PyExc_TypeError)) {
        return NULL;
    }
    PyObject *error = core_take_exception();
    PyObject *values = PyTuple_New(self->nparams);
    if (values == NULL) {
        Py_DECREF(error);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < self->nparams; i++) {
        PyTuple_SET_ITEM(values, i, Py_NewRef(args[i]));
    }
    PyObject *result = PyObject_CallOneArg(self->check, values);
    Py_DECREF(values);
    if (result != NULL) { /* every value hashes: the error came from elsewhere */
        Py_DECREF(result);
        core_raise(error);
        return NULL;
    }
    PyObject *named = core_take_exception();
    if (named != NULL) {
        PyException_SetContext(named, error); /* steals error */
        core_raise(named);
    }
    else {
        Py_DECREF(error);
    }
    return NULL;
}

/* The stored value for ``key`` (a new reference), MISS, or NULL with an error. */
static PyObject *
lookup(DPFront *self, PyObject *key)
{
    PyObject *value;
    if (self->table == NULL) {
        value = PyObject_CallOneArg(self->read, key);
        if (value == self->missing) {
            Py_DECREF(value);
            return MISS;
        }
        return value;
    }
    Py_hash_t hash = PyObject_Hash(key);
    if (hash == -1) {
        return NULL;
    }
    PyObject *entry = _PyDict_GetItem_KnownHash(self->table, key, hash);
    if (entry == NULL) {
        return PyErr_Occurred() ? NULL : MISS;
    }
    if (self->clock == NULL) {
        value = Py_NewRef(entry);
    }
    else { /* entries are (value, deadline): live while the deadline is ahead */
        Py_INCREF(entry); /* the clock may run any code */
        PyObject *deadline = PySequence_GetItem(entry, 1);
        PyObject *now = deadline ? PyObject_CallNoArgs(self->clock) : NULL;
        int live = now ? PyObject_RichCompareBool(deadline, now, Py_GT) : -1;
        Py_XDECREF(deadline);
        Py_XDECREF(now);
        if (live > 0) {
            value = PySequence_GetItem(entry, 0);
        }
        else if (live == 0) { /* dropped and counted by the store: a miss */
            PyObject *args[2] = {key, entry};
            PyObject *done = PyObject_Vectorcall(self->expire, args, 2, NULL);
            value = done ? MISS : NULL;
            Py_XDECREF(done);
        }
        else {
            value = NULL;
        }
        Py_DECREF(entry);
        if (value == NULL || value == MISS) {
            return value;
        }
    }
    if (self->touch != NULL) { /* an LRU store records the use */
        PyObject *done = PyObject_CallOneArg(self->touch, key);
        if (done == NULL) {
            Py_DECREF(value);
            return NULL;
        }
        Py_DECREF(done);
    }
    return value;
}

/* Whether the caller of the running C function is the frame a C loop runs. */
static inline int
called_in_running_frame(void)
{
    return dp_running_frame != NULL && dp_current_frame() == dp_running_frame;
}

/* The dp call with exactly ``nparams`` positional arguments. ``in_frame`` says
 * whether the caller is a running dp frame; -1: find out here. */
PyObject *
dp_front_call(DPFront *self, PyObject *const *args, int in_frame)
{
    PyObject *key = dp_front_make_key(self, args);
    if (key == NULL) {
        return dp_front_unhashable(self, args);
    }
    PyObject *value = lookup(self, key);
    if (value == NULL) {
        if (!self->swallow_keyerror || !PyErr_ExceptionMatches(PyExc_KeyError)) {
            Py_DECREF(key);
            return dp_front_unhashable(self, args);
        }
        PyErr_Clear(); /* the entry went away under the lookup: a miss */
        value = MISS;
    }
    if (value != MISS) {
        self->hits++;
        Py_DECREF(key);
        return value;
    }
    self->misses++;
    PyObject *gen = PyObject_Vectorcall(self->body, args, self->nparams, NULL);
    if (gen == NULL) {
        Py_DECREF(key);
        return NULL;
    }
    PyObject *request = dp_request_new(self->engine, self->source, key, gen);
    if (request == NULL) {
        return NULL;
    }
    if (in_frame < 0) {
        in_frame = called_in_running_frame();
    }
    if (in_frame) { /* to be yielded by the frame */
        return request;
    }
    PyObject *result = dp_engine_run(self->engine, request);
    Py_DECREF(request);
    return result;
}

PyObject *
dp_front_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    DPFront *self = (DPFront *)op;
    if (PyVectorcall_NARGS(nargsf) != self->nparams
        || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0)) {
        return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
    }
    return dp_front_call(self, args, -1);
}

/* ---------------------------------------------------------------- the import-time check */

/* frame_probe(gen) and running_frame(): see their docstrings in module.c. */
PyObject *
core_frame_probe(PyObject *Py_UNUSED(module), PyObject *gen)
{
    PyObject *result;
    void *outer = dp_running_frame;
    DP_SET_RUNNING(gen);
    PySendResult status = PyIter_Send(gen, Py_None, &result);
    dp_running_frame = outer;
    if (status == PYGEN_ERROR) {
        return NULL;
    }
    if (status == PYGEN_RETURN) {
        Py_DECREF(result);
        PyErr_SetString(PyExc_ValueError, "frame_probe() needs a generator that yields");
        return NULL;
    }
    return result;
}

PyObject *
core_running_frame(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(called_in_running_frame());
}


#endif
