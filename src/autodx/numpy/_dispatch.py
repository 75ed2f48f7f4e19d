"""Plain NumPy on traced values: `np.sin(t)`, `np.sum(t, axis=0)`, `ndarray + t`.

NumPy hands a call with a Tensor or tracer among its arguments to `__array_ufunc__` (ufuncs)
or `__array_function__` (the rest); both look the callable up in `registry.DISPATCH`, which
the declarations fill. A NumPy callable with no entry raises `UnsupportedNumpyFunctionError`
by its full dotted name instead of silently dropping the derivative. The operators of
`Tracer` and `Tensor` are registered here too (they are spelling, not ops of their own).
"""

from __future__ import annotations

import numpy as np

from .. import prims
from ..core import Tracer, UnsupportedNumpyFunctionError, dtype_of, shape_of
from ..prims.elementwise import reflected
from ..registry import DISPATCH, export, install_array_methods, operator_method
from ._axes import ndim, size
from ._unsupported import UNSUPPORTED


def dotted_name(func, method: str = "__call__") -> str:
    """`np.linalg.svd`, `np.add.reduce`: the name a user would type."""
    module = getattr(func, "__module__", None) or "numpy"
    module = "np" + module[len("numpy"):] if module.startswith("numpy") else module
    name = f"{module}.{func.__name__}"
    return name if method == "__call__" else f"{name}.{method}"


def unsupported(name: str, detail: str = "") -> UnsupportedNumpyFunctionError:
    status, reason = UNSUPPORTED.get(name, ("planned", "no derivative rule for it yet"))
    why = (f"autodx does not support it ({reason})" if status == "unsupported" else
           f"it is planned but not written yet ({reason}; say so in an issue if you need it)")
    return UnsupportedNumpyFunctionError(
        f"{name}{detail} was called on a value autodx is differentiating; {why}. Running it "
        f"on the raw values would silently drop the derivative. To proceed: write it with "
        f"ad.numpy functions, give it your own derivative with ad.custom_vjp / "
        f"ad.custom_jvp, or use ad.stop_gradient(x) (or x.detach()) if you want a constant.")


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    fn = DISPATCH.get(ufunc if method == "__call__" else (ufunc, method))
    if fn is None:
        raise unsupported(dotted_name(ufunc, method))
    if kwargs.pop("out", None) is not None:
        raise unsupported(dotted_name(ufunc, method), " with out=...")
    if kwargs and method == "__call__" and ufunc.signature is None:  # gufuncs take axes=
        raise unsupported(dotted_name(ufunc, method), f" with {', '.join(sorted(kwargs))}=")
    return fn(*inputs, **kwargs)


def array_function(self, func, types, args, kwargs):
    fn = DISPATCH.get(func)
    if fn is None:
        raise unsupported(dotted_name(func))
    return fn(*args, **kwargs)


# ----------------------------------------------------------------------------- queries
# NumPy functions that read only a dtype or a shape answer on traced values too.

export(shape_of, name="shape", kind="query")
export(ndim, kind="query")
export(size, kind="query")


@export(kind="query")
def iscomplexobj(x) -> bool:
    return np.dtype(dtype_of(x)).kind == "c"


@export(kind="query")
def isrealobj(x) -> bool:
    return not iscomplexobj(x)


@export(kind="query")
def result_type(*arrays_and_dtypes):
    """NumPy's promotion of the arguments' dtypes (Python scalars stay weak, as NEP 50)."""
    return np.result_type(*[x.dtype if isinstance(x, Tracer) else x for x in arrays_and_dtypes])


# ----------------------------------------------------------------------------- operators

@export
def positive(x):
    """`+x`: a new value, as np.positive, so that in-place changes do not alias."""
    return prims.mul(x, 1)


@export(method="square")
def square(x):
    return prims.mul(x, x)


@export
def reciprocal(x):
    return prims.div(1.0, x)


def _no_item_assignment(self, index, value):
    raise TypeError(
        "values traced by grad/jvp/vjp/vmap are immutable, so x[i] = v cannot be recorded. "
        "Build the new value instead: y = x.at[i].set(v), ad.numpy.where(mask, v, x), or "
        "collect the pieces in a list and ad.numpy.stack them.")


for _name, _impl in {
    "__add__": prims.add, "__radd__": reflected(prims.add),
    "__sub__": prims.sub, "__rsub__": reflected(prims.sub),
    "__mul__": prims.mul, "__rmul__": reflected(prims.mul),
    "__truediv__": prims.div, "__rtruediv__": reflected(prims.div),
    "__pow__": prims.pow, "__rpow__": reflected(prims.pow),
    "__matmul__": prims.matmul, "__rmatmul__": reflected(prims.matmul),
    "__neg__": prims.neg, "__pos__": positive,
    "__array_ufunc__": array_ufunc, "__array_function__": array_function,
    "__setitem__": _no_item_assignment,
}.items():
    operator_method(_name, _impl)

install_array_methods(Tracer)
