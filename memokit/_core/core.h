/* memokit's compiled core: declarations shared by its C files.
 *
 * Each .c file here is a C version of one Python module's hot loop; the
 * Python module is the reference and explains the algorithm. This header
 * holds the few helpers they share, including the one place where the
 * CPython API differs between the versions memokit supports (3.11-3.13).
 */
#ifndef MEMOKIT_CORE_H
#define MEMOKIT_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>

/* The member-type names of PyMemberDef: public under these names from 3.12;
 * 3.11 has them only in structmember.h, under older names. */
#if PY_VERSION_HEX < 0x030C0000
#include <structmember.h>
#define Py_T_OBJECT_EX T_OBJECT_EX
#define Py_READONLY READONLY
#endif

/* The exception being raised, taken out of the thread state and normalized
 * (traceback attached), or NULL if none is set. 3.12 has one call for it. */
static inline PyObject *
core_take_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL) {
        return NULL;
    }
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL) {
        PyException_SetTraceback(value, tb);
        Py_DECREF(tb);
    }
    Py_DECREF(type);
    return value;
#endif
}

/* Raise ``exc`` (an exception instance; the reference is stolen). */
static inline void
core_raise(PyObject *exc)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyObject *tb = PyException_GetTraceback(exc);
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc, tb);
#endif
}

/* The byte offset of the __slots__ member ``name`` of ``type``, or -1 with
 * an exception set. Reading a slot at its offset skips the attribute
 * lookup; callers check that an object is an instance of ``type`` first,
 * which guarantees the layout (subclasses keep their bases' slots). */
static inline Py_ssize_t
core_slot_offset(PyTypeObject *type, const char *name)
{
    PyObject *descr = PyObject_GetAttrString((PyObject *)type, name);
    if (descr == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
    }
    Py_ssize_t offset = -1;
    if (descr != NULL && Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type == Py_T_OBJECT_EX && !(member->flags & Py_READONLY)) {
            offset = member->offset;
        }
    }
    Py_XDECREF(descr);
    if (offset < 0) {
        PyErr_Format(PyExc_TypeError,
                     "memokit's compiled core needs %s.%s to be a __slots__ member",
                     type->tp_name, name);
    }
    return offset;
}

/* The object in the slot at ``offset`` (borrowed; NULL when unset). */
#define CORE_SLOT(obj, offset) (*(PyObject **)((char *)(obj) + (offset)))

/* Entry points, one per C file. */
extern PyTypeObject CoreDPEngine_Type;
extern PyTypeObject CoreRunStack_Type;
PyObject *core_scalar_sweep(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* The compiled dp front end (dp_front.c), where the C API allows it (DP_FRONT
 * in dp_engine.h). */
extern PyTypeObject CoreDPFront_Type;
PyObject *core_frame_probe(PyObject *module, PyObject *gen);
PyObject *core_running_frame(PyObject *module, PyObject *ignored);

/* The @memoize call path (memo.c, memo_miss.c, memo_method.c; see memo.h). */
extern PyTypeObject CoreMemo_Type;
extern PyTypeObject CoreMemoMethod_Type;
extern PyTypeObject CoreLRUPut_Type;
int memo_method_init(void);

#endif
