"""The one table of public operations.

Declaring an op registers it here, once: a primitive's declarator in `prims/` (`unary`,
`binary`, ...) or `@export` on a composite records its public name in a namespace
(`numpy`, `numpy.linalg`, `numpy.fft`, `nn`, `scipy.special`), the NumPy callables that
dispatch to it (`np.sin(t)` on a Tensor or tracer), and its array methods (`t.sin()`).
`ad.numpy` & co., the dispatch of plain NumPy calls, the methods of `Tracer` and `Tensor`
and the generated support table are all read off this table, so adding an op is one line.

Invariants: a public name is registered once per namespace; a NumPy callable dispatches to
one function; a method installed on a class never replaces one the class defines itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# The NumPy module whose same-named function dispatches to an autodx namespace's function.
NUMPY_MODULES = {"numpy": np, "numpy.linalg": np.linalg, "numpy.fft": np.fft}

DEFAULT = object()  # "the NumPy function of the same name, if there is one"


@dataclass
class Entry:
    namespace: str
    name: str
    fn: Callable
    numpy: tuple  # NumPy callables (or (ufunc, method) pairs) that dispatch to fn
    methods: tuple  # array method names installed on Tracer and Tensor
    kind: str  # "primitive", "composite", "nondiff" or "numpy" (re-exported as it is)


ENTRIES: list[Entry] = []
NAMESPACES: dict[str, dict[str, object]] = {}
DISPATCH: dict[object, Callable] = {}  # NumPy callable or (ufunc, method) -> autodx function
ARRAY_METHODS: dict[str, object] = {}
_CLASSES: list[type] = []  # classes the methods are installed on (Tracer, Tensor)


def _numpy_callables(namespace: str, names: tuple, numpy) -> tuple:
    if numpy is DEFAULT:
        module = NUMPY_MODULES.get(namespace)
        found = [getattr(module, n, None) for n in names] if module is not None else []
        return tuple(dict.fromkeys(f for f in found if callable(f)))  # np.abs is np.absolute
    if numpy is None:
        return ()
    return tuple(numpy) if isinstance(numpy, (tuple, list)) else (numpy,)


def export(fn: Callable | None = None, *, name: str | None = None, namespace: str = "numpy",
           aliases: tuple = (), numpy=DEFAULT, method=None, kind: str | None = None):
    """Register `fn` as `namespace.name` (and `aliases`); usable as a decorator.

    numpy: the NumPy callable(s) that dispatch to fn; by default NumPy's function of the same
        name (or alias) in the matching module; None for none. `(np.add, "reduce")` names a
        ufunc method.
    method: an array method name, a tuple of names, or a dict {name: callable} for methods
        whose signature differs from fn's (`t.reshape(2, 3)`).
    """
    if fn is None:
        return lambda f: export(f, name=name, namespace=namespace, aliases=aliases,
                                numpy=numpy, method=method, kind=kind)
    name = name or fn.__name__
    names = (name, *aliases)
    space = NAMESPACES.setdefault(namespace, {})
    for n in names:
        if n in space and space[n] is not fn:
            raise ValueError(f"{namespace}.{n} is already registered")
        space[n] = fn
    callables = _numpy_callables(namespace, names, numpy)
    for c in callables:
        if DISPATCH.get(c, fn) is not fn:
            raise ValueError(f"{c} already dispatches to {DISPATCH[c]}")
        DISPATCH[c] = fn
    methods = _methods(fn, method)
    for m, impl in methods.items():
        _install_method(m, impl)
    if kind is None:
        kind = "nondiff" if getattr(getattr(fn, "prim", None), "nondiff", False) else (
            "primitive" if hasattr(fn, "prim") else "composite")
    ENTRIES.append(Entry(namespace, name, fn, callables, tuple(methods), kind))
    return fn


def _methods(fn: Callable, method) -> dict:
    if method is None:
        return {}
    if isinstance(method, dict):
        return method
    return {m: fn for m in ((method,) if isinstance(method, str) else method)}


def reexport(namespace: str, module, names: str) -> None:
    """Names taken from NumPy as they are: constants, dtypes, and functions of shapes only."""
    space = NAMESPACES.setdefault(namespace, {})
    for n in names.split():
        if n in space:
            raise ValueError(f"{namespace}.{n} is already registered")
        space[n] = getattr(module, n)
        ENTRIES.append(Entry(namespace, n, space[n], (), (), "numpy"))


def operator_method(name: str, impl) -> None:
    """An operator or method that is spelling, not an op of its own (`__add__`, `T`)."""
    _install_method(name, impl)


def _install_method(name: str, impl) -> None:
    if ARRAY_METHODS.get(name, impl) is not impl:
        raise ValueError(f"array method {name!r} is already registered")
    ARRAY_METHODS[name] = impl
    for cls in _CLASSES:
        if name not in cls.__dict__:
            setattr(cls, name, impl)


def install_array_methods(cls: type) -> None:
    """Install every method registered so far on `cls`, and every later one as it comes,
    keeping whatever the class itself defines."""
    own = set(cls.__dict__)
    _CLASSES.append(cls)
    for name, impl in ARRAY_METHODS.items():
        if name not in own:
            setattr(cls, name, impl)


def namespace(name: str) -> dict[str, object]:
    return NAMESPACES.setdefault(name, {})
