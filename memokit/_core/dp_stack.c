/* The dp engine's stack, and its checks for a sub-problem that needs itself.
 *
 * memokit/_dp_engine.py's _find_cycle is the reference: a cycle is a
 * (source, key) pair that occurs twice among the running frames. The search
 * here uses a dict of keys per source; the report (path, message) is left to
 * _find_cycle, called with just the frames of the cycle, so that both loops
 * raise the same CycleError.
 */
#include "dp_engine.h"

static void
runstack_dealloc(RunStack *self)
{
    for (Py_ssize_t i = 0; i < self->len; i++) {
        if (i % 3 == 0) {
            runstack_release(self->items[i]);
        }
        else {
            Py_DECREF(self->items[i]);
        }
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
int
dp_check_stack(DPEngine *self, RunStack *stack)
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
int
dp_check_nesting(DPEngine *self, PyObject *runs, PyObject *root)
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

