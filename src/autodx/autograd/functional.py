"""`ad.autograd.functional`: PyTorch's jacobian, hessian, vjp, jvp, hvp and vhp, with its
signatures and return structures (a tuple per tuple of inputs, a tuple of tuples for several
outputs and inputs), built on the tape (`autograd.grad`) exactly as PyTorch builds them.

`vectorize` (on by default, as the values do not depend on it) computes all rows of a Jacobian
in one batched backward pass; `strategy="forward-mode"` uses autodx's batched forward mode.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import numpy as anp
from ..tensor import Tensor, enable_grad


def _check_func(func, name: str) -> None:
    """Refuse a non-callable at once, before the inputs are prepared."""
    if not callable(func):
        raise TypeError(f"{name}: func must be a callable (a function of the inputs), got "
                        f"{func!r:.60}; pass the function first, as in "
                        f"ad.autograd.functional.{name}(f, inputs).")


def _check_size(name: str, m: int | None, inputs: tuple, dtype) -> None:
    """Refuse a dense Jacobian (m outputs) or Hessian (m None) larger than
    autodx.api.JACOBIAN_LIMIT_BYTES before anything is allocated, saying what to do."""
    from ..api import _check_dense

    n = sum(x.size for x in inputs)
    _check_dense(name, m, n, dtype, 1, name == "hessian")  # 1: the basis is made in chunks


def _as_tuple(x, what: str) -> tuple[bool, tuple]:
    if isinstance(x, tuple):
        items = x
    elif isinstance(x, list):
        items = tuple(x)
    else:
        return False, (_as_tensor(x, what),)
    return True, tuple(_as_tensor(t, f"{what}[{i}]") for i, t in enumerate(items))


def _as_tensor(x, what: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (int, float, np.ndarray, np.generic)):
        return Tensor(x)  # NOTE: friendlier than PyTorch, which insists on Tensors
    raise TypeError(f"{what} must be an ad.Tensor (or a number/ndarray), got {type(x).__name__}")


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    # Inputs that already carry a graph keep it when create_graph (so hessian can differentiate
    # the jacobian again); otherwise each becomes a fresh leaf.
    return tuple(x if create_graph and x.requires_grad else x.detach().requires_grad_(True)
                 for x in inputs)


def _grads(out, inputs, grad_out, create_graph: bool, strict: bool, what: str) -> list:
    from . import grad

    if out._node is None:
        raw = [None] * len(inputs)
    else:
        raw = grad(out, inputs, grad_out, retain_graph=True, create_graph=create_graph,
                   allow_unused=True)
    result = []
    for i, (g, x) in enumerate(zip(raw, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The {what} of the output with respect to input {i} is "
                                   "independent of that input (strict=True)")
            g = Tensor._make(np.zeros(x.shape, x.dtype), None)
        result.append(g if create_graph else g.detach())
    return result


def _finish(tree, nested: tuple):
    """Unwrap the tuple levels whose user-facing form was not a tuple."""
    if len(nested) == 2:
        outer, inner = nested
        if not inner:
            tree = tuple(row[0] for row in tree)
        return tree if outer else tree[0]
    return tree if nested[0] else tree[0]


def jacobian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool | None = None, strategy: str = "reverse-mode"):
    """PyTorch's `jacobian`: for several inputs a tuple, for several outputs a tuple of tuples;
    each block has shape out.shape + in.shape. (For one matrix, rows = outputs, use
    `ad.jacobian(f, argnums=..., matrix=True)`.)

    NOTE: the rows come from one batched backward pass unless `vectorize=False` or `strict`
    (PyTorch loops by default; the values are the same)."""
    _check_func(func, "jacobian")
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('strategy must be "reverse-mode" or "forward-mode"')
    in_tuple, inputs = _as_tuple(inputs, "inputs")
    if strategy == "forward-mode":
        return _jacobian_forward(func, inputs, in_tuple, create_graph)
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        out_tuple, outputs = _as_tuple(func(*inputs), "outputs of func")
        jac = []
        for out in outputs:
            if out.size == 1:  # PERF: one gradient, no flattening or stacking
                rows = _grads(out, inputs, None, create_graph, strict, "jacobian")
            else:
                _check_size("jacobian", out.size, inputs, out.dtype)
                rows = (_batched_rows(out, inputs, create_graph)
                        if vectorize is not False and not strict else
                        _looped_rows(out, inputs, create_graph, strict))
            jac.append(tuple(anp.reshape(block, out.shape + x.shape)
                             for block, x in zip(rows, inputs)))
    return _finish(tuple(jac), (out_tuple, in_tuple))


def _looped_rows(out, inputs, create_graph: bool, strict: bool) -> list:
    """Every row of the Jacobian by one backward pass per output element (PyTorch's way)."""
    flat = anp.reshape(out, (-1,))
    per_output = [_grads(flat[k], inputs, None, create_graph, strict, "jacobian")
                  for k in range(out.size)]
    return [anp.stack([r[j] for r in per_output]) for j in range(len(inputs))]


def _batched_rows(out, inputs, create_graph: bool) -> list:
    """Every row of the Jacobian by batched backward passes (vmap over the output basis), as
    many rows at a time as autodx.api.JACOBIAN_LIMIT_BYTES allows for the basis."""
    from .. import api
    from . import grad

    if out._node is None:  # the output does not depend on the inputs
        return [Tensor._make(np.zeros((out.size, *x.shape), x.dtype), None) for x in inputs]
    m, limit = out.size, api.JACOBIAN_LIMIT_BYTES
    step = m if limit is None else max(1, min(m, limit // (m * out.dtype.itemsize)))
    chunks = []
    for start in range(0, m, step):
        rows = min(step, m - start)
        basis = np.eye(rows, m, k=start, dtype=out.dtype).reshape((rows, *out.shape))
        grads = grad(out, inputs, Tensor._make(basis, None), retain_graph=True,
                     create_graph=create_graph, is_grads_batched=True, materialize_grads=True)
        chunks.append([g if create_graph else g.detach() for g in grads])
    return chunks[0] if len(chunks) == 1 else [anp.concatenate(c) for c in zip(*chunks)]


def _jacobian_forward(func, inputs, in_tuple, create_graph):
    from ..api import jacfwd

    argnums = tuple(range(len(inputs)))
    values = inputs if create_graph else tuple(x.detach() for x in inputs)
    out_tuple = isinstance(func(*values), (tuple, list))
    jac = jacfwd(lambda *xs: tuple(func(*xs)) if out_tuple else func(*xs), argnums)(*values)
    jac = tuple(jac) if out_tuple else (jac,)
    return _finish(jac, (out_tuple, in_tuple))


def hessian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool | None = None, outer_jacobian_strategy: str = "reverse-mode"):
    """PyTorch's `hessian` of a function with a single-element output: for several inputs a
    tuple of tuples `H[i][j]` of shape inputs[i].shape + inputs[j].shape.
    `outer_jacobian_strategy="forward-mode"` is forward-over-reverse (autodx's `ad.hessian`)."""
    _check_func(func, "hessian")
    in_tuple, inputs = _as_tuple(inputs, "inputs")
    _check_size("hessian", None, inputs, np.result_type(*[x.dtype for x in inputs]))

    def scalar_func(*xs):
        out = func(*xs)
        if not hasattr(out, "shape") or math.prod(out.shape) != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor "
                               "with a single element; for a vector output use jacobian twice.")
        return anp.reshape(out, ())

    if outer_jacobian_strategy == "forward-mode":
        from ..api import hessian as forward_over_reverse

        values = inputs if create_graph else tuple(x.detach() for x in inputs)
        res = forward_over_reverse(scalar_func, argnums=tuple(range(len(inputs))))(*values)
        return _finish(res, (in_tuple, in_tuple))

    def jac_func(*xs):
        return jacobian(scalar_func, xs, create_graph=True, strict=strict, vectorize=vectorize)

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize)
    return _finish(res, (in_tuple, in_tuple))


def _check_v(v, inputs: tuple, what: str) -> tuple:
    _, v = _as_tuple(v, what)
    if len(v) != len(inputs) or any(a.shape != b.shape for a, b in zip(v, inputs)):
        raise RuntimeError(f"{what} must have the structure and shapes of "
                           f"{'the inputs' if what == 'v' else what}: expected "
                           f"{[x.shape for x in inputs]}, got {[x.shape for x in v]}")
    return v


def vjp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """`(func(*inputs), v^T J)`; v may be omitted when the output has one element."""
    _check_func(func, "vjp")
    in_tuple, inputs = _as_tuple(inputs, "inputs")
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        out_tuple, outputs = _as_tuple(func(*inputs), "outputs of func")
        if v is None:
            if any(o.size != 1 for o in outputs):
                raise RuntimeError("The vector v can only be None if the user-provided function "
                                   "returns a single Tensor with a single element.")
            v = tuple(Tensor._make(np.ones(o.shape, o.dtype), None) for o in outputs)
        v = _check_v(v, outputs, "v")
        total = None
        for out, vi in zip(outputs, v):
            term = _grads(out, inputs, vi, create_graph, strict, "vjp")
            total = term if total is None else [a + b for a, b in zip(total, term)]
    outputs = outputs if create_graph else tuple(o.detach() for o in outputs)
    return _finish(outputs, (out_tuple,)), _finish(tuple(total), (in_tuple,))


def jvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """`(func(*inputs), J v)`, by PyTorch's double-backward trick."""
    _check_func(func, "jvp")
    in_tuple, inputs = _as_tuple(inputs, "inputs")
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        v = _check_v(_default_v(v, inputs), inputs, "v")
        out_tuple, outputs = _as_tuple(func(*inputs), "outputs of func")
        dummies = tuple(Tensor(np.zeros(o.shape, o.dtype), requires_grad=True) for o in outputs)
        # g(u) = J^T u is linear in u, so d<g(u), v>/du = J v.
        grads_in = [None] * len(inputs)
        for out, u in zip(outputs, dummies):
            term = _grads(out, inputs, u, True, strict, "jvp")
            grads_in = [t if a is None else a + t for a, t in zip(grads_in, term)]
        jv = []
        for u in dummies:
            total = sum((g * vi).sum() for g, vi in zip(grads_in, v))
            jv.extend(_grads(total, (u,), None, create_graph, strict, "jvp")
                      if isinstance(total, Tensor) else
                      [Tensor._make(np.zeros(u.shape, u.dtype), None)])
    outputs = outputs if create_graph else tuple(o.detach() for o in outputs)
    return _finish(outputs, (out_tuple,)), _finish(tuple(jv), (out_tuple,))


def _scalar_grad(func, inputs, strict):
    out_tuple, outputs = _as_tuple(func(*inputs), "outputs of func")
    if out_tuple or outputs[0].size != 1:
        raise RuntimeError("The function given to hvp/vhp should return a single Tensor with a "
                           "single element.")
    (out,) = outputs
    return out, _grads(out, inputs, None, True, strict, "gradient")


def vhp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """`(func(*inputs), v^T H)` for a function with a single-element output."""
    _check_func(func, "vhp")
    in_tuple, inputs = _as_tuple(inputs, "inputs")
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        v = _check_v(_default_v(v, inputs), inputs, "v")
        out, g = _scalar_grad(func, inputs, strict)
        total = sum((gi * vi).sum() for gi, vi in zip(g, v))
        result = _grads(total, inputs, None, create_graph, strict, "vhp")
    out = out if create_graph else out.detach()
    return out, _finish(tuple(result), (in_tuple,))


def hvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """`(func(*inputs), H v)` for a function with a single-element output."""
    _check_func(func, "hvp")
    in_tuple, inputs = _as_tuple(inputs, "inputs")
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        v = _check_v(_default_v(v, inputs), inputs, "v")
        out, g = _scalar_grad(func, inputs, strict)
        # H v = d/du [ (d/dx <g(x), u>) . v ]  (PyTorch's double-backward; exact when H is not
        # symmetric, e.g. for non-smooth f).
        dummies = tuple(Tensor(np.zeros(x.shape, x.dtype), requires_grad=True) for x in inputs)
        inner = sum((gi * ui).sum() for gi, ui in zip(g, dummies))
        double = _grads(inner, inputs, None, True, strict, "hvp")
        total = sum((di * vi).sum() for di, vi in zip(double, v))
        result = _grads(total, dummies, None, create_graph, strict, "hvp")
    out = out if create_graph else out.detach()
    return out, _finish(tuple(result), (in_tuple,))


def _default_v(v, inputs):
    if v is None:
        if any(x.size != 1 for x in inputs):
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        return tuple(Tensor._make(np.ones(x.shape, x.dtype), None) for x in inputs)
    return v
