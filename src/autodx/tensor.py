"""The torch face: `Tensor`, the grad mode, and the eager tape.

A `Tensor` is a tracer of the permanent eager trace (level 0, below every transformation), so
torch-style code and functional transforms mix freely. `requires_grad=True` gives a leaf a
`Node`; every operation on such tensors records a `Node` (unless grad mode is off), and
`backward` runs the same `backward_pass` as the functional `vjp`. With `create_graph=True` the
rules receive Tensors, so the backward pass is itself recorded: `.backward` twice works.
In-place operations compute out of place, then rebind the tensor to the new value and node
and bump its version; a node whose rule reads a value changed after it was saved refuses to
run, as in PyTorch (see `TensorNode`). Nodes keep values and nodes, never the Tensors, so an
intermediate Tensor is freed as soon as the user drops it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence

import numpy as np

from . import numpy as anp
from .anomaly import impl_warned
from .core import (
    InPlaceModificationError,
    MainTrace,
    NonScalarOutputError,
    NotATensorError,
    NotDifferentiableError,
    ScalarConversionError,
    Trace,
    Tracer,
    TracerConversionError,
    array_assignment_error,
    dtype_of,
    ensure_warning_filter,
    impl_call_site,
    shape_of,
    staging_count,
    stored_into_array,
)
from .prims.index import scatter_set
from .registry import install_array_methods
from .reverse import Node, backward_pass, check_has_vjp
from .staging import TAPE_IN_JIT, is_staging

# ----------------------------------------------------------------------------- grad mode

class _Mode(threading.local):
    enabled = True  # per thread; reading a class default costs nothing extra


_mode = _Mode()


def is_grad_enabled() -> bool:
    return _mode.enabled


class _GradMode:
    """Context manager and decorator that sets grad mode for the current thread."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __enter__(self):
        self.prev = is_grad_enabled()
        _mode.enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _mode.enabled = self.prev

    def __call__(self, fn: Callable) -> Callable:
        enabled = self.enabled

        def wrapped(*args, **kwargs):
            with _GradMode(enabled):
                return fn(*args, **kwargs)

        wrapped.__name__, wrapped.__doc__ = fn.__name__, fn.__doc__
        return wrapped


class no_grad(_GradMode):
    """`with ad.no_grad():` records nothing (e.g. for parameter updates)."""

    def __init__(self):
        super().__init__(False)


class enable_grad(_GradMode):
    def __init__(self):
        super().__init__(True)


class set_grad_enabled(_GradMode):
    """Sets the mode at once; used as a context manager, restores the previous one on exit."""

    def __init__(self, mode: bool):
        super().__init__(bool(mode))
        self.prev = is_grad_enabled()
        _mode.enabled = self.enabled

    def __enter__(self):
        return self

    def __call__(self, fn: Callable) -> Callable:
        _mode.enabled = self.prev  # as a decorator it sets the mode only during calls
        return super().__call__(fn)


# ----------------------------------------------------------------------------- eager trace

class EagerTrace(Trace):
    """Level 0: evaluates at once and, in grad mode, records a Node per operation."""

    __slots__ = ()

    def process_primitive(self, prim, args, params):
        # PERF: the hot path of the torch face, so `Trace.lower` spelled out in one pass that
        # also notes the constant Tensors (Tensors are the only tracers of this trace).
        values, parents, constants, differentiable = [], [], None, False
        for a in args:
            if a.__class__ is Tensor:
                node = a._node
                if node is None:
                    # a weak reference: `acc += w * 2` would make acc -> node -> acc a cycle
                    constants = [(len(values), weakref.ref(a))] + (constants or [])
                else:
                    differentiable = True
                values.append(a._value)
                parents.append(node)
            else:
                values.append(a)
                parents.append(None)
        try:
            out = prim.impl(*values, **params)
        except RuntimeWarning:  # NumPy's warning, to be shown at the user's line
            out = impl_warned(prim, values, params)
        if prim.nondiff or not differentiable or not _mode.enabled:
            return Tensor._make(out, None)
        if prim.vjp is None:
            check_has_vjp(prim)
        return Tensor._make(out, TensorNode(prim, params, values, out, parents, constants))


# A clock that ticks at every in-place operation: a node made at time t knows that an input
# modified later than t was changed after the node saved it (the input's node, or for a
# constant Tensor the Tensor itself, holds the time of its last modification).
_clock = [0]


class TensorNode(Node):
    """A tape node: a `Node` that also remembers the clock time it was made (`stamp`) and
    (weakly) its constant Tensor inputs, so that it refuses to run, as PyTorch does, if its
    rule reads an input that was modified in place after it was saved."""

    __slots__ = ("stamp", "constants")

    def __init__(self, prim, params, primals, out, parents, constants):
        # PERF: Node.__init__ spelled out (a super() call is ~10% of an eager operation)
        self.prim, self.params, self.primals, self.out, self.parents = (
            prim, params, primals, out, parents)
        self.hooks = self.target = None
        self.modified, self.stamp, self.constants = 0, _clock[0], constants

    def unpack(self) -> tuple[list | None, list]:
        if _clock[0] > self.stamp and self.primals is not None:  # PERF: else nothing changed
            stamp = self.stamp
            for i, parent in enumerate(self.parents):
                if parent is not None and parent.modified > stamp:
                    self._check_not_read(i)
            for i, ref in self.constants or ():
                t = ref()
                if t is not None and t._modified > stamp:
                    self._check_not_read(i)
        return self.primals, self.parents

    def _check_not_read(self, i: int) -> None:
        reads = self.prim.reads_inputs
        if callable(reads):
            reads = reads(tuple(p is not None for p in self.parents))[i]
        if reads:
            raise InPlaceModificationError(
                f"one of the variables needed for gradient computation has been modified by "
                f"an inplace operation: input {i} of {self.name()} (shape "
                f"{np.shape(self.primals[i])}) was changed after {self.name()} saved it. "
                f"Hint: compute the new value out of place (y = y + 1 instead of y += 1), or "
                f".clone() the tensor before modifying it.")

    def free(self) -> None:
        super().free()
        self.constants = None


impl_call_site(EagerTrace.process_primitive.__code__, __name__)
EAGER = MainTrace(0, EagerTrace)


# ----------------------------------------------------------------------------- Tensor

def _to_array(data, dtype) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data._value
    elif isinstance(data, (list, tuple)):
        data = [_to_array(d, None) if isinstance(d, (Tensor, list, tuple)) else d for d in data]
    if isinstance(data, Tracer):
        raise TypeError("ad.tensor() got a value traced by grad/jvp/vjp/vmap; return it from the "
                        "transformed function instead of wrapping it.")
    array = _numbers(data)
    if dtype is None and not isinstance(data, (np.ndarray, np.generic)):
        # NOTE: Python numbers become float64 (DESIGN.md), booleans stay booleans.
        array = array if array.dtype.kind in "bfc" else array.astype(np.float64)
    else:
        array = np.array(array, dtype=dtype)
    # PERF: a 0-d value is kept as a NumPy scalar, whose arithmetic skips the ufunc machinery
    return array[()] if array.ndim == 0 else array


_DATA = "data must be a number, an array or a (nested) list of numbers"


def _numbers(data) -> np.ndarray:
    """`ad.tensor`'s data as an array of numbers, or PyTorch's error (class) saying what to
    pass: NumPy would make None and objects an object array (None becoming nan)."""
    try:
        array = np.asarray(data)
    except ValueError as e:
        if "inhomogeneous" not in str(e):
            raise
        raise ValueError(f"ad.tensor(data): the nested lists in data must have the same length "
                         f"at each level, as the rows of an array ({e}). Pad the short lists, "
                         f"or make one tensor per list.") from None
    kind = array.dtype.kind
    if kind == "O":
        bad = [v for v in array.flat if not isinstance(v, (int, float, complex))]
        if not bad:  # only Python numbers, e.g. an int too large for int64
            return array.astype(np.float64)
        bad = bad[0]
        where = "is" if bad is data else "holds"
        raise RuntimeError(f"ad.tensor(data): {_DATA}, but data {where} "
                           f"{bad!r:.60} (of type {type(bad).__name__}). Pass numbers only "
                           f"(float('nan') marks a missing value), e.g. ad.tensor([1.0, 2.0]).")
    if kind not in "biufc":
        raise TypeError(f"ad.tensor(data): {_DATA}, got {data!r:.60} (dtype {array.dtype}). "
                        f"Convert text to numbers first, e.g. ad.tensor(float(s)).")
    return array


class Tensor(Tracer):
    """An array that can record operations for `.backward()` (the PyTorch way).

    >>> x = ad.tensor(2.0, requires_grad=True); (3 * x**2).backward(); x.grad
    tensor(12.)
    """

    # _version counts in-place modifications; _modified is the clock time of the last one
    # (see TensorNode)
    __slots__ = ("_node", "_version", "_modified", "_grad", "__weakref__")

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        ensure_warning_filter()  # NumPy's warnings from Tensor operations at the user's line
        self._trace, self._value, self._node = EAGER.trace, _to_array(data, dtype), None
        self._version = self._modified = 0
        self._grad = None
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, value, node: Node | None) -> Tensor:
        # PERF: the hot path of every eager operation; skips __init__'s conversions.
        t = object.__new__(cls)
        t._trace, t._value, t._node, t._grad = EAGER.trace, value, node, None
        t._version = t._modified = 0
        return t

    # PERF: a Tensor's value is always a NumPy array or scalar
    shape = property(lambda self: self._value.shape)
    dtype = property(lambda self: self._value.dtype)

    # ------------------------------------------------------------------ autograd attributes
    @property
    def requires_grad(self) -> bool:
        return self._node is not None

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if not self.is_leaf:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf variables. "
                                   "Use .detach() to get a tensor that does not require grad.")
            return self
        if requires_grad and self._node is None:
            if staging_count[0] and is_staging():
                raise RuntimeError(TAPE_IN_JIT)
            if np.dtype(self.dtype).kind not in "fc":
                raise NotDifferentiableError(
                    f"only floating-point tensors can require gradients, but this one has dtype "
                    f"{self.dtype}. Create it as a float: ad.tensor(..., dtype=float) or "
                    f"x.astype(float).")
            self._node = Node.leaf(weakref.ref(self))
        elif not requires_grad:
            self._node = None
        return self

    @property
    def is_leaf(self) -> bool:
        return self._node is None or self._node.prim is None

    @property
    def grad_fn(self) -> Node | None:
        return None if self.is_leaf else self._node

    @property
    def grad(self) -> Tensor | None:
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        self._grad = None if value is None else _checked_grad(self, value)

    @property
    def data(self) -> Tensor:
        return self.detach()

    @data.setter
    def data(self, value) -> None:
        """`p.data = new` (and `p.data -= lr * g`) replaces the values, recording nothing."""
        new = np.asarray(_value_of(value), dtype=self.dtype)
        if new.shape != self.shape:
            raise RuntimeError(f"data of shape {new.shape} given to a tensor of shape "
                               f"{self.shape}")
        self._value = new[()] if new.ndim == 0 else new
        self._version += 1
        _clock[0] += 1
        self._mark_modified(_clock[0])

    def _mark_modified(self, time: int) -> None:
        """Note the time of an in-place change on this tensor and on its current node, which
        is how the nodes that saved the old value find out (see TensorNode)."""
        self._modified = time
        if self._node is not None:
            self._node.modified = time

    def detach(self) -> Tensor:
        """The same values, cut from the graph.

        NOTE: autodx never writes into an array in place, so an in-place operation on the
        detached tensor gives it new values and leaves this one as it is (in PyTorch both
        change, as they share storage)."""
        return Tensor._make(self._value, None)

    def clone(self) -> Tensor:
        """A copy, still on the graph (its gradient flows back to this tensor)."""
        if self.requires_grad:
            return self * 1.0
        return Tensor._make(self._value.copy(), None)

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf tensor after backward."""
        if self.is_leaf or self._retains_grad:
            return
        ref = weakref.ref(self)

        def keep(g):
            t = ref()
            if t is not None:
                _accumulate_into(t, torch_convention(g))

        keep.retains_grad = True
        self._node.hooks = (self._node.hooks or []) + [keep]

    @property
    def _retains_grad(self) -> bool:
        return any(getattr(h, "retains_grad", False) for h in (self._node.hooks or ()))

    @property
    def retains_grad(self) -> bool:
        return not self.is_leaf and self._retains_grad

    def register_hook(self, hook: Callable) -> _HookHandle:
        """`hook(grad) -> Tensor or None`, called with this tensor's gradient in backward."""
        if not callable(hook):
            raise TypeError(f"register_hook(hook): hook must be a function of the gradient, got "
                            f"{hook!r:.60}; e.g. t.register_hook(lambda g: g * 2).")
        if self._node is None:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient; call .requires_grad_() on it first.")

        def run(g):  # hooks see and return gradients in PyTorch's convention
            g = torch_convention(g)
            result = hook(g if isinstance(g, Tensor) else Tensor._make(g, None))
            if result is None:
                return None
            _check_hook_result(hook, g, result)
            return torch_convention(result if isinstance(g, Tensor) else _value_of(result))

        hooks = [h for h in self._node.hooks or () if not getattr(h, "retains_grad", False)]
        keep = [h for h in self._node.hooks or () if getattr(h, "retains_grad", False)]
        self._node.hooks = hooks + [run] + keep  # retain_grad sees the final gradient, as PyTorch
        return _HookHandle(self._node, run)

    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (`gradient` weights a
        non-scalar output: the result is gradient^T J)."""
        node, value = self._node, self._value
        if (gradient is None and inputs is None and not create_graph and node is not None
                and value.size == 1 and value.dtype.kind != "c"):  # PERF: `loss.backward()`
            backward_pass((node,), (_ones_like(value),), retain_graph=bool(retain_graph),
                          on_leaf=_accumulate_leaf)
            return
        _backward([self], gradient, retain_graph, create_graph, inputs, "gradient")

    # ------------------------------------------------------------------ conversions
    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise TracerConversionError("Can't call numpy() on Tensor that requires grad. Use "
                                        "tensor.detach().numpy() instead.")
        return np.asarray(self._value)

    def __array__(self, dtype=None, copy=None):
        if self.requires_grad and stored_into_array():
            raise array_assignment_error(self.shape)
        if self.requires_grad:
            raise TracerConversionError(
                "this Tensor requires grad, so turning it into a NumPy array would drop its "
                "derivative. Use tensor.detach().numpy(), or call ad.numpy functions (np.sin, "
                "np.sum, ... on the tensor itself also work).")
        array = np.asarray(self._value)
        return array if dtype is None else array.astype(dtype)

    def item(self) -> float:
        if self.size != 1:
            raise ScalarConversionError(
                f"a Tensor with {self.size} elements cannot be converted to a Python number. "
                f"Index one element first (t[0]) or reduce it (t.sum(), t.mean()).")
        return np.asarray(self._value).item()

    def tolist(self):
        return np.asarray(self._value).tolist()

    def __float__(self) -> float:
        if self.requires_grad and stored_into_array():
            raise array_assignment_error(self.shape)
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __repr__(self) -> str:
        value = self._value
        if isinstance(value, Tracer):  # a gradient seen by a hook under vmap or a transform
            body = repr(value)
        else:
            value = np.asarray(value)
            body = np.array2string(value, separator=", ", prefix="tensor(")
        extras = []
        if value.dtype != np.float64:
            extras.append(f"dtype={value.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"

    __str__ = __repr__

    def dim(self) -> int:
        return self.ndim

    # ------------------------------------------------------------------ in-place operations
    def _inplace(self, compute: Callable[[Tensor], object]) -> Tensor:
        if is_grad_enabled() and self.requires_grad and self.is_leaf:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation. Wrap the update in `with ad.no_grad():`, or use an "
                               "out-of-place operation (x = x + 1).")
        _clock[0] += 1  # first, so that the nodes `compute` makes are not older than the change
        time = _clock[0]  # read once: another thread may tick the clock during `compute`
        new = compute(self)
        new_value = np.asarray(_value_of(new))
        if new_value.shape != np.shape(self._value):
            raise RuntimeError(f"in-place result of shape {new_value.shape} doesn't match the "
                               f"tensor's shape {np.shape(self._value)}")
        self._mark_modified(time)
        self._value = new_value.astype(self.dtype, copy=False)
        if isinstance(new, Tensor) and new._node is not None and new._node is not self._node:
            self._node = new._node
        self._version += 1
        return self

    def _inplace_binary(self, op: Callable, other) -> Tensor:
        # `x *= x` reads the old x on both sides
        return self._inplace(lambda t: op(t, t if other is self else other))

    def __iadd__(self, other):
        return self._inplace_binary(anp.add, other)

    def __isub__(self, other):
        return self._inplace_binary(anp.subtract, other)

    def __imul__(self, other):
        return self._inplace_binary(anp.multiply, other)

    def __itruediv__(self, other):
        return self._inplace_binary(anp.divide, other)

    def __ipow__(self, other):
        return self._inplace_binary(anp.power, other)

    def __setitem__(self, index, value):
        """`x[index] = value`, recorded. NOTE: where `index` names an element twice, the last
        write wins (NumPy's rule), and only that value gets a gradient."""
        self._inplace(lambda t: scatter_set(t, value, index))

    def add_(self, other):
        return self.__iadd__(other)

    def sub_(self, other):
        return self.__isub__(other)

    def mul_(self, other):
        return self.__imul__(other)

    def zero_(self):
        # recorded as a selection of nothing, so the graph stays and the gradient is 0
        return self._inplace(lambda t: anp.where(np.zeros(t.shape, bool), t, 0.0))


install_array_methods(Tensor)


class _HookHandle:
    def __init__(self, node: Node, hook: Callable):
        self._node, self._hook = node, hook

    def remove(self) -> None:
        if self._node.hooks and self._hook in self._node.hooks:
            self._node.hooks = [h for h in self._node.hooks if h is not self._hook]


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """Make a Tensor (float64 for Python numbers).

    >>> ad.tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _value_of(x):
    return x._value if isinstance(x, Tensor) else x


def _accumulate_into(t: Tensor, g) -> None:
    if isinstance(g, Tensor):  # create_graph: keep the graph of the gradient
        t._grad = g if t._grad is None else t._grad + g
    elif t._grad is None:  # a plain backward: a copy, so that no two .grad alias
        t._grad = Tensor._make(g.copy(), None)
    else:
        t._grad = Tensor._make(t._grad._value + g, None)


def _wrap_saved(value, node: Node | None):
    """create_graph: a saved value as a Tensor on its node; constants stay as they are."""
    return value if node is None else Tensor._make(value, node)


def _accumulate_leaf(node: Node, g) -> None:
    t = node.target()
    if t is not None:
        _accumulate_into(t, torch_convention(g))


def torch_convention(g):
    """Convert a gradient between the engine's convention and PyTorch's (both ways).

    NOTE: the engine transposes without conjugation, as JAX, so for a real loss of complex z
    its cotangent is df/dx - i df/dy; PyTorch's `.grad` is the conjugate, df/dx + i df/dy,
    the direction of steepest ascent. A `gradient=` given for a complex output is in
    PyTorch's convention too. Real values pass untouched."""
    if g is None or dtype_of(g).kind != "c":
        return g
    return anp.conj(g) if isinstance(g, Tracer) else np.conj(g)


# ----------------------------------------------------------------------------- backward

_PASS = {"inputs": "the tensors to differentiate with respect to (made with requires_grad=True), "
                   "e.g. inputs=[x, w]",
         "outputs": "the tensors computed from them, e.g. ad.autograd.grad(loss, [x, w])",
         "tensors": "the tensors to differentiate, e.g. ad.autograd.backward(loss)"}


def _as_tensors(tensors, what: str) -> list[Tensor]:
    """A Tensor or an iterable of Tensors as a list; anything else refused, naming `what`
    (a str or a number is one wrong item, not a sequence)."""
    if isinstance(tensors, Tensor):
        return [tensors]
    if tensors is None:
        raise NotATensorError(f"{what} must be an ad.Tensor or a sequence of Tensors, got None. "
                              f"Pass {_PASS[what]}.")
    if isinstance(tensors, (np.ndarray, np.generic)):
        raise NotATensorError(
            f"{what} must be Tensors, got a NumPy array of shape {np.shape(tensors)}: a plain "
            f"array is not on the graph, so it has no gradient. Make it with ad.tensor(..., "
            f"requires_grad=True) and compute with that tensor.")
    one = isinstance(tensors, (str, bytes, Tracer)) or not hasattr(tensors, "__iter__")
    items = [tensors] if one else list(tensors)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            got = f"the str {t!r:.40}" if isinstance(t, str) else type(t).__name__
            raise NotATensorError(f"{what}[{i}] must be an ad.Tensor, got {got}. "
                                  f"Pass {_PASS[what]}.")
    return items


def check_inputs(inputs: list[Tensor], fn: str) -> None:
    """The tensors `fn` differentiates with respect to: at least one, each requiring grad."""
    if not inputs:
        every_leaf = ", or inputs=None for every leaf" if fn == "backward" else ""
        raise RuntimeError(f"`inputs` argument to `{fn}()` cannot be empty: pass the tensors "
                           f"to differentiate with respect to (made with requires_grad=True)"
                           f"{every_leaf}.")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (inputs[{i}]) does not "
                               "require grad. Create it with requires_grad=True.")


def _checked_gradient(g, out: Tensor, i: int, arg: str):
    """A given gradient for output i: a Tensor or an array of numbers of its shape."""
    if not isinstance(g, (Tensor, Tracer, np.ndarray, np.generic, int, float, complex)) or (
            dtype_of(g).kind not in "biufc"):
        hint = (f"; wrap a list of numbers as {arg}=ad.tensor([...])" if isinstance(g, list)
                else "")
        raise NotATensorError(f"{arg} must be a Tensor (or None) for each output, got "
                              f"{g!r:.40} (of type {type(g).__name__}) for output {i}{hint}. "
                              f"Pass a tensor of the output's shape {out.shape}.")
    shape = tuple(shape_of(g))
    if shape != out.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {shape} and "
                           f"output[{i}] has a shape of {out.shape}. Pass {arg}= a tensor of "
                           f"the output's shape {out.shape}, one per output.")
    return g


def _root_cotangents(outputs: list[Tensor], grad_outputs, create_graph: bool,
                     arg: str = "grad_outputs") -> list:
    """The cotangents the backward pass starts from; `arg` names grad_outputs in errors
    (gradient= of Tensor.backward takes the one gradient of one tensor, never a list)."""
    if arg == "gradient" or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs] * len(outputs)
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        m = len(outputs)
        raise RuntimeError(f"{arg}: got {len(grad_outputs)} gradients for {m} output"
                           f"{'s' if m != 1 else ''}; pass one per output, in the same order "
                           f"(a tensor of its shape, or None for a scalar output).")
    cts = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if out._node is None:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn: "
                "nothing it depends on was created with requires_grad=True (or it was computed "
                "under ad.no_grad()).")
        if g is None:
            g = _implicit_gradient(out, i)
        else:
            g = _checked_gradient(g, out, i, arg)
            if not create_graph:
                g = _value_of(g)
                g = g if isinstance(g, Tracer) else np.asarray(g, dtype=out.dtype)
        if create_graph and not isinstance(g, Tracer):
            g = Tensor._make(np.asarray(g, dtype=out.dtype), None)
        cts.append(torch_convention(g))
    return cts


def _implicit_gradient(out: Tensor, i: int):
    """The gradient of a real scalar output with respect to itself: one."""
    if out.dtype.kind == "c":
        raise RuntimeError(
            f"grad can be implicitly created only for real scalar outputs, but "
            f"output {i} has dtype {out.dtype}. Pass gradient= (e.g. "
            f"ad.tensor(1 + 0j)), or differentiate a real function of it, such as "
            f"its real part or abs(out)**2.")
    if out.size != 1:
        raise NonScalarOutputError(
            f"grad can be implicitly created only for scalar outputs, but this output "
            f"has shape {out.shape}. Either pass gradient=v (a tensor of shape "
            f"{out.shape}) to get the weighted sum v^T J of the Jacobian's rows, or use "
            f"ad.autograd.functional.jacobian(f, inputs) (or ad.jacobian(f, "
            f"matrix=True)) for the whole Jacobian, one row per output element. Only "
            f"if f is elementwise does out.sum().backward() give per-element "
            f"derivatives.")
    return _ones_like(out._value)


def _checked_grad(t: Tensor, value) -> Tensor:
    """A value assigned to `t.grad`: a Tensor (or array of numbers) of t's shape and dtype,
    as PyTorch requires, since backward adds to it."""
    if not isinstance(value, Tensor):
        if not isinstance(value, (np.ndarray, np.generic, int, float, complex)):
            raise NotATensorError(f"assigned grad expected to be a Tensor or None, got "
                                  f"{type(value).__name__}. Assign ad.tensor(...) of the "
                                  f"tensor's shape {t.shape} and dtype {t.dtype}, or None.")
        value = Tensor(value)
    if value.shape != t.shape:
        raise RuntimeError(f"assigned grad has shape {value.shape}, but the tensor has shape "
                           f"{t.shape}: .grad must have the tensor's shape (sum a broadcast "
                           f"gradient over the extra axes first).")
    if value.dtype != t.dtype:
        raise RuntimeError(f"assigned grad has dtype {value.dtype}, but the tensor has dtype "
                           f"{t.dtype}: .grad must have the tensor's dtype; convert it with "
                           f"g.astype({t.dtype}).")
    return value


def _check_hook_result(hook: Callable, g, result) -> None:
    """A hook replaces the gradient, so it must keep its shape and dtype (as in PyTorch)."""
    name = getattr(hook, "__name__", type(hook).__name__)
    if tuple(shape_of(result)) != tuple(shape_of(g)):
        raise RuntimeError(f"hook {name!r} has changed the size of value: it was given a "
                           f"gradient of shape {tuple(shape_of(g))} and returned one of shape "
                           f"{tuple(shape_of(result))}. Return a gradient of the shape it gets.")
    if hasattr(result, "dtype") and np.dtype(result.dtype) != np.dtype(dtype_of(g)):
        raise RuntimeError(f"hook {name!r} has changed the type of value (was {dtype_of(g)}, "
                           f"got {result.dtype}). Return a gradient of the dtype it gets.")


def _ones_like(value):
    return value.dtype.type(1) if value.ndim == 0 else np.ones(value.shape, value.dtype)


def run_backward(outputs: list[Tensor], grad_outputs, retain_graph: bool | None,
                 create_graph: bool, capture: Sequence[Node] = (), accumulate: bool = True,
                 arg: str = "grad_outputs"):
    """The tape's backward pass; returns the cotangents of the `capture` nodes."""
    if retain_graph is None:
        retain_graph = create_graph
    cts = _root_cotangents(outputs, grad_outputs, create_graph, arg)
    roots = [o._node for o in outputs]
    on_leaf = _accumulate_leaf if accumulate else None
    prune = not accumulate  # autograd.grad and backward(inputs=): only what leads there
    if not create_graph:  # rules see plain arrays: nothing is recorded whatever the mode
        grads = backward_pass(roots, cts, retain_graph=retain_graph, capture=capture,
                              on_leaf=on_leaf, prune=prune)
    else:
        with _GradMode(True):
            grads = backward_pass(roots, cts, retain_graph=retain_graph, capture=capture,
                                  on_leaf=on_leaf, wrap=_wrap_saved, prune=prune)
    return [torch_convention(g) for g in grads]


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs=None) -> None:
    """Accumulate gradients of `tensors` into the `.grad` of the leaves (or of `inputs`)."""
    _backward(_as_tensors(tensors, "tensors"), grad_tensors, retain_graph, create_graph, inputs,
              "grad_tensors")


def _backward(outputs: list[Tensor], grads, retain_graph, create_graph, inputs, arg: str):
    """`backward` and `Tensor.backward`; `arg` is the name their gradients go by."""
    if inputs is None:
        run_backward(outputs, grads, retain_graph, create_graph, arg=arg)
        return
    inputs = _as_tensors(inputs, "inputs")
    check_inputs(inputs, "backward")
    cts = run_backward(outputs, grads, retain_graph, create_graph,
                       capture=[t._node for t in inputs], accumulate=False, arg=arg)
    for t, g in zip(inputs, cts):
        if g is not None:
            _accumulate_into(t, g)
