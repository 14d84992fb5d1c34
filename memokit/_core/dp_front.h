/* The compiled dp front end's shared declarations: its object and its call.
 *
 * dp_front.c is the call path (key, lookup, request, "called in a dp
 * frame?"); dp_front_type.c is the rest of the type (construction, the
 * methods the cache controls use, garbage collection); dp_request.c makes
 * the requests. memokit/_dp.py is the reference for all of it.
 */
#ifndef MEMOKIT_DP_FRONT_H
#define MEMOKIT_DP_FRONT_H

#include "dp_engine.h"

#ifdef DP_FRONT

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *dict;      /* __dict__: what functools.update_wrapper copies, the controls */
    DPEngine *engine;    /* the C loop */
    PyObject *source;    /* the function's Source: where values go, how calls read */
    PyObject *body;      /* makes a sub-problem's generator */
    PyObject *fallback;  /* takes the calls that are not exactly positional */
    PyObject *checks;    /* per parameter: does its type decide the key's form? */
    PyObject *table;     /* the store's table (a dict), or NULL: use read */
    PyObject *read;      /* the store's get, for a store without a table */
    PyObject *touch;     /* called with the key after a hit, or NULL */
    PyObject *clock;     /* expiring entries: the clock, and expire(key, entry) */
    PyObject *expire;
    PyObject *missing;   /* what read returns for an absent key */
    PyObject *check;     /* check(values): raises the TypeError naming an unhashable one */
    PyObject *plain;     /* memokit._hashed: PLAIN_TYPES, WRAPPED_TYPES, hashed, hashed_tuple */
    PyObject *wrapped;
    PyObject *hashed;
    PyObject *hashed_tuple;
    Py_ssize_t nparams;
    int canonical;       /* keys are made canonical (a table, and some parameter checked) */
    int swallow_keyerror;
    Py_ssize_t hits, misses;
} DPFront;

/* The call path (dp_front.c). dp_front_call takes exactly ``nparams``
 * positional arguments; ``in_frame`` says whether the caller is a running dp
 * frame, -1: find out. The key functions return NULL with the reference's
 * error set (dp_front_unhashable names an unhashable argument). */
PyObject *dp_front_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf,
                              PyObject *kwnames);
PyObject *dp_front_call(DPFront *self, PyObject *const *args, int in_frame);
PyObject *dp_front_make_key(DPFront *self, PyObject *const *args);
PyObject *dp_front_unhashable(DPFront *self, PyObject *const *args);

#endif
#endif
