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
 * (table[key] = value, or put(key, value)), exceptions
 * thrown into the waiting frames with their tracebacks untouched, and the
 * errors themselves, which are built by the Python functions the engine is
 * created with (find_cycle, returned_request, yielded_twice). The cycle
 * check runs at the same stack heights; it finds a repeated sub-problem with
 * a dict per source and leaves the report, path and message to find_cycle.
 * (The stack and the cycle checks are in dp_stack.c.)
 */
#include "dp_engine.h"

/* The Python engine's _FIRST_CHECK and _NESTED_CHECK (counted in stack slots,
 * three per frame, as the Python engine's flat list is). */
#define FIRST_CHECK 64
#define NESTED_CHECK 4

static PyObject *str_throw;   /* "throw" */

static int
engine_traverse(DPEngine *self, visitproc visit, void *arg)
{
    Py_VISIT(self->request_type);
    Py_VISIT(self->fast_request_type);
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
    Py_CLEAR(self->fast_request_type);
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

/* Store a finished frame's value: table[key] = value, or put(key, value). */
static int
store(DPEngine *self, PyObject *source, PyObject *key, PyObject *value)
{
    PyObject *table = slot(source, self->src_table, "table");
    if (table == NULL) {
        return -1;
    }
    if (table != Py_None) {
        if (PyDict_CheckExact(table)) {
            return PyDict_SetItem(table, key, value);
        }
        return PyObject_SetItem(table, key, value);
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
        if (dp_check_nesting(self, runs, root) < 0) {
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
    if (!is_request(self, item)) { /* a value (a hit): hand it back */
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
        if (gen == NULL || runstack_push(stack, gen, source, key) < 0) {
            Py_DECREF(item);
            goto failed;
        }
        Py_DECREF(item); /* the stack holds what the frame needs */
        t = gen;
        if (stack->len >= check_at) {
            check_at = 2 * stack->len;
            if (dp_check_stack(self, stack) < 0) {
                goto failed; /* the new frame never ran: the one below gets the error */
            }
        }
        value = Py_NewRef(Py_None);
    }
send: {
    PyObject *result;
    DP_SET_RUNNING(t); /* calls the frame makes directly give requests */
    PySendResult status = PyIter_Send(t, value, &result);
    DP_CLEAR_RUNNING();
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
    if (is_request(self, value)) {
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
    if (exc == NULL) { /* a C API call failed without saying why: never hand on NULL */
        PyErr_SetString(PyExc_SystemError, "memokit's dp engine lost an exception");
        exc = core_take_exception();
    }
    if (stack->len > 0) {
        runstack_pop(stack);
    }
    if (stack->len == 0) {
        core_raise(exc);
        return NULL;
    }
    t = stack->items[stack->len - 3];
throw: /* throw `exc` into the top frame */
    DP_SET_RUNNING(t);
    item = PyObject_CallMethodOneArg(t, str_throw, exc);
    DP_CLEAR_RUNNING();
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

PyObject *
dp_engine_run(DPEngine *self, PyObject *root)
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
#ifdef DP_FRONT
    /* A run started by plain code inside a frame of an outer run: that frame
     * is running again when this run returns. */
    void *outer_frame = dp_running_frame;
#endif
    PyObject *result = drive(self, stack, runs, root);
#ifdef DP_FRONT
    dp_running_frame = outer_frame;
#endif
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
    if (!is_request(engine, args[0])) {
        PyErr_Format(PyExc_TypeError, "run() takes a %.100s, got %.100s",
                     engine->request_type->tp_name, Py_TYPE(args[0])->tp_name);
        return NULL;
    }
    return dp_engine_run(engine, args[0]);
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
        || (self->src_table = core_slot_offset(source_type, "table")) < 0
        || (self->src_put = core_slot_offset(source_type, "put")) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    self->fast_request_type = dp_fast_request_type(request_type);
    if (self->fast_request_type == NULL) {
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
