/* A @memoize cache's wrapper in C: a call becomes a key, a hit is one lookup.
 *
 * memokit/_codegen.py writes the Python wrapper this replaces and explains
 * each step; memokit/_callthrough.py builds a Memo with the parts that
 * wrapper's namespace holds. What differs is only how the work is done:
 *
 * - the call arrives by vectorcall, so its arguments are never packed into a
 *   tuple; a call with exactly the function's positional parameters is keyed
 *   here, by the rules of memokit/_hashed.py (a plain argument is its own
 *   key, plain arguments make a tuple, anything else is wrapped in a one-item
 *   frozenset). Every other call goes through `binder`, the generated Python
 *   function with the wrapper's own signature, which binds it and returns its
 *   canonical key (and raises the errors a wrong call gets);
 * - the key is hashed once, and the table is read with that hash.
 *
 * The miss path is in memo_miss.c.
 */
#include "memo.h"

/* Whether instances of `type` are keys as they are: `type in PLAIN_TYPES`
 * (the built-in scalars are there from the start and never leave). */
static inline int
is_plain(Memo *self, PyTypeObject *type)
{
    if (type == &PyLong_Type || type == &PyUnicode_Type || type == &PyFloat_Type
        || type == &PyBool_Type || type == &PyBytes_Type || type == Py_TYPE(Py_None)
        || type == &PyComplex_Type || type == &PyType_Type) {
        return 1;
    }
    return PySet_Contains(self->plain, (PyObject *)type);
}

/* HashedKey((value,)): a frozenset holding `value` alone, which hashes it once. */
static PyObject *
wrap(PyObject *value)
{
    PyObject *key = PyFrozenSet_New(NULL);
    if (key != NULL && PySet_Add(key, value) < 0) {
        Py_CLEAR(key);
    }
    return key;
}

/* The canonical key of a positional call (the wrapper's key lines). */
static PyObject *
positional_key(Memo *self, PyObject *const *args)
{
    Py_ssize_t arity = self->arity;
    if (arity == 1) {
        PyObject *arg = args[0];
        if (!self->checked[0]) {
            return Py_NewRef(arg);  /* annotated with a plain type: taken at its word */
        }
        int found = is_plain(self, Py_TYPE(arg));
        if (found) {
            return found < 0 ? NULL : Py_NewRef(arg);
        }
        found = PySet_Contains(self->wrapped, (PyObject *)Py_TYPE(arg));
        if (found) {
            return found < 0 ? NULL : wrap(arg);
        }
        return PyObject_CallOneArg(self->hashed, arg);  /* a tuple, or a type not met before */
    }
    PyObject *key = PyTuple_New(arity);
    if (key == NULL) {
        return NULL;
    }
    int plain = 1;
    for (Py_ssize_t i = 0; i < arity; i++) {
        PyTuple_SET_ITEM(key, i, Py_NewRef(args[i]));
        if (plain && self->checked[i]) {
            plain = is_plain(self, Py_TYPE(args[i]));
            if (plain < 0) {
                Py_DECREF(key);
                return NULL;
            }
        }
    }
    if (plain) {
        return key;
    }
    PyObject *canonical = PyObject_CallOneArg(self->hashed_tuple, key);
    Py_DECREF(key);
    return canonical;
}

/* A TypeError is set while keying a positional call: let check(values) name
 * the unhashable argument, as the wrapper's `except TypeError:` does. Returns
 * NULL with the error that should propagate. */
static PyObject *
unhashable(Memo *self, PyObject *const *args)
{
    if (!PyErr_ExceptionMatches(PyExc_TypeError)) {
        return NULL;
    }
    PyObject *error = core_take_exception();
    PyObject *values = PyTuple_New(self->arity);
    if (values == NULL) {
        Py_DECREF(error);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < self->arity; i++) {
        PyTuple_SET_ITEM(values, i, Py_NewRef(args[i]));
    }
    PyObject *result = PyObject_CallOneArg(self->check, values);
    Py_DECREF(values);
    if (result == NULL) {  /* check raised its own error, inside the handler */
        PyObject *named = core_take_exception();
        if (named != NULL) {
            PyException_SetContext(named, error);
            core_raise(named);
        }
        else {
            Py_DECREF(error);
        }
        return NULL;
    }
    Py_DECREF(result);
    core_raise(error);  /* every value hashes: the error came from elsewhere */
    return NULL;
}

/* A live entry's value from an expiring table's (value, deadline) entry
 * (a new reference); NULL without an exception when it has expired (it is
 * then dropped and counted by expire), or with one. */
static PyObject *
live_value(Memo *self, PyObject *key, PyObject *entry)
{
    PyObject *deadline = PySequence_GetItem(entry, 1);
    if (deadline == NULL) {
        return NULL;
    }
    PyObject *now = PyObject_CallNoArgs(self->clock);
    if (now == NULL) {
        Py_DECREF(deadline);
        return NULL;
    }
    int live;
    if (PyFloat_CheckExact(deadline) && PyFloat_CheckExact(now)) {
        live = PyFloat_AS_DOUBLE(deadline) > PyFloat_AS_DOUBLE(now);
    }
    else {
        live = PyObject_RichCompareBool(deadline, now, Py_GT);
    }
    Py_DECREF(deadline);
    Py_DECREF(now);
    if (live < 0) {
        return NULL;
    }
    if (live) {
        return PySequence_GetItem(entry, 0);
    }
    PyObject *stack[2] = {key, entry};
    PyObject *done = PyObject_Vectorcall(self->expire, stack, 2, NULL);
    Py_XDECREF(done);
    return NULL;
}

PyObject *
memo_call(Memo *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    int positional = kwnames == NULL && nargs - self->skip == self->arity;
    PyObject *key;
    if (positional) {
        key = positional_key(self, args + self->skip);
        if (key == NULL) {
            return unhashable(self, args + self->skip);
        }
    }
    else {
        /* The binder hashes the key too, and names what cannot be hashed. */
        key = PyObject_Vectorcall(self->binder, args, nargsf, kwnames);
        if (key == NULL) {
            return NULL;
        }
    }
    Py_hash_t hash = PyObject_Hash(key);
    if (hash == -1) {
        Py_DECREF(key);
        return positional ? unhashable(self, args + self->skip) : NULL;
    }
    PyObject *found = _PyDict_GetItem_KnownHash(self->table, key, hash);
    if (found == NULL) {
        if (PyErr_Occurred()) {  /* a key's __eq__ raised */
            Py_DECREF(key);
            return positional ? unhashable(self, args + self->skip) : NULL;
        }
        return memo_miss(self, key, hash, args, nargsf, kwnames);
    }
    PyObject *value;
    if (self->clock != NULL) {
        Py_INCREF(found);  /* the clock is user code: keep the entry alive */
        value = live_value(self, key, found);
        Py_DECREF(found);
        if (value == NULL) {
            if (PyErr_Occurred()) {
                Py_DECREF(key);
                return NULL;
            }
            return memo_miss(self, key, hash, args, nargsf, kwnames);
        }
    }
    else {
        value = Py_NewRef(found);
    }
    if (self->touch != NULL) {
        PyObject *done = PyObject_CallOneArg(self->touch, key);
        if (done == NULL) {
            Py_DECREF(value);
            if (!PyErr_ExceptionMatches(PyExc_KeyError)) {
                Py_DECREF(key);
                return NULL;
            }
            /* Evicted by another thread since the lookup: a miss. */
            PyErr_Clear();
            return memo_miss(self, key, hash, args, nargsf, kwnames);
        }
        Py_DECREF(done);
    }
    self->hits++;
    Py_DECREF(key);
    return value;
}

static PyObject *
memo_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return memo_call((Memo *)op, args, nargsf, kwnames);
}

/* ---------------------------------------------------------------- the type */

static PyObject *
memo_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {
        "function", "binder", "check", "skip", "arity", "checked",
        "plain", "wrapped", "hashed", "hashed_tuple",
        "table", "touch", "clock", "expire", "read", "put",
        "flights", "pending", "contended", "fail", "wake", "missing", NULL,
    };
    PyObject *function, *binder, *check, *checked, *plain, *wrapped, *hashed, *hashed_tuple;
    PyObject *table, *touch, *clock, *expire, *read, *put;
    PyObject *flights, *pending, *contended, *fail, *wake, *missing;
    Py_ssize_t skip, arity;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "$OOOnnO!O!O!OOO!OOOOOO!OOOOO:Memo", names,
            &function, &binder, &check, &skip, &arity, &PyTuple_Type, &checked,
            &PySet_Type, &plain, &PySet_Type, &wrapped, &hashed, &hashed_tuple,
            &PyDict_Type, &table, &touch, &clock, &expire, &read, &put,
            &PyDict_Type, &flights, &pending, &contended, &fail, &wake, &missing)) {
        return NULL;
    }
    if (arity > MEMO_MAX_ARITY || PyTuple_GET_SIZE(checked) != (arity < 0 ? 0 : arity)
        || skip < 0 || skip > 1) {
        PyErr_SetString(PyExc_ValueError,
                        "Memo: arity must be -1 or at most 8, with one flag per argument");
        return NULL;
    }
    Memo *self = (Memo *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->vectorcall = memo_vectorcall;
    self->skip = skip;
    self->arity = arity;
    for (Py_ssize_t i = 0; i < arity; i++) {
        self->checked[i] = (unsigned char)PyObject_IsTrue(PyTuple_GET_ITEM(checked, i));
    }
#define KEEP(field) self->field = (field == Py_None ? NULL : Py_NewRef(field))
    KEEP(function); KEEP(binder); KEEP(check);
    KEEP(plain); KEEP(wrapped); KEEP(hashed); KEEP(hashed_tuple);
    KEEP(table); KEEP(touch); KEEP(clock); KEEP(expire); KEEP(read); KEEP(put);
    KEEP(flights); KEEP(pending); KEEP(contended); KEEP(fail); KEEP(wake); KEEP(missing);
#undef KEEP
    return (PyObject *)self;
}

#define MEMO_FIELDS(X) \
    X(dict) X(binder) X(check) X(plain) X(wrapped) X(hashed) X(hashed_tuple) \
    X(table) X(touch) X(clock) X(expire) X(read) X(put) X(function) X(flights) \
    X(pending) X(contended) X(fail) X(wake) X(missing)

static int
memo_traverse(Memo *self, visitproc visit, void *arg)
{
#define VISIT(field) Py_VISIT(self->field);
    MEMO_FIELDS(VISIT)
#undef VISIT
    return 0;
}

static int
memo_clear(Memo *self)
{
#define CLEAR(field) Py_CLEAR(self->field);
    MEMO_FIELDS(CLEAR)
#undef CLEAR
    return 0;
}

static void
memo_dealloc(Memo *self)
{
    PyObject_GC_UnTrack(self);
    if (self->weakrefs != NULL) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    memo_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Bound like a function: obj.f is f with obj as its first argument. */
static PyObject *
memo_descr_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None) {
        return Py_NewRef(self);
    }
    return PyMethod_New(self, obj);
}

static PyObject *
memo_repr(Memo *self)
{
    PyObject *name = self->dict ? PyDict_GetItemString(self->dict, "__qualname__") : NULL;
    if (name != NULL && PyUnicode_Check(name)) {
        return PyUnicode_FromFormat("<memoized function %U at %p>", name, self);
    }
    return PyUnicode_FromFormat("<memoized function at %p>", self);
}

static PyObject *
memo_counts(Memo *self, PyObject *reset)
{
    PyObject *counts = Py_BuildValue("(nn)", self->hits, self->misses);
    if (counts != NULL && PyObject_IsTrue(reset)) {
        self->hits = self->misses = 0;
    }
    return counts;
}

static PyObject *
memo_tally(Memo *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "tally(hits, misses) takes two ints");
        return NULL;
    }
    Py_ssize_t hits = PyLong_AsSsize_t(args[0]);
    Py_ssize_t misses = PyLong_AsSsize_t(args[1]);
    if ((hits == -1 || misses == -1) && PyErr_Occurred()) {
        return NULL;
    }
    self->hits += hits;
    self->misses += misses;
    Py_RETURN_NONE;
}

/* Pickled and copied as a function is: by its qualified name, to itself. */
static PyObject *
memo_reduce(PyObject *self, PyObject *unused)
{
    return PyObject_GetAttrString(self, "__qualname__");
}

static PyObject *
memo_copy(PyObject *self, PyObject *unused)
{
    return Py_NewRef(self);
}

static PyMethodDef memo_methods[] = {
    {"counts", (PyCFunction)memo_counts, METH_O,
     "counts(reset) -> (hits, misses); with reset, zero them."},
    {"tally", (PyCFunction)(void (*)(void))memo_tally, METH_FASTCALL,
     "tally(hits, misses): add to the counts (for the miss path's helpers)."},
    {"__reduce__", memo_reduce, METH_NOARGS, NULL},
    {"__copy__", memo_copy, METH_NOARGS, NULL},
    {"__deepcopy__", memo_copy, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef memo_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject CoreMemo_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "memokit._core._compiled.Memo",
    .tp_doc = "A @memoize cache's wrapper (memokit/_core/memo.c).",
    .tp_basicsize = sizeof(Memo),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL
                | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_new = memo_new,
    .tp_dealloc = (destructor)memo_dealloc,
    .tp_traverse = (traverseproc)memo_traverse,
    .tp_clear = (inquiry)memo_clear,
    .tp_vectorcall_offset = offsetof(Memo, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_descr_get = memo_descr_get,
    .tp_repr = (reprfunc)memo_repr,
    .tp_dictoffset = offsetof(Memo, dict),
    .tp_weaklistoffset = offsetof(Memo, weakrefs),
    .tp_methods = memo_methods,
    .tp_getset = memo_getset,
};
