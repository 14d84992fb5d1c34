/* The requests the compiled dp front end makes: a subclass of the engine's
 * Request (memokit/_dp_engine.py) with the same slots, which the C loop
 * takes as it takes a Request; a few freed ones are kept for the next call.
 */
#include "dp_engine.h"

#ifdef DP_FRONT

/* ---------------------------------------------------------------- requests */

/* Requests live for a moment (made by the front end, taken apart by the loop),
 * so a few freed ones are kept for the next: no allocation per sub-problem. */
#define FREE_REQUESTS 32
static PyObject *free_requests[FREE_REQUESTS];
static int n_free_requests;
static PyTypeObject *free_request_type; /* the type of the requests kept */

/* Request's own slots are dropped by its (inherited) tp_clear; a freed request
 * goes to the free list, keeping its reference to the type. */
static void
fast_request_dealloc(PyObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    (void)type->tp_clear(self);
    if (type == free_request_type && n_free_requests < FREE_REQUESTS) {
        free_requests[n_free_requests++] = self;
        return;
    }
    type->tp_free(self);
    Py_DECREF(type);
}

static PyType_Slot fast_request_slots[] = {
    {Py_tp_dealloc, fast_request_dealloc},
    {Py_tp_doc, "A request made by the compiled dp front end: a Request like any other."},
    {0, NULL},
};

static PyType_Spec fast_request_spec = {
    .name = "memokit._core._compiled.Request",
    .basicsize = 0, /* Request's, with its __slots__ */
    /* Not immutable: Request, its base, is a Python class (3.12 deprecates an
     * immutable type made from a mutable base). */
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = fast_request_slots,
};

PyTypeObject *
dp_fast_request_type(PyTypeObject *request_type)
{
    PyObject *bases = PyTuple_Pack(1, (PyObject *)request_type);
    if (bases == NULL) {
        return NULL;
    }
    PyObject *type = PyType_FromSpecWithBases(&fast_request_spec, bases);
    Py_DECREF(bases);
    if (type == NULL) {
        return NULL;
    }
    if (free_request_type == NULL) {
        free_request_type = (PyTypeObject *)Py_NewRef(type); /* kept for good */
    }
    return (PyTypeObject *)type;
}

/* A new, unstarted request for ``gen``: the keys and generator are stolen. */
PyObject *
dp_request_new(DPEngine *engine, PyObject *source, PyObject *key, PyObject *gen)
{
    PyTypeObject *type = engine->fast_request_type;
    PyObject *request;
    if (n_free_requests > 0 && type == free_request_type) {
        request = free_requests[--n_free_requests];
        _Py_NewReference(request); /* as CPython's own free lists revive an object */
        PyObject_GC_Track(request);
    }
    else {
        request = type->tp_alloc(type, 0);
        if (request == NULL) {
            Py_DECREF(key);
            Py_DECREF(gen);
            return NULL;
        }
    }
    CORE_SLOT(request, engine->req_source) = Py_NewRef(source);
    CORE_SLOT(request, engine->req_key) = key;
    CORE_SLOT(request, engine->req_gen) = gen;
    CORE_SLOT(request, engine->req_started) = Py_NewRef(Py_False);
    return request;
}

#else /* no DP_FRONT: requests come from the Python front end only */

PyTypeObject *
dp_fast_request_type(PyTypeObject *request_type)
{
    return (PyTypeObject *)Py_NewRef(request_type);
}

#endif
