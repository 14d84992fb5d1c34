/* The compiled dp front end's type: construction, the methods memokit/_dp.py
 * and the cache controls (memokit/_controls.py) use, garbage collection.
 * The call itself is in dp_front.c; dp_front.h describes the object.
 */
#include "dp_front.h"

#ifdef DP_FRONT

/* Check the arguments the fallback hands on: exactly nparams after ``skip``. */
static int
check_count(DPFront *self, const char *name, Py_ssize_t nargs, Py_ssize_t skip)
{
    if (nargs - skip != self->nparams) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments, got %zd", name,
                     self->nparams + skip, nargs);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(front_call_doc,
"call(in_frame, *args)\n--\n\n\
The dp call with the arguments bound to every parameter, by position.\n\
in_frame says whether the call was made directly in a running dp frame\n\
(a miss then returns the request instead of computing it).");

static PyObject *
front_call_method(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    DPFront *self = (DPFront *)op;
    if (check_count(self, "call", nargs, 1) < 0) {
        return NULL;
    }
    int in_frame = PyObject_IsTrue(args[0]);
    if (in_frame < 0) {
        return NULL;
    }
    return dp_front_call(self, args + 1, in_frame);
}

PyDoc_STRVAR(front_key_doc,
"key(*args)\n--\n\n\
The key of a call with the arguments bound to every parameter, by position,\n\
as the store keeps it (for cache_invalidate).");

static PyObject *
front_key(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    DPFront *self = (DPFront *)op;
    if (check_count(self, "key", nargs, 0) < 0) {
        return NULL;
    }
    PyObject *key = dp_front_make_key(self, args);
    if (key == NULL) {
        return dp_front_unhashable(self, args);
    }
    /* A store need not hash a key to find it absent: hashed here. (A canonical
     * key is hashable: made so, or plain.) */
    if (!self->canonical && PyObject_Hash(key) == -1) {
        Py_DECREF(key);
        return dp_front_unhashable(self, args);
    }
    return key;
}

PyDoc_STRVAR(front_counts_doc,
"counts(reset)\n--\n\nReturn (hits, misses); with reset, set both to zero.");

static PyObject *
front_counts(PyObject *op, PyObject *reset)
{
    DPFront *self = (DPFront *)op;
    int zero = PyObject_IsTrue(reset);
    if (zero < 0) {
        return NULL;
    }
    PyObject *counts = Py_BuildValue("(nn)", self->hits, self->misses);
    if (counts != NULL && zero) {
        self->hits = self->misses = 0;
    }
    return counts;
}

PyDoc_STRVAR(front_tally_doc, "tally(hits, misses)\n--\n\nAdd to the counts.");

static PyObject *
front_tally(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    DPFront *self = (DPFront *)op;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "tally() takes two arguments, hits and misses");
        return NULL;
    }
    Py_ssize_t hits = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
    if (hits == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t misses = PyNumber_AsSsize_t(args[1], PyExc_OverflowError);
    if (misses == -1 && PyErr_Occurred()) {
        return NULL;
    }
    self->hits += hits;
    self->misses += misses;
    Py_RETURN_NONE;
}

/* Pickled by reference, as a function is: by its module and qualified name. */
static PyObject *
front_reduce(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    return PyObject_GetAttrString(op, "__qualname__");
}

static PyObject *
front_repr(PyObject *op)
{
    PyObject *name = PyObject_GetAttrString(op, "__qualname__");
    if (name == NULL) {
        PyErr_Clear();
        return PyUnicode_FromFormat("<function at %p>", op);
    }
    PyObject *repr = PyUnicode_FromFormat("<function %S at %p>", name, op);
    Py_DECREF(name);
    return repr;
}

/* On a class, access through an instance binds it, as for a function. */
static PyObject *
front_descr_get(PyObject *op, PyObject *obj, PyObject *Py_UNUSED(type))
{
    if (obj == NULL || obj == Py_None) {
        return Py_NewRef(op);
    }
    return PyMethod_New(op, obj);
}

static int
front_traverse(DPFront *self, visitproc visit, void *arg)
{
    Py_VISIT(self->dict);
    Py_VISIT(self->engine);
    Py_VISIT(self->source);
    Py_VISIT(self->body);
    Py_VISIT(self->fallback);
    Py_VISIT(self->checks);
    Py_VISIT(self->table);
    Py_VISIT(self->read);
    Py_VISIT(self->touch);
    Py_VISIT(self->clock);
    Py_VISIT(self->expire);
    Py_VISIT(self->missing);
    Py_VISIT(self->check);
    Py_VISIT(self->plain);
    Py_VISIT(self->wrapped);
    Py_VISIT(self->hashed);
    Py_VISIT(self->hashed_tuple);
    return 0;
}

static int
front_clear(DPFront *self)
{
    Py_CLEAR(self->dict);
    Py_CLEAR(self->engine);
    Py_CLEAR(self->source);
    Py_CLEAR(self->body);
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->checks);
    Py_CLEAR(self->table);
    Py_CLEAR(self->read);
    Py_CLEAR(self->touch);
    Py_CLEAR(self->clock);
    Py_CLEAR(self->expire);
    Py_CLEAR(self->missing);
    Py_CLEAR(self->check);
    Py_CLEAR(self->plain);
    Py_CLEAR(self->wrapped);
    Py_CLEAR(self->hashed);
    Py_CLEAR(self->hashed_tuple);
    return 0;
}

static void
front_dealloc(DPFront *self)
{
    PyObject_GC_UnTrack(self);
    front_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* None for NULL and the reverse, so that optional parts read as None in Python. */
static PyObject *
or_null(PyObject *obj)
{
    return obj == Py_None ? NULL : Py_NewRef(obj);
}

static PyObject *
front_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"engine", "fallback", "source", "body", "checks", "table",
                            "read", "touch", "clock", "expire", "missing", "check",
                            "plain", "wrapped", "hashed", "hashed_tuple",
                            "swallow_keyerror", NULL};
    PyObject *engine, *fallback, *source, *body, *checks, *table, *read, *touch, *clock;
    PyObject *expire, *missing, *check, *plain, *wrapped, *hashed, *hashed_tuple;
    int swallow_keyerror;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "O!O$OOO!OOOOOOOO!O!OOp:DPFront", names, &CoreDPEngine_Type,
            &engine, &fallback, &source, &body, &PyTuple_Type, &checks, &table, &read,
            &touch, &clock, &expire, &missing, &check, &PySet_Type, &plain, &PySet_Type,
            &wrapped, &hashed, &hashed_tuple, &swallow_keyerror)) {
        return NULL;
    }
    DPEngine *loop = (DPEngine *)engine;
    if (!PyObject_TypeCheck(source, loop->source_type)) {
        return PyErr_Format(PyExc_TypeError, "DPFront(source=...) takes a %.100s",
                            loop->source_type->tp_name);
    }
    if (table != Py_None && !PyDict_Check(table)) {
        return PyErr_Format(PyExc_TypeError, "DPFront(table=...) takes a dict or None");
    }
    if (clock != Py_None && (table == Py_None || expire == Py_None)) {
        return PyErr_Format(PyExc_TypeError, "DPFront(clock=...) needs table= and expire=");
    }
    int canonical = 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(checks); i++) {
        PyObject *flag = PyTuple_GET_ITEM(checks, i);
        if (!PyBool_Check(flag)) {
            return PyErr_Format(PyExc_TypeError, "DPFront(checks=...) takes a tuple of bools");
        }
        canonical |= flag == Py_True;
    }
    if (PySet_Contains(plain, (PyObject *)&PyLong_Type) != 1
        || PySet_Contains(plain, (PyObject *)&PyUnicode_Type) != 1) {
        return PyErr_Format(PyExc_ValueError, "DPFront(plain=...) must hold int and str");
    }
    DPFront *self = (DPFront *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->vectorcall = dp_front_vectorcall;
    self->engine = (DPEngine *)Py_NewRef(engine);
    self->fallback = Py_NewRef(fallback);
    self->source = Py_NewRef(source);
    self->body = Py_NewRef(body);
    self->checks = Py_NewRef(checks);
    self->nparams = PyTuple_GET_SIZE(checks);
    self->table = or_null(table);
    self->read = Py_NewRef(read);
    self->touch = or_null(touch);
    self->clock = or_null(clock);
    self->expire = or_null(expire);
    self->missing = Py_NewRef(missing);
    self->check = Py_NewRef(check);
    self->plain = Py_NewRef(plain);
    self->wrapped = Py_NewRef(wrapped);
    self->hashed = Py_NewRef(hashed);
    self->hashed_tuple = Py_NewRef(hashed_tuple);
    self->canonical = canonical && self->table != NULL;
    self->swallow_keyerror = swallow_keyerror;
    return (PyObject *)self;
}

static PyMethodDef front_methods[] = {
    {"call", (PyCFunction)(void (*)(void))front_call_method, METH_FASTCALL, front_call_doc},
    {"key", (PyCFunction)(void (*)(void))front_key, METH_FASTCALL, front_key_doc},
    {"counts", front_counts, METH_O, front_counts_doc},
    {"tally", (PyCFunction)(void (*)(void))front_tally, METH_FASTCALL, front_tally_doc},
    {"__reduce__", front_reduce, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef front_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(front_doc,
"DPFront(engine, fallback, *, source, body, checks, table, read, touch, clock,\n\
        expire, missing, check, plain, wrapped, hashed, hashed_tuple,\n\
        swallow_keyerror)\n\
--\n\
\n\
A dp function's wrapper in C (memokit/_core/dp_front.c; memokit/_dp.py makes\n\
them). engine is the C loop; fallback takes the calls that are not exactly\n\
positional. source and body are the function's Source and body; checks\n\
tells, per parameter, whether its type decides the key's form. table (or\n\
None: read), touch, clock, expire and missing come from the store's fast\n\
path; check names an unhashable argument; plain, wrapped, hashed and\n\
hashed_tuple are memokit._hashed's; swallow_keyerror makes a KeyError from\n\
the lookup a miss.");

PyTypeObject CoreDPFront_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "memokit._core._compiled.DPFront",
    .tp_basicsize = sizeof(DPFront),
    .tp_dealloc = (destructor)front_dealloc,
    .tp_vectorcall_offset = offsetof(DPFront, vectorcall),
    .tp_repr = front_repr,
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL
                | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_doc = front_doc,
    .tp_traverse = (traverseproc)front_traverse,
    .tp_clear = (inquiry)front_clear,
    .tp_methods = front_methods,
    .tp_getset = front_getset,
    .tp_descr_get = front_descr_get,
    .tp_dictoffset = offsetof(DPFront, dict),
    .tp_new = front_new,
};

#endif
