/* The dp engine's shared declarations: its stack and its engine object.
 *
 * dp_engine.c runs the loop; dp_stack.c holds the stack and the cycle checks.
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
    return 0;
}

static inline void
runstack_pop(RunStack *stack)
{
    stack->len -= 3;
    Py_DECREF(stack->items[stack->len]);
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

/* The cycle checks (dp_stack.c): -1 with CycleError (or another error) set. */
int dp_check_stack(DPEngine *self, RunStack *stack);
int dp_check_nesting(DPEngine *self, PyObject *runs, PyObject *root);

#endif
