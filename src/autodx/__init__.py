"""autodx: automatic differentiation for NumPy code, the PyTorch way and the JAX way, on one core.

>>> import autodx as ad
>>> ad.grad(lambda x: 3 * x**2)(2.0)                       # the JAX way
12.0
>>> x = ad.tensor(2.0, requires_grad=True); (3 * x**2).backward(); x.grad   # the PyTorch way
tensor(12.)
"""

from . import autograd, core, nn, numpy, scipy, testing, tree
from .anomaly import AnomalyError, config
from .api import (
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    linearize,
    stop_gradient,
    value_and_grad,
    vjp,
    vmap,
)
from .core import (
    ArgnumsError,
    ArrayAssignmentError,
    BatchedValueConversionError,
    BatchingError,
    ComplexDifferentiationError,
    EscapedTracerError,
    FreedGraphError,
    InPlaceModificationError,
    JacobianSizeError,
    NonScalarOutputError,
    NotATensorError,
    NotDifferentiableError,
    ScalarConversionError,
    TracerConversionError,
    UnsupportedNumpyFunctionError,
)
from .custom import checkpoint, custom_jvp, custom_vjp
from .draw import draw  # draw, explain and plot import their extras only when called
from .explain import explain
from .jit import RetraceWarning, jit
from .plot import plot
from .tensor import Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled, tensor

__version__ = "0.1.0"

core.ensure_warning_filter()  # NumPy's RuntimeWarnings at the user's line (anomaly.py)

__all__ = [
    "AnomalyError", "ArgnumsError", "ArrayAssignmentError", "BatchedValueConversionError",
    "BatchingError", "ComplexDifferentiationError", "EscapedTracerError", "FreedGraphError",
    "InPlaceModificationError", "JacobianSizeError", "NonScalarOutputError", "NotATensorError",
    "NotDifferentiableError", "RetraceWarning", "ScalarConversionError", "Tensor",
    "TracerConversionError", "UnsupportedNumpyFunctionError", "autograd", "checkpoint",
    "config", "custom_jvp", "custom_vjp", "draw", "enable_grad", "explain", "grad", "hessian",
    "hvp", "is_grad_enabled", "jacfwd", "jacobian", "jacrev", "jit", "jvp", "linearize", "nn",
    "no_grad", "numpy", "plot", "scipy", "set_grad_enabled", "stop_gradient", "tensor",
    "testing", "tree", "value_and_grad", "vjp", "vmap",
]
