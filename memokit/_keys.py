"""Keys: how a call becomes a hashable cache key.

Two ways, chosen per function:

* **By signature** (the usual case). The call's arguments are bound to the
  function's parameters, so ``f(1)``, ``f(x=1)`` and ``f(1, y=<default>)``
  are one entry. The key of a one-parameter function is the argument itself;
  otherwise it is the tuple of parameter values in signature order
  (``*args`` as a tuple, ``**kwargs`` as a frozenset of items).
  :func:`call_shape` describes the parameters as source text so that the
  engines can generate a wrapper with the function's exact signature, which
  is what makes a cache hit cheap.
* **Flat, as functools builds it** (:func:`make_key`), for callables whose
  signature cannot be read (some builtins).

``typed=True`` adds each value's type to the key, so ``f(1)`` and ``f(1.0)``
are separate entries. A user ``key=`` function replaces all of this.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from memokit._hashed import plain_annotation

__all__ = [
    "IDENTITY_TYPES",
    "KWD_MARK",
    "PREFIX",
    "CallShape",
    "call_shape",
    "check_hashable",
    "check_hashable_flat",
    "check_key_hashable",
    "identity_key",
    "is_identity_type",
    "make_key",
    "qualified_name",
]

# Marks where keyword arguments start in a flat key (as functools does).
KWD_MARK = object()
_FAST_TYPES = frozenset({int, str})
# Generated code refers to its helpers under this prefix; a function whose
# parameters use it falls back to the flat key.
PREFIX = "_mk_"
# Bound at import (as functools does): user code may replace builtins.len
# with a memoized one, whose key must not be built by calling it.
_len = len


def make_key(args: tuple[Any, ...], kwargs: Mapping[str, Any], typed: bool) -> Hashable:
    """Build a flat key from a call's arguments, as ``functools.lru_cache`` does.

    >>> make_key((1, 2), {}, False)
    (1, 2)
    >>> make_key(("a",), {}, False)
    'a'
    """
    key: tuple[Any, ...] = args
    if kwargs:
        key += (KWD_MARK,)
        for item in kwargs.items():
            key += item
    if typed:
        key += tuple(type(v) for v in args)
        if kwargs:
            key += tuple(type(v) for v in kwargs.values())
    elif _len(key) == 1 and type(key[0]) in _FAST_TYPES:
        return key[0]  # type: ignore[no-any-return]
    return key


@dataclass(frozen=True)
class CallShape:
    """A function's parameters as source fragments for generated code.

    ``params`` is a ``def`` parameter list (defaults refer to ``defaults`` by
    the names in ``namespace``), ``key`` an expression for the cache key,
    ``call`` the argument list that forwards the call unchanged, and
    ``labels``/``values`` name and fetch each parameter for error messages.
    ``key_params`` is ``params`` without a method's receiver (``self``),
    which is forwarded in ``call`` but never part of the key.
    ``key_hashes_values`` says that evaluating ``key`` already hashes some
    argument values (a ``**kwargs`` frozenset), so it can fail on one.
    A *flat* shape (``flat=True``) takes ``*args, **kwargs`` and keys them
    as :func:`make_key` does: the shape of a function whose signature cannot
    be read.

    ``hash_checks`` says how to make the key canonical
    (:func:`memokit._hashed.hashed`) for a store that keeps canonical keys:
    the key is plain when each value it names has a plain type (``()``: the
    key is always plain, its parameters being annotated with plain types),
    and ``None`` means the key must go through ``hashed``.
    """

    params: str
    key_params: str
    key: str
    call: str
    values: str
    labels: tuple[str, ...]
    namespace: dict[str, Any]
    key_hashes_values: bool = False
    flat: bool = False
    hash_checks: tuple[str, ...] | None = None

    def checker(self, qualname: str) -> Callable[[tuple[Any, ...]], None]:
        """Return the check that names the unhashable argument among ``values``."""
        if self.flat:
            return lambda values: check_hashable_flat(qualname, values[0], values[1])
        labels = self.labels
        return lambda values: check_hashable(qualname, labels, values)


def call_shape(
    fn: Callable[..., Any],
    *,
    skip_first: bool = False,
    typed: bool = False,
    user_key: Callable[..., Hashable] | None = None,
) -> CallShape:
    """Describe ``fn``'s signature for code generation.

    With ``skip_first`` the first parameter (``self``/``cls``) is the
    receiver: it stays in the signature and the forwarded call, but not in
    the key (each receiver has its own cache). A signature that cannot be
    read, or that uses the names generated code reserves, gives the flat
    shape.

    >>> shape = call_shape(lambda a, b=2: a)
    >>> shape.params, shape.key, shape.call
    ('a, b=_mk_default1', '(a, b)', 'a, b')
    >>> call_shape(lambda _mk_a: 0).params
    '*args, **kwargs'
    """
    try:
        # The signature callers call: a functools.wraps wrapper's own, not the
        # one its __wrapped__ leads to (which may take other arguments).
        sig = inspect.signature(fn, follow_wrapped=False)
    except (TypeError, ValueError):
        return _flat_shape(typed, user_key)
    parameters = list(sig.parameters.values())
    P = inspect.Parameter
    receiver: list[str] = []
    if skip_first:
        if not parameters or parameters[0].kind not in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD):
            return _flat_shape(typed, user_key)
        receiver = [parameters[0].name]
        parameters = parameters[1:]
    if any(p.name.startswith(PREFIX) for p in [*parameters, *sig.parameters.values()]):
        return _flat_shape(typed, user_key)

    namespace: dict[str, Any] = {
        f"{PREFIX}type": type,
        f"{PREFIX}tuple": tuple,
        f"{PREFIX}frozenset": frozenset,
        f"{PREFIX}map": map,
    }
    params: list[str] = []
    call: list[str] = []
    key_parts: list[str] = []
    value_parts: list[str] = []
    type_parts: list[str] = []
    labels: list[str] = []
    # Values the key is made of whose type a call must check (see CallShape).
    checks: list[str] | None = []
    saw_kw_only_marker = False
    last_positional_only = -1
    for i, p in enumerate(parameters):
        if p.kind is P.POSITIONAL_ONLY:
            last_positional_only = i
    for i, p in enumerate(parameters):
        text = p.name
        if p.kind is P.VAR_POSITIONAL:
            text = f"*{p.name}"
            saw_kw_only_marker = True
            call.append(text)
            key_parts.append(p.name)
            type_parts.append(f"{PREFIX}tuple({PREFIX}map({PREFIX}type, {p.name}))")
            labels.append(f"*{p.name}")
            value_parts.append(p.name)
            checks = None  # a tuple of anything: the key is wrapped
        elif p.kind is P.VAR_KEYWORD:
            text = f"**{p.name}"
            call.append(text)
            key_parts.append(f"{PREFIX}frozenset({p.name}.items())")
            type_parts.append(
                f"{PREFIX}frozenset((k, {PREFIX}type(v)) for k, v in {p.name}.items())"
            )
            labels.append(f"**{p.name}")
            value_parts.append(p.name)
            checks = None  # a frozenset (never plain): the key is wrapped
        else:
            if p.kind is P.KEYWORD_ONLY:
                if not saw_kw_only_marker:
                    params.append("*")
                    saw_kw_only_marker = True
                call.append(f"{p.name}={p.name}")
            else:
                call.append(p.name)
            key_parts.append(p.name)
            type_parts.append(f"{PREFIX}type({p.name})")
            labels.append(p.name)
            value_parts.append(p.name)
            if checks is not None and not plain_annotation(p.annotation):
                checks.append(p.name)
            if p.default is not P.empty:
                default_name = f"{PREFIX}default{i}"
                namespace[default_name] = p.default
                text = f"{p.name}={default_name}"
        params.append(text)
        if i == last_positional_only:
            params.append("/")

    if user_key is not None:
        namespace[f"{PREFIX}user_key"] = user_key
        key = f"{PREFIX}user_key({', '.join(call)})"
    else:
        parts = key_parts + (type_parts if typed else [])
        if len(parts) == 1 and parts[0] in {p.name for p in parameters}:
            key = parts[0]
        else:
            key = f"({', '.join(parts)}{',' if len(parts) == 1 else ''})"
    values = f"({', '.join(value_parts)}{',' if len(value_parts) == 1 else ''})"
    if receiver and params and params[0] == "/":
        params = params[1:]  # the receiver was the only positional-only parameter
        receiver.append("/")
    var_keyword = any(p.kind is P.VAR_KEYWORD for p in parameters)
    return CallShape(
        params=", ".join(receiver + params),
        key_params=", ".join(params),
        key=key,
        call=", ".join(receiver[:1] + call),
        values=values,
        labels=tuple(labels),
        namespace=namespace,
        key_hashes_values=var_keyword and user_key is None,
        hash_checks=None if user_key is not None or checks is None else tuple(checks),
    )


def _flat_shape(typed: bool, user_key: Callable[..., Hashable] | None) -> CallShape:
    namespace: dict[str, Any] = {f"{PREFIX}make_key": make_key, f"{PREFIX}typed": typed}
    if user_key is not None:
        namespace[f"{PREFIX}user_key"] = user_key
        key = f"{PREFIX}user_key(*args, **kwargs)"
    else:
        key = f"{PREFIX}make_key(args, kwargs, {PREFIX}typed)"
    return CallShape(
        params="*args, **kwargs",
        key_params="*args, **kwargs",
        key=key,
        call="*args, **kwargs",
        values="(args, kwargs)",
        labels=(),
        namespace=namespace,
        flat=True,
    )


def _unhashable_in(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return True
    return False


def check_hashable(
    qualname: str,
    labels: tuple[str, ...],
    values: tuple[Any, ...],
) -> None:
    """Raise a ``TypeError`` naming the first parameter whose value cannot be hashed.

    Returns quietly if every value hashes (the caller then re-raises the
    original error, which came from somewhere else).
    """
    for label, value in zip(labels, values, strict=True):
        culprit = label
        if label.startswith("**") and isinstance(value, Mapping):
            for k, v in value.items():
                if _unhashable_in(v):
                    culprit, value = f"{label[2:]}[{k!r}]", v
                    break
            else:
                continue
        elif label.startswith("*") and isinstance(value, tuple):
            for j, v in enumerate(value):
                if _unhashable_in(v):
                    culprit, value = f"{label[1:]}[{j}]", v
                    break
            else:
                continue
        elif not _unhashable_in(value):
            continue
        raise TypeError(
            f"{qualname}() got an unhashable value for parameter {culprit!r} "
            f"({type(value).__name__}): memoized calls need hashable arguments "
            f"to build a cache key. Pass a hashable value (e.g. a tuple instead "
            f"of a list), or give the decorator a key= function that maps the "
            f"arguments to a hashable key."
        )


def check_hashable_flat(qualname: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """:func:`check_hashable` for calls to functions without a readable signature."""
    labels = tuple(f"argument {i + 1}" for i in range(len(args))) + tuple(kwargs)
    check_hashable(qualname, labels, (*args, *kwargs.values()))


def check_key_hashable(caller: str, key: object, context: str = "") -> None:
    """Raise a ``TypeError`` saying that a ``key=`` function returned ``key``, if it is unhashable.

    ``caller`` names who called the key function, ``context`` may say for
    what. Returns quietly if ``key`` hashes (the caller then re-raises the
    original error, which came from somewhere else).

    >>> check_key_hashable("f()", [1])
    Traceback (most recent call last):
    TypeError: f(): the key= function returned an unhashable list;
    return a hashable value such as a tuple
    """
    if _unhashable_in(key):
        raise TypeError(
            f"{caller}: the key= function returned an unhashable {type(key).__name__}"
            f"{context}; return a hashable value such as a tuple"
        )


# ---------------------------------------------------------------- nodes and functions

#: Types known to compare and hash their instances by identity, as ``object``
#: does: a node of such a type can be its own key. Grows as types are met.
IDENTITY_TYPES: set[type] = set()
_NOT_IDENTITY_TYPES: set[type] = set()


def is_identity_type(cls: type) -> bool:
    """Whether ``cls`` keeps ``object``'s ``==`` and ``hash`` (which compare identity).

    >>> is_identity_type(object), is_identity_type(int)
    (True, False)
    """
    if cls in IDENTITY_TYPES:
        return True
    if cls in _NOT_IDENTITY_TYPES:
        return False
    eq, hash_ = getattr(cls, "__eq__", None), getattr(cls, "__hash__", None)
    plain = eq is object.__eq__ and hash_ is object.__hash__
    (IDENTITY_TYPES if plain else _NOT_IDENTITY_TYPES).add(cls)
    return plain


def identity_key(node: object) -> Hashable:
    """Key ``node`` by identity: itself if its type compares by identity, else its ``id``.

    An ``id`` key never calls the node's own ``==`` or ``hash`` (arrays and
    symbolic expressions overload them); the caller keeps the node alive
    while the key is in use, so the ``id`` cannot be reused.
    """
    return node if is_identity_type(type(node)) else id(node)


def qualified_name(fn: Callable[..., Any]) -> str:
    """The name a function's entries are kept under in a shared store: ``module:qualname``.

    A colon, not a dot, between the two: ``a.b:c`` and ``a:b.c`` are
    different functions. A part that is missing reads ``<...>``, which
    persistent stores reject as not naming one function for good.

    >>> qualified_name(qualified_name)
    'memokit._keys:qualified_name'
    """
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not isinstance(module, str):
        module = "<unknown module>"
    if not isinstance(qualname, str):
        qualname = f"<{type(fn).__name__} object>"
    return f"{module}:{qualname}"
