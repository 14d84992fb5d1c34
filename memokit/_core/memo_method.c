/* The front of a memoized method in C: obj.m(5) without a bound method per call.
 *
 * memokit/_methods.py is the reference: MemoizedMethod gives each instance
 * its own cache, kept in the instance's __dict__ as an InstanceCache. A
 * MemoMethod stands in a class for one MemoizedMethod (its `reference`) and
 * finds an instance's cache the same way, in C. Its type is a method
 * descriptor (Py_TPFLAGS_METHOD_DESCRIPTOR), as a function's is: obj.m(5)
 * then calls it as m(obj, 5), with no bound object made, and a call whose
 * first argument is an instance of the owner class goes to that instance's
 * cache (a Memo, called with the receiver first). Whatever the fast path does
 * not find (no cache yet, a copied __dict__, an instance without one, a call
 * not bound to an instance) goes to the reference, which makes and keeps the
 * caches; every other attribute (cache_info, cache_clear...) is the
 * reference's too.
 */
#include "memo.h"

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *dict;           /* __name__, __doc__, __wrapped__... */
    PyObject *reference;      /* the MemoizedMethod */
    PyObject *slot;           /* reference._slot: the key of its cache in a __dict__ */
    PyObject *outside;        /* reference._outside: caches of instances without __dict__ */
    PyObject *cache_type;     /* InstanceCache */
    Py_ssize_t owner_at;      /* offsets of MemoizedMethod._owner, */
    Py_ssize_t cache_owner_at;   /* InstanceCache.owner */
    Py_ssize_t cache_wrapper_at; /* and InstanceCache.wrapper */
} MemoMethod;

static PyObject *str_dict;   /* "__dict__" */
static PyObject *str_get;    /* "__get__" */
static PyObject *str_name;   /* "__name__" */
static PyObject *str_set_name;   /* "__set_name__" */

/* The wrapper of obj's own cache (a new reference), found as the reference's
 * __get__ finds it; NULL without an exception when the reference must look. */
static PyObject *
instance_wrapper(MemoMethod *self, PyObject *obj)
{
    if (PyDict_GET_SIZE(self->outside)) {
        return NULL;  /* some instances keep their caches outside */
    }
    PyObject *namespace = PyObject_GetAttr(obj, str_dict);
    if (namespace == NULL) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
        }
        return NULL;
    }
    PyObject *wrapper = NULL;
    PyObject *cache = PyDict_CheckExact(namespace)
                          ? PyDict_GetItemWithError(namespace, self->slot) : NULL;
    if (cache != NULL && Py_IS_TYPE(cache, (PyTypeObject *)self->cache_type)) {
        PyObject *owner = CORE_SLOT(cache, self->cache_owner_at);
        PyObject *target = NULL;
        if (owner != NULL && PyWeakref_CheckRefExact(owner)) {
            target = memo_weakref_target(owner);
        }
        else if (owner != NULL) {
            Py_INCREF(cache);
            target = PyObject_CallNoArgs(owner);
            Py_DECREF(cache);
            if (target == NULL) {
                Py_DECREF(namespace);
                return NULL;
            }
        }
        if (target == obj) {  /* not a copy of another instance's __dict__ */
            wrapper = Py_XNewRef(CORE_SLOT(cache, self->cache_wrapper_at));
        }
        Py_XDECREF(target);
    }
    Py_DECREF(namespace);
    return wrapper;
}

/* reference.__get__(obj, type): the reference finds or makes obj's cache. */
static PyObject *
reference_get(MemoMethod *self, PyObject *obj, PyObject *type)
{
    PyObject *stack[3] = {self->reference, obj, type != NULL ? type : Py_None};
    return PyObject_VectorcallMethod(str_get, stack, 3, NULL);
}

/* Whether a call whose first argument is obj goes to obj's cache:
 * MemoizedMethod._bound, the same rule. */
static int
bound_to(MemoMethod *self, PyObject *obj)
{
    PyObject *owner = CORE_SLOT(self->reference, self->owner_at);
    if (owner != NULL && owner != Py_None) {
        if (Py_IS_TYPE(obj, (PyTypeObject *)owner)) {
            return 1;
        }
        return PyObject_IsInstance(obj, owner);
    }
    /* Never given a class by __set_name__: bound when obj's class has this
     * method under its name (as obj.m(...) found it). */
    PyObject *name = PyObject_GetAttr((PyObject *)self, str_name);
    if (name == NULL) {
        return -1;
    }
    PyObject *found = PyObject_GetAttr((PyObject *)Py_TYPE(obj), name);
    Py_DECREF(name);
    if (found == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    Py_DECREF(found);
    return found == (PyObject *)self;
}

static PyObject *
method_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    MemoMethod *self = (MemoMethod *)op;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs >= 1) {
        PyObject *obj = args[0];
        int bound = bound_to(self, obj);
        if (bound < 0) {
            return NULL;
        }
        if (bound) {
            PyObject *wrapper = instance_wrapper(self, obj);
            if (wrapper != NULL) {
                PyObject *result = Py_IS_TYPE(wrapper, &CoreMemo_Type)
                    ? memo_call((Memo *)wrapper, args, nargsf, kwnames)
                    : PyObject_Vectorcall(wrapper, args, nargsf, kwnames);
                Py_DECREF(wrapper);
                return result;
            }
            if (PyErr_Occurred()) {
                return NULL;
            }
            PyObject *method = reference_get(self, obj, (PyObject *)Py_TYPE(obj));
            if (method == NULL) {
                return NULL;
            }
            PyObject *result = PyObject_Vectorcall(method, args + 1, nargs - 1, kwnames);
            Py_DECREF(method);
            return result;
        }
    }
    /* Not bound to an instance: the reference's __call__ (a plain function's cache). */
    return PyObject_Vectorcall(self->reference, args, nargsf, kwnames);
}

static PyObject *
method_descr_get(PyObject *op, PyObject *obj, PyObject *type)
{
    MemoMethod *self = (MemoMethod *)op;
    if (obj == NULL || obj == Py_None) {
        return Py_NewRef(op);
    }
    PyObject *wrapper = instance_wrapper(self, obj);
    if (wrapper != NULL) {
        PyObject *method = PyMethod_New(wrapper, obj);
        Py_DECREF(wrapper);
        return method;
    }
    return PyErr_Occurred() ? NULL : reference_get(self, obj, type);
}

/* Attributes the front has not got are the reference's (cache_info...). */
static PyObject *
method_getattro(PyObject *op, PyObject *name)
{
    PyObject *found = PyObject_GenericGetAttr(op, name);
    if (found != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError)) {
        return found;
    }
    PyErr_Clear();
    return PyObject_GetAttr(((MemoMethod *)op)->reference, name);
}

static PyObject *
method_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *reference, *cache_type;
    if (!PyArg_ParseTuple(args, "OO!:MemoMethod", &reference, &PyType_Type, &cache_type)) {
        return NULL;
    }
    MemoMethod *self = (MemoMethod *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->vectorcall = method_vectorcall;
    self->reference = Py_NewRef(reference);
    self->cache_type = Py_NewRef(cache_type);
    self->slot = PyObject_GetAttrString(reference, "_slot");
    self->outside = PyObject_GetAttrString(reference, "_outside");
    if (self->slot == NULL || self->outside == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    if (!PyUnicode_Check(self->slot) || !PyDict_CheckExact(self->outside)) {
        PyErr_SetString(PyExc_TypeError, "MemoMethod: _slot must be a str, _outside a dict");
        Py_DECREF(self);
        return NULL;
    }
    PyUnicode_InternInPlace(&self->slot);
    if ((self->owner_at = core_slot_offset(Py_TYPE(reference), "_owner")) < 0
        || (self->cache_owner_at = core_slot_offset((PyTypeObject *)cache_type, "owner")) < 0
        || (self->cache_wrapper_at = core_slot_offset((PyTypeObject *)cache_type, "wrapper")) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int
method_traverse(MemoMethod *self, visitproc visit, void *arg)
{
    Py_VISIT(self->dict);
    Py_VISIT(self->reference);
    Py_VISIT(self->slot);
    Py_VISIT(self->outside);
    Py_VISIT(self->cache_type);
    return 0;
}

static int
method_clear(MemoMethod *self)
{
    Py_CLEAR(self->dict);
    Py_CLEAR(self->reference);
    Py_CLEAR(self->slot);
    Py_CLEAR(self->outside);
    Py_CLEAR(self->cache_type);
    return 0;
}

static void
method_dealloc(MemoMethod *self)
{
    PyObject_GC_UnTrack(self);
    method_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
method_repr(MemoMethod *self)
{
    return PyObject_Repr(self->reference);
}

/* __set_name__(owner, name): the reference learns its class. */
static PyObject *
method_set_name(MemoMethod *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "__set_name__(owner, name) takes two arguments");
        return NULL;
    }
    PyObject *stack[3] = {self->reference, args[0], args[1]};
    return PyObject_VectorcallMethod(str_set_name, stack, 3, NULL);
}

static PyObject *
method_reduce(MemoMethod *self, PyObject *unused)
{
    return PyObject_CallMethod(self->reference, "__reduce__", NULL);
}

static PyObject *
method_copy(PyObject *self, PyObject *unused)
{
    return Py_NewRef(self);
}

static PyMethodDef method_methods[] = {
    {"__set_name__", (PyCFunction)(void (*)(void))method_set_name, METH_FASTCALL, NULL},
    {"__reduce__", (PyCFunction)method_reduce, METH_NOARGS, NULL},
    {"__copy__", method_copy, METH_NOARGS, NULL},
    {"__deepcopy__", method_copy, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef method_members[] = {
    {"reference", Py_T_OBJECT_EX, offsetof(MemoMethod, reference), Py_READONLY,
     "The Python MemoizedMethod this front stands for."},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef method_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject CoreMemoMethod_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "memokit._core._compiled.MemoMethod",
    .tp_doc = "MemoMethod(reference, cache_type): a memoized method's front "
              "(memokit/_core/memo_method.c).",
    .tp_basicsize = sizeof(MemoMethod),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL
                | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_new = method_new,
    .tp_dealloc = (destructor)method_dealloc,
    .tp_traverse = (traverseproc)method_traverse,
    .tp_clear = (inquiry)method_clear,
    .tp_vectorcall_offset = offsetof(MemoMethod, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_descr_get = method_descr_get,
    .tp_getattro = method_getattro,
    .tp_repr = (reprfunc)method_repr,
    .tp_dictoffset = offsetof(MemoMethod, dict),
    .tp_methods = method_methods,
    .tp_members = method_members,
    .tp_getset = method_getset,
};

int
memo_method_init(void)
{
    str_dict = PyUnicode_InternFromString("__dict__");
    str_get = PyUnicode_InternFromString("__get__");
    str_name = PyUnicode_InternFromString("__name__");
    str_set_name = PyUnicode_InternFromString("__set_name__");
    return str_dict && str_get && str_name && str_set_name ? 0 : -1;
}
