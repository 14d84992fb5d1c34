/* The dp engine's shared declarations: its stack, its engine object, its requests.
 *
 * dp_engine.c runs the loop; dp_stack.c holds the stack and the cycle checks;
 * dp_front.c, dp_front_type.c and dp_request.c are the dp call itself (dp_front.h).
 */
#ifndef MEMOKIT_DP_ENGINE_H
#define MEMOKIT_DP_ENGINE_H

#include "core.h"

typedef struct {
    PyObject_HEAD
    PyObject **items; /* (gen, source, key) per frame, bottom first: strong references */
    Py_ssize_t len;   /* slots in use, 3 per frame */
    Py_ssize_t cap;
} RunStack;

typedef struct {
    PyObject_HEAD
    PyTypeObject *request_type;
    PyTypeObject *fast_request_type; /* request_type's subclass made by the C front end */
    PyTypeObject *source_type;
    PyObject *find_cycle;       /* (flat stack list) -> raises CycleError */
    PyObject *returned_request; /* (source, key, gen, request) -> TypeError */
    PyObject *yielded_twice;    /* (request) -> TypeError */
    PyObject *find_cycle_code;  /* its __code__, dropped from tracebacks; or NULL */
    PyObject *reference;        /* the Python run() this replaces (for tests) */
    Py_ssize_t req_source, req_key, req_gen, req_started; /* Request slot offsets */
    Py_ssize_t src_table, src_put;                        /* Source slot offsets */
    vectorcallfunc vectorcall;
} DPEngine;

static inline int
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
    /* While the stack holds a frame's generator, the collector has nothing to
     * find in it: it is alive (held from outside), and what it refers to is
     * held from outside too. Untracked, a deep stack costs the collector
     * nothing; runstack_release tracks it again before letting it go. */
    if (PyGen_CheckExact(gen) && PyObject_GC_IsTracked(gen)) {
        PyObject_GC_UnTrack(gen);
    }
    return 0;
}

/* Drop the stack's reference to ``gen``, giving it back to the collector. */
static inline void
runstack_release(PyObject *gen)
{
    if (PyGen_CheckExact(gen) && !PyObject_GC_IsTracked(gen)) {
        PyObject_GC_Track(gen);
    }
    Py_DECREF(gen);
}

static inline void
runstack_pop(RunStack *stack)
{
    stack->len -= 3;
    runstack_release(stack->items[stack->len]);
    Py_DECREF(stack->items[stack->len + 1]);
    Py_DECREF(stack->items[stack->len + 2]);
}

/* A slot's object (borrowed), or NULL with AttributeError when it is unset. */
static inline PyObject *
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
static inline void
set_slot(PyObject *obj, Py_ssize_t offset, PyObject *value)
{
    PyObject *old = CORE_SLOT(obj, offset);
    CORE_SLOT(obj, offset) = value;
    Py_XDECREF(old);
}

/* Whether ``obj`` is a request: one made by the Python front end, or by the C one. */
static inline int
is_request(DPEngine *self, PyObject *obj)
{
    return Py_IS_TYPE(obj, self->fast_request_type) || Py_IS_TYPE(obj, self->request_type);
}

/* The cycle checks (dp_stack.c): -1 with CycleError (or another error) set. */
int dp_check_stack(DPEngine *self, RunStack *stack);
int dp_check_nesting(DPEngine *self, PyObject *runs, PyObject *root);

/* Compute the sub-problem ``root`` asks for (dp_engine.c): _dp_engine.run(root). */
PyObject *dp_engine_run(DPEngine *self, PyObject *root);

/* The requests the C front end makes (dp_request.c): a subclass of the engine's
 * Request with the same slots, recycled through a free list. */
PyTypeObject *dp_fast_request_type(PyTypeObject *request_type);
PyObject *dp_request_new(DPEngine *self, PyObject *source, PyObject *key, PyObject *gen);

/* ---------------------------------------------------------------- "called in a dp frame?"
 *
 * The Python front end asks whether its caller's frame is a dp body's
 * (memokit/_dp.py). The C front end asks the equivalent question without
 * making a frame object: is the frame calling it the one the innermost C loop
 * of this thread is running? The loop records that frame's address in a
 * thread-local variable before it resumes a generator and forgets it after;
 * the front end compares it with the thread's current frame. Both addresses
 * are read from structures CPython declares in its cpython/ headers (the
 * generator's embedded frame, the thread state's current frame), whose layout
 * is known for 3.11 to 3.13: other versions (and free-threaded builds) leave
 * DP_FRONT undefined and keep the Python front end. The addresses are only
 * compared, never followed. memokit/_core/__init__.py also checks at import
 * that the comparison works (frame_probe below) before using the C front end.
 */
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030E0000 && !defined(Py_GIL_DISABLED)
#define DP_FRONT 1
#endif

#ifdef DP_FRONT
#if defined(_MSC_VER)
#define DP_THREAD_LOCAL __declspec(thread)
#else
#define DP_THREAD_LOCAL _Thread_local
#endif
/* The frame the innermost C loop of this thread is resuming, or NULL. */
extern DP_THREAD_LOCAL void *dp_running_frame;

/* The frame a generator runs in (its address only), or NULL for other iterators. */
static inline void *
dp_frame_of(PyObject *gen)
{
    return PyGen_CheckExact(gen) ? (void *)((PyGenObject *)gen)->gi_iframe : NULL;
}

/* The frame running in this thread now: the caller of a C function. */
static inline void *
dp_current_frame(void)
{
    PyThreadState *tstate = PyThreadState_Get();
#if PY_VERSION_HEX >= 0x030D0000
    return tstate->current_frame;
#else
    return tstate->cframe->current_frame;
#endif
}

#define DP_SET_RUNNING(gen) (dp_running_frame = dp_frame_of(gen))
#define DP_CLEAR_RUNNING() (dp_running_frame = NULL)
#else
#define DP_SET_RUNNING(gen) ((void)0)
#define DP_CLEAR_RUNNING() ((void)0)
#endif

#endif
