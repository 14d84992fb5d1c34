/* The loop of memokit/_dp_engine.py's run(), in C.
 *
 * _dp_engine.py is the reference: read it for what a frame, a request and a
 * source are, and why the engine keeps frames on an explicit stack. This file
 * runs the same algorithm with two differences that only change speed:
 *
 * - a frame's generator is resumed with PyIter_Send, which reports its return
 *   value directly: no StopIteration per frame, hence no trampolines;
 * - the stack is a C array of (generator, source, key) triples, owned by a
 *   small RunStack object that the thread's list of running computations
 *   holds (a computation started inside a frame's plain code is nested, and
 *   the nesting check reads the stacks of the runs below it).
 *
 * Everything observable is the Python engine's: the values stored and how
 * (data[key] = value, or put(key, value)), the misses counted, exceptions
 * thrown into the waiting frames with their tracebacks untouched, and the
 * errors themselves, which are built by the Python functions the engine is
 * created with (find_cycle, returned_request, yielded_twice). The cycle
 * check runs at the same stack heights; it finds a repeated sub-problem with
 * a dict per source and leaves the report, path and message to find_cycle.
 */
#include "core.h"

/* The Python engine's _FIRST_CHECK and _NESTED_CHECK (counted in stack slots,
 * three per frame, as the Python engine's flat list is). */
#define FIRST_CHECK 64
#define NESTED_CHECK 4

/* ------------------------------------------------------------ RunStack */

typedef struct {
    PyObject_HEAD
    PyObject **items; /* (gen, source, key) per frame, bottom first: strong references */
    Py_ssize_t len;   /* slots in use, 3 per frame */
    Py_ssize_t cap;
} RunStack;

static void
runstack_dealloc(RunStack *self)
{
    for (Py_ssize_t i = 0; i < self->len; i++) {
        Py_DECREF(self->items[i]);
    }
    PyMem_Free(self->items);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Not GC-tracked on purpose: nothing refers to a RunStack but its run and the
 * thread's list of runs, so it cannot be part of a reference cycle, and the
 * generators it holds count for the collector as held from outside. */
PyTypeObject CoreRunStack_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "memokit._core._compiled.RunStack",
    .tp_basicsize = sizeof(RunStack),
    .tp_dealloc = (destructor)runstack_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The frames of one running dp computation (internal).",
};

static int
runstack_push(RunStack *stack, PyObject *gen, PyObject *source, PyObject *key)
{
    if (stack->len + 3 > stack->cap) {
        Py_ssize_t cap = stack->cap ? 2 * stack->cap : 48;
        PyObject **items = PyMem_Realloc(stack->items, (size_t)cap * sizeof(PyObject *));
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        stack->items = items;
        stack->cap = cap;
    }
    stack->items[stack->len] = Py_NewRef(gen);
    stack->items[stack->len + 1] = Py_NewRef(source);
    stack->items[stack->len + 2] = Py_NewRef(key);
    stack->len += 3;
    return 0;
}

static void
runstack_pop(RunStack *stack)
{
    stack->len -= 3;
    Py_DECREF(stack->items[stack->len]);
    Py_DECREF(stack->items[stack->len + 1]);
    Py_DECREF(stack->items[stack->len + 2]);
}

/* ------------------------------------------------------------ DPEngine */

typedef struct {
    PyObject_HEAD
    PyTypeObject *request_type;
    PyTypeObject *source_type;
    PyObject *find_cycle;       /* (flat stack list) -> raises CycleError */
    PyObject *returned_request; /* (source, key, gen, request) -> TypeError */
    PyObject *yielded_twice;    /* (request) -> TypeError */
    PyObject *find_cycle_code;  /* its __code__, dropped from tracebacks; or NULL */
    PyObject *reference;        /* the Python run() this replaces (for tests) */
    Py_ssize_t req_source, req_key, req_gen, req_started; /* Request slot offsets */
    Py_ssize_t src_data, src_put, src_misses;             /* Source slot offsets */
    vectorcallfunc vectorcall;
} DPEngine;

static PyObject *str_throw;   /* "throw" */

static int
engine_traverse(DPEngine *self, visitproc visit, void *arg)
{
    Py_VISIT(self->request_type);
    Py_VISIT(self->source_type);
    Py_VISIT(self->find_cycle);
    Py_VISIT(self->returned_request);
    Py_VISIT(self->yielded_twice);
    Py_VISIT(self->find_cycle_code);
    Py_VISIT(self->reference);
    return 0;
}

static int
engine_clear(DPEngine *self)
{
    Py_CLEAR(self->request_type);
    Py_CLEAR(self->source_type);
    Py_CLEAR(self->find_cycle);
    Py_CLEAR(self->returned_request);
    Py_CLEAR(self->yielded_twice);
    Py_CLEAR(self->find_cycle_code);
    Py_CLEAR(self->reference);
    return 0;
}

static void
engine_dealloc(DPEngine *self)
{
    PyObject_GC_UnTrack(self);
    engine_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A slot's object (borrowed), or NULL with AttributeError when it is unset. */
static PyObject *
slot(PyObject *obj, Py_ssize_t offset, const char *name)
{
    PyObject *value = CORE_SLOT(obj, offset);
    if (value == NULL) {
        PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute '%s'",
                     Py_TYPE(obj)->tp_name, name);
    }
    return value;
}

/* Replace a slot's object (the new reference is stolen). */
static void
set_slot(PyObject *obj, Py_ssize_t offset, PyObject *value)
{
    PyObject *old = CORE_SLOT(obj, offset);
    CORE_SLOT(obj, offset) = value;
    Py_XDECREF(old);
}

/* Raise again the exception being raised, without its leading traceback
 * entries from find_cycle (as the Python engine's _strip_engine_frames). */
static void
strip_find_cycle_frames(DPEngine *self)
{
    PyObject *exc = core_take_exception();
    if (exc == NULL || self->find_cycle_code == NULL) {
        if (exc != NULL) {
            core_raise(exc);
        }
        return;
    }
    PyObject *tb = PyException_GetTraceback(exc);
    while (tb != NULL && PyTraceBack_Check(tb)) {
        PyTracebackObject *entry = (PyTracebackObject *)tb;
        PyCodeObject *code = PyFrame_GetCode(entry->tb_frame);
        int own = (PyObject *)code == self->find_cycle_code;
        Py_DECREF(code);
        if (!own) {
            break;
        }
        PyObject *next = Py_XNewRef((PyObject *)entry->tb_next);
        Py_SETREF(tb, next);
    }
    PyException_SetTraceback(exc, tb != NULL ? tb : Py_None);
    Py_XDECREF(tb);
    core_raise(exc);
}

/* Hand frames [first, last] (frame indexes) to find_cycle, which raises the
 * CycleError that describes them. Returns -1 with the error set. */
static int
report_cycle(DPEngine *self, PyObject *const *items, Py_ssize_t first, Py_ssize_t last)
{
    PyObject *flat = PyList_New(3 * (last - first + 1));
    if (flat == NULL) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < 3 * (last - first + 1); i++) {
        PyList_SET_ITEM(flat, i, Py_NewRef(items[3 * first + i]));
    }
    PyObject *result = PyObject_CallOneArg(self->find_cycle, flat);
    Py_DECREF(flat);
    if (result == NULL) {
        strip_find_cycle_frames(self);
        return -1;
    }
    Py_DECREF(result);
    return 0; /* find_cycle saw no cycle (keys whose == is not consistent) */
}

/* The Python engine's _find_cycle(stack), with the search done here: raise
 * CycleError if a (source, key) occurs twice on the stack. A dict of keys per
 * source finds the first repeat; its first occurrence is then found by a scan
 * (once per error). Returns -1 with an error set, else 0. */
static int
check_stack(DPEngine *self, RunStack *stack)
{
    PyObject *per_source = PyDict_New();
    if (per_source == NULL) {
        return -1;
    }
    PyObject *last_source = NULL, *keys = NULL; /* borrowed */
    int status = 0;
    for (Py_ssize_t i = 0; i < stack->len; i += 3) {
        PyObject *source = stack->items[i + 1], *key = stack->items[i + 2];
        if (source != last_source) {
            keys = PyDict_GetItemWithError(per_source, source);
            if (keys == NULL) {
                if (PyErr_Occurred() || (keys = PyDict_New()) == NULL) {
                    status = -1;
                    break;
                }
                int failed = PyDict_SetItem(per_source, source, keys);
                Py_DECREF(keys); /* per_source holds it */
                if (failed) {
                    status = -1;
                    break;
                }
            }
            last_source = source;
        }
        Py_ssize_t before = PyDict_GET_SIZE(keys);
        if (PyDict_SetDefault(keys, key, Py_None) == NULL) {
            status = -1;
            break;
        }
        if (PyDict_GET_SIZE(keys) == before) { /* seen before: find where */
            for (Py_ssize_t j = 0; j < i; j += 3) {
                if (stack->items[j + 1] != source) {
                    continue;
                }
                int same = PyObject_RichCompareBool(stack->items[j + 2], key, Py_EQ);
                if (same < 0) {
                    status = -1;
                    break;
                }
                if (same) {
                    status = report_cycle(self, stack->items, j / 3, i / 3);
                    break;
                }
            }
            break;
        }
    }
    Py_DECREF(per_source);
    return status;
}

/* At a nesting depth that is a power of two (4 and up), look for a cycle
 * through plain code: the stacks of every run of this thread, then the root
 * request, handed to find_cycle as one flat list, as the Python engine does. */
static int
check_nesting(DPEngine *self, PyObject *runs, PyObject *root)
{
    PyObject *gen = slot(root, self->req_gen, "gen");
    PyObject *source = gen ? slot(root, self->req_source, "source") : NULL;
    PyObject *key = source ? slot(root, self->req_key, "key") : NULL;
    if (key == NULL) {
        return -1;
    }
    PyObject *flat = PyList_New(0);
    if (flat == NULL) {
        return -1;
    }
    for (Py_ssize_t r = 0; r < PyList_GET_SIZE(runs); r++) {
        RunStack *outer = (RunStack *)PyList_GET_ITEM(runs, r);
        for (Py_ssize_t i = 0; i < outer->len; i++) {
            if (PyList_Append(flat, outer->items[i]) < 0) {
                Py_DECREF(flat);
                return -1;
            }
        }
    }
    if (PyList_Append(flat, gen) < 0 || PyList_Append(flat, source) < 0
        || PyList_Append(flat, key) < 0) {
        Py_DECREF(flat);
        return -1;
    }
    PyObject *result = PyObject_CallOneArg(self->find_cycle, flat);
    Py_DECREF(flat);
    if (result == NULL) {
        strip_find_cycle_frames(self);
        return -1;
    }
    Py_DECREF(result);
    return 0;
}

/* source.misses += 1 */
static int
count_miss(DPEngine *self, PyObject *source)
{
    PyObject *misses = slot(source, self->src_misses, "misses");
    if (misses == NULL) {
        return -1;
    }
    PyObject *more = NULL;
    if (PyLong_CheckExact(misses)) {
        Py_ssize_t n = PyLong_AsSsize_t(misses);
        if (n == -1 && PyErr_Occurred()) {
            PyErr_Clear();
        }
        else if (n < PY_SSIZE_T_MAX) {
            more = PyLong_FromSsize_t(n + 1);
            if (more == NULL) {
                return -1;
            }
        }
    }
    if (more == NULL) {
        static PyObject *one = NULL;
        if (one == NULL && (one = PyLong_FromLong(1)) == NULL) {
            return -1;
        }
        if ((more = PyNumber_InPlaceAdd(misses, one)) == NULL) {
            return -1;
        }
    }
    set_slot(source, self->src_misses, more);
    return 0;
}

/* Store a finished frame's value: data[key] = value, or put(key, value). */
static int
store(DPEngine *self, PyObject *source, PyObject *key, PyObject *value)
{
    PyObject *data = slot(source, self->src_data, "data");
    if (data == NULL) {
        return -1;
    }
    if (data != Py_None) {
        if (PyDict_CheckExact(data)) {
            return PyDict_SetItem(data, key, value);
        }
        return PyObject_SetItem(data, key, value);
    }
    PyObject *put = slot(source, self->src_put, "put");
    if (put == NULL) {
        return -1;
    }
    PyObject *args[2] = {key, value};
    PyObject *result = PyObject_Vectorcall(put, args, 2, NULL);
    if (result == NULL) {
        return -1;
    }
    Py_DECREF(result);
    return 0;
}

/* The value a generator returned, from the StopIteration its throw() raised
 * (a new reference), or NULL with the exception left set if it is another. */
static PyObject *
take_stop_value(void)
{
    if (!PyErr_ExceptionMatches(PyExc_StopIteration)) {
        return NULL;
    }
    PyObject *stop = core_take_exception();
    PyObject *value = PyObject_GetAttrString(stop, "value");
    Py_DECREF(stop);
    return value;
}

/* The loop: run() of _dp_engine.py. `stack` is this run's, already in `runs`. */
static PyObject *
drive(DPEngine *self, RunStack *stack, PyObject *runs, PyObject *root)
{
    Py_ssize_t nesting = PyList_GET_SIZE(runs);
    if (nesting >= NESTED_CHECK && (nesting & (nesting - 1)) == 0) {
        if (check_nesting(self, runs, root) < 0) {
            return NULL;
        }
    }
    Py_ssize_t check_at = FIRST_CHECK;
    PyObject *t = NULL;   /* the top frame's generator (borrowed from the stack) */
    PyObject *item;       /* owned: what the top frame yielded */
    PyObject *value;      /* owned: what goes into the top frame, or what it returned */
    PyObject *exc;        /* owned: what is thrown into the top frame */
    PyObject *source, *key, *gen; /* borrowed */

    item = Py_NewRef(root);
next_item:
    if (!Py_IS_TYPE(item, self->request_type)) { /* a value (a hit): hand it back */
        value = item;
        goto send;
    }
    { /* a request: a sub-problem to compute first */
        PyObject *started = slot(item, self->req_started, "started");
        int is_started = started == NULL ? -1 : PyObject_IsTrue(started);
        if (is_started < 0) {
            Py_DECREF(item);
            goto failed;
        }
        if (is_started) { /* yielded before: its generator is used up */
            exc = PyObject_CallOneArg(self->yielded_twice, item);
            Py_DECREF(item);
            if (exc == NULL) {
                goto failed;
            }
            if (t == NULL) { /* the root itself */
                core_raise(exc);
                return NULL;
            }
            goto throw;
        }
        set_slot(item, self->req_started, Py_NewRef(Py_True));
        source = slot(item, self->req_source, "source");
        key = source ? slot(item, self->req_key, "key") : NULL;
        gen = key ? slot(item, self->req_gen, "gen") : NULL;
        if (gen != NULL && !PyObject_TypeCheck(source, self->source_type)) {
            PyErr_Format(PyExc_TypeError, "a dp request's source must be a %.100s, got %.100s",
                         self->source_type->tp_name, Py_TYPE(source)->tp_name);
            gen = NULL;
        }
        if (gen == NULL || count_miss(self, source) < 0
            || runstack_push(stack, gen, source, key) < 0) {
            Py_DECREF(item);
            goto failed;
        }
        Py_DECREF(item); /* the stack holds what the frame needs */
        t = gen;
        if (stack->len >= check_at) {
            check_at = 2 * stack->len;
            if (check_stack(self, stack) < 0) {
                goto failed; /* the new frame never ran: the one below gets the error */
            }
        }
        value = Py_NewRef(Py_None);
    }
send: {
    PyObject *result;
    PySendResult status = PyIter_Send(t, value, &result);
    Py_DECREF(value);
    if (status == PYGEN_NEXT) {
        item = result;
        goto next_item;
    }
    if (status == PYGEN_ERROR) {
        goto failed;
    }
    value = result;
}
returned: /* the top frame returned `value` */
    source = stack->items[stack->len - 2];
    key = stack->items[stack->len - 1];
    if (Py_IS_TYPE(value, self->request_type)) {
        PyObject *args[4] = {source, key, t, value};
        exc = PyObject_Vectorcall(self->returned_request, args, 4, NULL);
        Py_DECREF(value);
        if (exc != NULL) {
            core_raise(exc);
        }
        goto failed;
    }
    if (store(self, source, key, value) < 0) {
        Py_DECREF(value);
        goto failed;
    }
    runstack_pop(stack);
    if (stack->len == 0) {
        return value;
    }
    t = stack->items[stack->len - 3];
    goto send;

failed: /* the top frame failed with the exception set: drop it, throw into the one below */
    exc = core_take_exception();
    if (stack->len > 0) {
        runstack_pop(stack);
    }
    if (stack->len == 0) {
        core_raise(exc);
        return NULL;
    }
    t = stack->items[stack->len - 3];
throw: /* throw `exc` into the top frame */
    item = PyObject_CallMethodOneArg(t, str_throw, exc);
    Py_DECREF(exc);
    if (item != NULL) {
        goto next_item;
    }
    value = take_stop_value();
    if (value != NULL) {
        goto returned;
    }
    goto failed;
}

/* The thread's list of running computations of this engine (borrowed). */
static PyObject *
thread_runs(DPEngine *self)
{
    PyObject *state = PyThreadState_GetDict();
    if (state == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "memokit's dp engine found no thread state");
        return NULL;
    }
    PyObject *runs = PyDict_GetItemWithError(state, (PyObject *)self);
    if (runs == NULL && !PyErr_Occurred()) {
        runs = PyList_New(0);
        if (runs == NULL) {
            return NULL;
        }
        int failed = PyDict_SetItem(state, (PyObject *)self, runs);
        Py_DECREF(runs); /* the thread's dict holds it */
        if (failed) {
            return NULL;
        }
    }
    return runs;
}

static PyObject *
engine_run(DPEngine *self, PyObject *root)
{
    PyObject *runs = thread_runs(self);
    if (runs == NULL) {
        return NULL;
    }
    RunStack *stack = PyObject_New(RunStack, &CoreRunStack_Type);
    if (stack == NULL) {
        return NULL;
    }
    stack->items = NULL;
    stack->len = stack->cap = 0;
    Py_INCREF(runs);
    if (PyList_Append(runs, (PyObject *)stack) < 0) {
        Py_DECREF(runs);
        Py_DECREF(stack);
        return NULL;
    }
    PyObject *result = drive(self, stack, runs, root);
    /* Leave the list of runs, normally from its end. */
    PyObject *exc = result == NULL ? core_take_exception() : NULL;
    for (Py_ssize_t i = PyList_GET_SIZE(runs) - 1; i >= 0; i--) {
        if (PyList_GET_ITEM(runs, i) == (PyObject *)stack) {
            if (PyList_SetSlice(runs, i, i + 1, NULL) < 0) {
                PyErr_Clear(); /* cannot fail when shrinking */
            }
            break;
        }
    }
    if (exc != NULL) {
        core_raise(exc);
    }
    Py_DECREF(runs);
    Py_DECREF(stack);
    return result;
}

static PyObject *
engine_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != 1 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0)) {
        PyErr_SetString(PyExc_TypeError, "run() takes exactly one argument, the root request");
        return NULL;
    }
    DPEngine *engine = (DPEngine *)self;
    if (!Py_IS_TYPE(args[0], engine->request_type)) {
        PyErr_Format(PyExc_TypeError, "run() takes a %.100s, got %.100s",
                     engine->request_type->tp_name, Py_TYPE(args[0])->tp_name);
        return NULL;
    }
    return engine_run(engine, args[0]);
}

static PyObject *
engine_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyTypeObject *request_type, *source_type;
    PyObject *reference, *find_cycle, *returned_request, *yielded_twice;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "DPEngine() takes positional arguments only");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "OO!O!OOO:DPEngine", &reference, &PyType_Type, &request_type,
                          &PyType_Type, &source_type, &find_cycle, &returned_request,
                          &yielded_twice)) {
        return NULL;
    }
    DPEngine *self = (DPEngine *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->vectorcall = engine_vectorcall;
    self->reference = Py_NewRef(reference);
    self->request_type = (PyTypeObject *)Py_NewRef(request_type);
    self->source_type = (PyTypeObject *)Py_NewRef(source_type);
    self->find_cycle = Py_NewRef(find_cycle);
    self->returned_request = Py_NewRef(returned_request);
    self->yielded_twice = Py_NewRef(yielded_twice);
    self->find_cycle_code = PyObject_GetAttrString(find_cycle, "__code__");
    if (self->find_cycle_code == NULL) {
        PyErr_Clear();
    }
    if ((self->req_source = core_slot_offset(request_type, "source")) < 0
        || (self->req_key = core_slot_offset(request_type, "key")) < 0
        || (self->req_gen = core_slot_offset(request_type, "gen")) < 0
        || (self->req_started = core_slot_offset(request_type, "started")) < 0
        || (self->src_data = core_slot_offset(source_type, "data")) < 0
        || (self->src_put = core_slot_offset(source_type, "put")) < 0
        || (self->src_misses = core_slot_offset(source_type, "misses")) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    if (str_throw == NULL && (str_throw = PyUnicode_InternFromString("throw")) == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

PyDoc_STRVAR(engine_doc,
"DPEngine(reference, request_type, source_type, find_cycle, returned_request,\n\
         yielded_twice)\n\
--\n\
\n\
The dp engine's run(root) in C: call it with the root request.\n\
\n\
reference is the Python run() it replaces, kept as .reference for tests.\n\
request_type and source_type are the engine's Request and Source classes\n\
(their __slots__ are read directly). The three functions build the errors:\n\
find_cycle(flat_stack) raises CycleError for a stack of (generator, source,\n\
key) triples; returned_request(source, key, gen, request) and\n\
yielded_twice(request) return the TypeError to throw into the frame.");

static PyMemberDef engine_members[] = {
    {"reference", Py_T_OBJECT_EX, offsetof(DPEngine, reference), Py_READONLY,
     "The Python run() this engine replaces."},
    {NULL, 0, 0, 0, NULL},
};

PyTypeObject CoreDPEngine_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "memokit._core._compiled.DPEngine",
    .tp_basicsize = sizeof(DPEngine),
    .tp_dealloc = (destructor)engine_dealloc,
    .tp_vectorcall_offset = offsetof(DPEngine, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = engine_doc,
    .tp_traverse = (traverseproc)engine_traverse,
    .tp_clear = (inquiry)engine_clear,
    .tp_members = engine_members,
    .tp_new = engine_new,
};
