/* memokit._core._compiled: the module that holds the compiled core's parts.
 *
 * memokit/_core/__init__.py loads it (or falls back to the Python reference)
 * and hands each part to the module whose loop it runs.
 */
#include "core.h"

PyDoc_STRVAR(scalar_sweep_doc,
"scalar_sweep(loss, value_type)\n\
--\n\
\n\
Every adjoint below loss, bottom-up: (adjoints, hits, leaves).\n\
\n\
The sweep of memokit.autodiff's bottom-up backward pass over nodes of exactly\n\
value_type: adjoints maps each node to its adjoint, hits counts the terms\n\
handed along, leaves lists the leaves in the order taken. None if a node's\n\
serial is not larger than its inputs'; NotImplemented for a graph it leaves\n\
to the Python reference (another node class, non-tuple inputs, non-float\n\
local derivatives).");

/* The dp front end's import-time check (dp_front.c), when it is built. */
#include "dp_engine.h"
#ifdef DP_FRONT
PyDoc_STRVAR(frame_probe_doc,
"frame_probe(gen)\n\
--\n\
\n\
Resume gen as the dp engine's C loop resumes a frame; return what it yields\n\
first. With running_frame(), how memokit._core checks at import that the C\n\
front end can tell a call made directly in a running dp frame.");

PyDoc_STRVAR(running_frame_doc,
"running_frame()\n\
--\n\
\n\
Whether the caller's frame is one a dp engine's C loop is running now.");
#define DP_FRONT_METHODS \
    {"frame_probe", core_frame_probe, METH_O, frame_probe_doc}, \
    {"running_frame", core_running_frame, METH_NOARGS, running_frame_doc},
#else
#define DP_FRONT_METHODS
#endif

static PyMethodDef module_methods[] = {
    {"scalar_sweep", (PyCFunction)(void (*)(void))core_scalar_sweep, METH_FASTCALL,
     scalar_sweep_doc},
    DP_FRONT_METHODS
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "memokit._core._compiled",
    .m_doc = "memokit's compiled core: C versions of the hot loops (see memokit._core).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__compiled(void)
{
    if (PyType_Ready(&CoreRunStack_Type) < 0 || PyType_Ready(&CoreDPEngine_Type) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(module, "DPEngine", (PyObject *)&CoreDPEngine_Type) < 0) {
        Py_DECREF(module);
        return NULL;
    }
#ifdef DP_FRONT
    if (PyType_Ready(&CoreDPFront_Type) < 0
        || PyModule_AddObjectRef(module, "DPFront", (PyObject *)&CoreDPFront_Type) < 0) {
        Py_DECREF(module);
        return NULL;
    }
#endif

    /* The @memoize call path. */
    if (PyType_Ready(&CoreMemo_Type) < 0 || PyType_Ready(&CoreMemoMethod_Type) < 0
        || PyType_Ready(&CoreLRUPut_Type) < 0 || memo_method_init() < 0
        || PyModule_AddObjectRef(module, "Memo", (PyObject *)&CoreMemo_Type) < 0
        || PyModule_AddObjectRef(module, "MemoMethod", (PyObject *)&CoreMemoMethod_Type) < 0
        || PyModule_AddObjectRef(module, "LRUPut", (PyObject *)&CoreLRUPut_Type) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
