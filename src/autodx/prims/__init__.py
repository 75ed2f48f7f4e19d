"""Every primitive and its low-level wrapper. Rules use only these wrappers, never raw NumPy
on values that may be traced; that is what makes every derivative of every order work.

Importing this package declares every primitive (and registers the public ones); the names
below are the low-level wrappers the engines and the rules of other modules call."""

from . import contract, decomp, fft, sort  # noqa: E402, F401, I001 - they declare their ops
from .elementwise import (
    abs,
    add,
    cos,
    div,
    equal,
    exp,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    maximum,
    minimum,
    mul,
    neg,
    not_equal,
    pow,
    sign,
    sin,
    sqrt,
    sub,
    tan,
    tanh,
    where,
)
from .index import canonical_index, concatenate, getitem, scatter, stack
from .linalg import matmul
from .reduce import sum, sum_to_shape
from .shape import broadcast_to, convert, moveaxis, reshape, stop_gradient, transpose

__all__ = [
    "abs", "add", "broadcast_to", "canonical_index", "concatenate", "convert", "cos", "div",
    "equal", "exp", "getitem", "greater", "greater_equal", "less", "less_equal", "log", "matmul",
    "maximum", "minimum", "moveaxis", "mul", "neg", "not_equal", "pow", "reshape", "scatter",
    "sign", "sin", "sqrt", "stack", "stop_gradient", "sub", "sum", "sum_to_shape", "tan", "tanh",
    "transpose",
    "where",
]
