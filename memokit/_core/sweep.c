/* The bottom-up gradient sweep of memokit/autodiff/_grad.py, in C.
 *
 * _grad.py's _sweep runs memokit/_sweep.py's sweep_consumers with
 *     inputs = node.inputs, weights = node.local_grads, order_key = node.serial,
 *     compute = adj(loss) = 1, adj(n) = sum over uses of adj(consumer) * weight
 * and that pair of modules is the reference: read them for the algorithm
 * (nodes taken largest serial first from a heap of the nodes met so far, each
 * computed from the terms its consumers handed it, then handing adj(n) * w to
 * each of its inputs; None when a serial does not grow along an edge).
 *
 * This file runs the same sweep over scalar Values with no Python object per
 * node beyond what the result needs (the adjoint float and its dict entry):
 * the heap and the table of pending nodes are C arrays, and a node's terms
 * are summed as they arrive, in the order the reference sums its lists, with
 * the same floating-point operations (see term_add), so the adjoints are the
 * same numbers, bit for bit.
 *
 * It takes the common case only: nodes of exactly the Value class it is
 * given (which compares by identity), inputs and local_grads held as tuples,
 * local derivatives that are floats and serials that are ints of 64 bits.
 * Anything else returns NotImplemented, and the caller runs the reference.
 */
#include "core.h"
#include <math.h>
#include <stdint.h>

/* One node met by the sweep: its pending terms, then whether it is done. */
typedef struct {
    PyObject *node;  /* strong reference */
    Py_ssize_t uses; /* terms received */
    double first;    /* the first term */
    double pair;     /* first + second, the reference's formula for two terms */
    double total;    /* sum()'s running total over the terms (three or more) */
    double lost;     /* sum()'s compensation (Python 3.12+) */
    int done;
} Node;

/* A heap entry: largest serial first, then the node met first. */
typedef struct {
    long long serial;
    Py_ssize_t met;
    Py_ssize_t node; /* index into the nodes array */
} Entry;

typedef struct {
    Node *nodes;
    Py_ssize_t n_nodes, cap_nodes;
    Py_ssize_t *table; /* open addressing: node index + 1, or 0 for empty */
    size_t table_mask;
    Entry *heap;
    Py_ssize_t n_heap, cap_heap;
} Sweep;

/* Slot offsets of the Value class last swept (inputs, local_grads, serial). */
static PyTypeObject *value_type;
static Py_ssize_t off_inputs, off_local_grads, off_serial;

static size_t
pointer_hash(PyObject *p)
{
    uintptr_t x = (uintptr_t)p >> 4;
    return (size_t)(x * (uintptr_t)0x9E3779B97F4A7C15ull);
}

/* A term adj(consumer) * weight arrives. adj(n) is what the reference's
 * dot() gives for its lists of terms, in arrival order: the term itself for
 * one, `a + b` for two, and float(sum(terms)) for more, whose arithmetic is
 * repeated here: sum() starts from the int 0, so its total starts at
 * 0.0 + first; from Python 3.12 on it adds floats with Neumaier's
 * compensation, which it adds back at the end when that is finite. */
static void
term_add(Node *n, double x)
{
    n->uses++;
    if (n->uses == 1) {
        n->first = x;
        n->total = 0.0 + x;
        n->lost = 0.0;
        return;
    }
    if (n->uses == 2) {
        n->pair = n->first + x;
    }
#if PY_VERSION_HEX >= 0x030C0000
    double t = n->total + x;
    if (fabs(n->total) >= fabs(x)) {
        n->lost += (n->total - t) + x;
    }
    else {
        n->lost += (x - t) + n->total;
    }
    n->total = t;
#else
    n->total += x;
#endif
}

static double
term_sum(const Node *n)
{
    if (n->uses == 1) {
        return n->first;
    }
    if (n->uses == 2) {
        return n->pair;
    }
    double total = n->total;
#if PY_VERSION_HEX >= 0x030C0000
    if (n->lost != 0.0 && isfinite(n->lost)) {
        total += n->lost;
    }
#endif
    return total;
}

static int
before(const Entry *a, const Entry *b)
{
    return a->serial > b->serial || (a->serial == b->serial && a->met < b->met);
}

static int
heap_push(Sweep *s, Entry e)
{
    if (s->n_heap == s->cap_heap) {
        Py_ssize_t cap = s->cap_heap ? 2 * s->cap_heap : 64;
        Entry *heap = PyMem_Realloc(s->heap, (size_t)cap * sizeof(Entry));
        if (heap == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        s->heap = heap;
        s->cap_heap = cap;
    }
    Py_ssize_t i = s->n_heap++;
    while (i > 0) {
        Py_ssize_t parent = (i - 1) / 2;
        if (!before(&e, &s->heap[parent])) {
            break;
        }
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = e;
    return 0;
}

static Entry
heap_pop(Sweep *s)
{
    Entry top = s->heap[0];
    Entry last = s->heap[--s->n_heap];
    Py_ssize_t i = 0, n = s->n_heap;
    for (;;) {
        Py_ssize_t child = 2 * i + 1;
        if (child >= n) {
            break;
        }
        if (child + 1 < n && before(&s->heap[child + 1], &s->heap[child])) {
            child++;
        }
        if (!before(&s->heap[child], &last)) {
            break;
        }
        s->heap[i] = s->heap[child];
        i = child;
    }
    if (n > 0) {
        s->heap[i] = last;
    }
    return top;
}

/* The index of `node` in the table, or -1 if it has not been met. */
static Py_ssize_t
find(const Sweep *s, PyObject *node)
{
    for (size_t i = pointer_hash(node) & s->table_mask;; i = (i + 1) & s->table_mask) {
        Py_ssize_t slot = s->table[i];
        if (slot == 0) {
            return -1;
        }
        if (s->nodes[slot - 1].node == node) {
            return slot - 1;
        }
    }
}

static int
table_resize(Sweep *s, size_t size)
{
    Py_ssize_t *table = PyMem_Calloc(size, sizeof(Py_ssize_t));
    if (table == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    PyMem_Free(s->table);
    s->table = table;
    s->table_mask = size - 1;
    for (Py_ssize_t k = 0; k < s->n_nodes; k++) {
        size_t i = pointer_hash(s->nodes[k].node) & s->table_mask;
        while (table[i] != 0) {
            i = (i + 1) & s->table_mask;
        }
        table[i] = k + 1;
    }
    return 0;
}

/* Add `node`, met for the first time, to the table; its index, or -1. */
static Py_ssize_t
add_node(Sweep *s, PyObject *node)
{
    if (s->n_nodes == s->cap_nodes) {
        Py_ssize_t cap = s->cap_nodes ? 2 * s->cap_nodes : 64;
        Node *nodes = PyMem_Realloc(s->nodes, (size_t)cap * sizeof(Node));
        if (nodes == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        s->nodes = nodes;
        s->cap_nodes = cap;
    }
    if ((size_t)(s->n_nodes + 1) * 2 > s->table_mask + 1) { /* keep the load under 1/2 */
        if (table_resize(s, 2 * (s->table_mask + 1)) < 0) {
            return -1;
        }
    }
    Py_ssize_t k = s->n_nodes++;
    s->nodes[k] = (Node){.node = Py_NewRef(node)};
    size_t i = pointer_hash(node) & s->table_mask;
    while (s->table[i] != 0) {
        i = (i + 1) & s->table_mask;
    }
    s->table[i] = k + 1;
    return k;
}

static void
sweep_free(Sweep *s)
{
    for (Py_ssize_t k = 0; k < s->n_nodes; k++) {
        Py_DECREF(s->nodes[k].node);
    }
    PyMem_Free(s->nodes);
    PyMem_Free(s->table);
    PyMem_Free(s->heap);
}

/* Look up the slot offsets of `type` (cached for the last type seen). */
static int
learn_type(PyTypeObject *type)
{
    if (type == value_type) {
        return 0;
    }
    Py_ssize_t inputs = core_slot_offset(type, "inputs");
    Py_ssize_t local_grads = inputs < 0 ? -1 : core_slot_offset(type, "local_grads");
    Py_ssize_t serial = local_grads < 0 ? -1 : core_slot_offset(type, "serial");
    if (serial < 0) {
        return -1;
    }
    Py_XSETREF(value_type, (PyTypeObject *)Py_NewRef(type));
    off_inputs = inputs;
    off_local_grads = local_grads;
    off_serial = serial;
    return 0;
}

/* The serial of a node as a C integer; 0 if it is not an int of 64 bits. */
static int
serial_of(PyObject *node, long long *serial)
{
    PyObject *value = CORE_SLOT(node, off_serial);
    if (value == NULL || !PyLong_CheckExact(value)) {
        return 0;
    }
    int overflow;
    *serial = PyLong_AsLongLongAndOverflow(value, &overflow);
    return !overflow && !(*serial == -1 && PyErr_Occurred());
}

enum { SWEPT, UNORDERED, UNSUPPORTED, FAILED };

/* The sweep proper: fill `values` (node -> adjoint) and `leaves`. */
static int
run_sweep(Sweep *s, PyObject *loss, PyObject *values, PyObject *leaves, Py_ssize_t *hits)
{
    long long serial;
    Py_ssize_t met = 0;
    if (!serial_of(loss, &serial)) {
        return UNSUPPORTED;
    }
    Py_ssize_t root = add_node(s, loss);
    if (root < 0 || heap_push(s, (Entry){serial, met, root}) < 0) {
        return FAILED;
    }
    while (s->n_heap > 0) {
        Py_ssize_t k = heap_pop(s).node;
        PyObject *node = s->nodes[k].node;
        double adjoint = node == loss ? 1.0 : term_sum(&s->nodes[k]);
        *hits += s->nodes[k].uses;
        s->nodes[k].done = 1;
        PyObject *boxed = PyFloat_FromDouble(adjoint);
        if (boxed == NULL || PyDict_SetItem(values, node, boxed) < 0) {
            Py_XDECREF(boxed);
            return FAILED;
        }
        Py_DECREF(boxed);
        PyObject *inputs = CORE_SLOT(node, off_inputs);
        if (inputs == NULL || !PyTuple_CheckExact(inputs)) {
            return UNSUPPORTED;
        }
        if (PyTuple_GET_SIZE(inputs) == 0) {
            if (PyList_Append(leaves, node) < 0) {
                return FAILED;
            }
            continue;
        }
        PyObject *grads = CORE_SLOT(node, off_local_grads);
        if (grads == NULL || !PyTuple_CheckExact(grads)) {
            return UNSUPPORTED;
        }
        /* Held while we read them: an allocation below may run a collection,
         * and a finalizer could replace the node's attributes. */
        Py_INCREF(inputs);
        Py_INCREF(grads);
        int status = SWEPT;
        /* zip(): the shorter of the two decides */
        Py_ssize_t n = Py_MIN(PyTuple_GET_SIZE(inputs), PyTuple_GET_SIZE(grads));
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *source = PyTuple_GET_ITEM(inputs, i);
            PyObject *weight = PyTuple_GET_ITEM(grads, i);
            if (!Py_IS_TYPE(source, value_type) || !PyFloat_CheckExact(weight)) {
                status = UNSUPPORTED;
                break;
            }
            double term = adjoint * PyFloat_AS_DOUBLE(weight);
            Py_ssize_t j = find(s, source);
            if (j >= 0) {
                if (s->nodes[j].done) { /* computed already: a consumer came after it */
                    status = UNORDERED;
                    break;
                }
                term_add(&s->nodes[j], term);
                continue;
            }
            if (!serial_of(source, &serial)) {
                status = UNSUPPORTED;
                break;
            }
            j = add_node(s, source);
            if (j < 0 || heap_push(s, (Entry){serial, ++met, j}) < 0) {
                status = FAILED;
                break;
            }
            term_add(&s->nodes[j], term);
        }
        Py_DECREF(inputs);
        Py_DECREF(grads);
        if (status != SWEPT) {
            return status;
        }
    }
    return SWEPT;
}

/* scalar_sweep(loss, value_type): see the .pyi stub. */
PyObject *
core_scalar_sweep(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyType_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "scalar_sweep(loss, value_type) takes a node and its class");
        return NULL;
    }
    PyObject *loss = args[0];
    PyTypeObject *type = (PyTypeObject *)args[1];
    /* Nodes are dict keys by identity: a class that redefines == or hash()
     * (or a loss of another class) is left to the reference, which says why. */
    if (!Py_IS_TYPE(loss, type) || type->tp_hash != PyBaseObject_Type.tp_hash
        || type->tp_richcompare != PyBaseObject_Type.tp_richcompare) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (learn_type(type) < 0) {
        return NULL;
    }
    PyObject *values = PyDict_New();
    PyObject *leaves = PyList_New(0);
    Sweep s = {0};
    Py_ssize_t hits = 0;
    int status = FAILED;
    if (values != NULL && leaves != NULL && table_resize(&s, 64) == 0) {
        status = run_sweep(&s, loss, values, leaves, &hits);
    }
    sweep_free(&s);
    PyObject *result = NULL;
    if (status == SWEPT) {
        result = Py_BuildValue("(OnO)", values, hits, leaves);
    }
    else if (status == UNORDERED) {
        result = Py_NewRef(Py_None);
    }
    else if (status == UNSUPPORTED) {
        result = Py_NewRef(Py_NotImplemented);
    }
    Py_XDECREF(values);
    Py_XDECREF(leaves);
    return result;
}
