"""Random straight-line programs over autodx's ops, for the differential fuzzer (test_fuzz.py).

A program is a list of steps `v_k = op(args, **params)` over one or two inputs and constants.
`OPS` is the vocabulary, one `Op` per entry: a NumPy-API function of a namespace that autodx
(`autodx.numpy`), JAX (`jax.numpy`) and the NumPy reference all run, its PyTorch spelling, the
source template `Program.to_source` prints, the arity, the shape rule (which first arguments
it applies to, which partners it pairs with, which params it draws) and the domain (a
predicate on concrete NumPy values). Programs are drawn with their input values known, so
every step is checked against its domain on the real values of every vmap batch member (away
from kinks, ties, poles and branch cuts by a margin); a rejected step is redrawn.

To add an op: one `Op(...)` in the table below; test_fuzz.py's `test_each_op` picks it up.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np
import torch
from hypothesis import reject
from hypothesis.extra import numpy as hnp

import autodx.numpy as anp
from autodx.scipy import special as asp
from op_spec import DOMAINS

jax.config.update("jax_enable_x64", True)

BATCH = 3  # vmap batch size; the program's base point is batch member 0
MAX_STEPS = 6
MAX_SIZE = 24  # elements of any value (per batch member)
MAX_NDIM = 4
MAX_INPUT_SIZE = 12
MAX_ABS = 1e3  # every value stays this small (no overflow, no huge derivatives)
MARGIN = 1e-3  # distance kept from kinks and ties
MAX_COND = 30.0  # condition number of the matrices given to solve, inv, det, qr, pinv, ...
ATTEMPTS = 8  # draws of a step before falling back to tanh



# ----------------------------------------------------------------------------- namespaces


class _NumpySpecial:
    """The scipy.special functions the table uses, in NumPy (scipy is not a dependency)."""

    @staticmethod
    def logsumexp(a, axis=None, keepdims=False):
        m = np.max(a, axis=axis, keepdims=True)
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
        return out if keepdims else np.sum(out, axis=axis)  # drops the reduced (size-1) axes

    @staticmethod
    def expit(x):
        return 1.0 / (1.0 + np.exp(-x))

    @staticmethod
    def logit(x):
        return np.log(x / (1.0 - x))

    @staticmethod
    def xlogy(x, y):
        return x * np.log(y)

    @staticmethod
    def softmax(x, axis=None):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return e / np.sum(e, axis=axis, keepdims=True)

    @staticmethod
    def log_softmax(x, axis=None):
        return np.log(_NumpySpecial.softmax(x, axis))


@dataclass(frozen=True)
class Namespace:
    """What an op's `fn` receives: the NumPy API (`np`), scipy.special (`sp`), linalg (`la`),
    and the names the printed source gives them."""
    np: Any
    sp: Any
    la: Any
    names: dict = field(hash=False, compare=False)


NUMPY = Namespace(np, _NumpySpecial, np.linalg, {"np": "np", "sp": "sp", "la": "np.linalg"})
AUTODX = Namespace(anp, asp, anp.linalg, {"np": "anp", "sp": "asp", "la": "anp.linalg"})
JAX = Namespace(jnp, jsp, jnp.linalg, {"np": "jnp", "sp": "jsp", "la": "jnp.linalg"})


# ----------------------------------------------------------------------------- source literals


def lit(v) -> str:
    """Python source for a param or constant (floats by repr: they round-trip exactly)."""
    if isinstance(v, np.ndarray):
        return f"np.array({v.tolist()!r})"
    if isinstance(v, tuple):
        return "(" + ", ".join(lit(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    return repr(v)


def _index_source(index: tuple) -> str:
    def item(i):
        if i is Ellipsis:
            return "..."
        if isinstance(i, slice):
            parts = ["" if p is None else str(p) for p in (i.start, i.stop, i.step)]
            return ":".join(parts[:2]) + (f":{parts[2]}" if i.step is not None else "")
        return lit(i)
    return ", ".join(item(i) for i in index)


def _render(params: dict) -> dict:
    return {k: _index_source(v) if k == "index" else lit(v) for k, v in params.items()}


# ----------------------------------------------------------------------------- the Op record


def _anywhere(*arrays, **params) -> bool:
    return True


def _any_shape(shape) -> bool:
    return True


def _no_params(draw, shapes) -> dict:
    return {}


def _broadcast(sa, sb):
    try:
        return np.broadcast_shapes(sa, sb)
    except ValueError:
        return None


def _broadcastable(sa, sb) -> bool:
    out = _broadcast(sa, sb)
    return out is not None and math.prod(out) <= MAX_SIZE and len(out) <= MAX_NDIM


def _broadcast_partner(draw, sa):
    """A shape that broadcasts against `sa`: trailing axes of it, some set to 1, maybe an
    extra leading axis."""
    k = draw(st.integers(0, len(sa)))
    shape = tuple(1 if draw(st.booleans()) else n for n in sa[len(sa) - k:])
    if len(sa) < 3 and draw(st.integers(0, 3)) == 0:
        shape = (draw(st.integers(1, 2)),) + shape
    return shape


@dataclass(frozen=True, eq=False)
class Op:
    name: str
    family: str
    arity: int
    fn: Callable  # (ns, *arrays, **params): autodx, JAX and the NumPy reference alike
    torch: Callable  # (*tensors, **params)
    source: str  # {0}, {1}: the arguments; {np}, {sp}, {la}: the namespace; params by name
    domain: Callable = _anywhere  # (*arrays, **params) -> bool, on NumPy values
    applies: Callable = _any_shape  # shape of the first argument -> bool
    params: Callable = _no_params  # (draw, shapes) -> dict, or None when none fits
    pair: Callable = _broadcastable  # (shape, shape) -> bool: may these be the two arguments
    partner: Callable = _broadcast_partner  # (draw, shape) -> shape of a constant partner
    partner_domain: str = "real"  # op_spec.DOMAINS entry that constant partners are drawn from

    def __repr__(self):
        return f"Op({self.name})"


# ----------------------------------------------------------------------------- domains


def _gt(m):
    return lambda x, **_: bool(np.all(x > m))


def _abs_gt(m):
    return lambda x, **_: bool(np.all(np.abs(x) > m))


def _abs_lt(m):
    return lambda x, **_: bool(np.all(np.abs(x) < m))


def _off_integers(x, **_):
    return bool(np.all(np.abs(x - np.round(x)) > MARGIN))


def _norm_axes(axis, ndim) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in ((axis,) if isinstance(axis, int) else axis))


def _groups(x, axis):
    """The reduced groups of `x` as rows of a 2-D array."""
    axes = _norm_axes(axis, x.ndim)
    rest = [d for d in range(x.ndim) if d not in axes]
    y = np.transpose(x, rest + list(axes))
    return y.reshape(math.prod(x.shape[d] for d in rest), -1)


def _top_gap(x, axis, largest):
    """The gap between the two largest (smallest) entries of every group: no ties."""
    g = np.sort(_groups(x, axis), axis=1)
    if g.shape[1] < 2:
        return True
    gap = g[:, -1] - g[:, -2] if largest else g[:, 1] - g[:, 0]
    return bool(np.all(gap > MARGIN))


def _well_conditioned(a, *_, **__):
    """Condition number below MAX_COND (for a tall matrix: full column rank, well so)."""
    return bool(np.all(np.linalg.cond(a) < MAX_COND))


def _distinct_eigenvalues(a, **_):
    w = np.linalg.eigvalsh(_np_gram(a))
    return bool(np.all(np.diff(w, axis=-1) > 0.05))


def _np_gram(a):
    return a @ np.swapaxes(a, -1, -2) / a.shape[-1] + np.eye(a.shape[-2])


# ----------------------------------------------------------------------------- elementwise

def _cbrt_torch(x):
    return torch.sign(x) * torch.abs(x) ** (1.0 / 3.0)


def _unary(name, torch_fn, domain=_anywhere, source=None, fn=None, family="elementwise"):
    fn = fn or (lambda ns, x: getattr(ns.np, name)(x))
    return Op(name, family, 1, fn, torch_fn, source or f"{{np}}.{name}({{0}})", domain=domain)


def _binary(name, torch_fn, domain=_anywhere, source=None, fn=None, partner_domain="real"):
    fn = fn or (lambda ns, x, y: getattr(ns.np, name)(x, y))
    return Op(name, "elementwise", 2, fn, torch_fn, source or f"{{np}}.{name}({{0}}, {{1}})",
              domain=domain, partner_domain=partner_domain)


def _arctan2_domain(y, x, **_):
    """Away from the origin and from the branch cut (x < 0, y = 0), where the value jumps."""
    return bool(np.all((np.abs(y) > 0.05) | (x > 0.05)))


def _where_params(draw, shapes):
    shape = np.broadcast_shapes(*shapes)
    return {"mask": draw(hnp.arrays(np.bool_, shape))}


def _nd(k):
    return lambda shape: len(shape) >= k


def _signed(draw, a, ndim):
    return a - ndim if draw(st.booleans()) else a


def _int_axis(draw, shape) -> dict:
    """{"axis": an int axis of `shape`, maybe negative}."""
    return {"axis": _signed(draw, draw(st.integers(0, len(shape) - 1)), len(shape))}


ELEMENTWISE = [
    _unary("negative", torch.negative),
    _unary("sin", torch.sin),
    _unary("cos", torch.cos),
    _unary("tanh", torch.tanh),
    _unary("exp", torch.exp),
    _unary("arctan", torch.arctan),
    _unary("sinh", torch.sinh),
    _unary("cosh", torch.cosh),
    _unary("arcsinh", torch.arcsinh),
    _unary("square", torch.square),
    _unary("expm1", torch.expm1),
    _unary("exp2", torch.exp2),
    _unary("log", torch.log, _gt(0.1)),
    _unary("log2", torch.log2, _gt(0.1)),
    _unary("log10", torch.log10, _gt(0.1)),
    _unary("log1p", torch.log1p, _gt(-0.9)),
    _unary("sqrt", torch.sqrt, _gt(0.1)),
    _unary("cbrt", _cbrt_torch, _abs_gt(0.1)),
    _unary("reciprocal", torch.reciprocal, _abs_gt(0.2)),
    _unary("abs", torch.abs, _abs_gt(MARGIN)),
    _unary("tan", torch.tan, _abs_lt(1.2)),
    _unary("arcsin", torch.arcsin, _abs_lt(0.95)),
    _unary("arccos", torch.arccos, _abs_lt(0.95)),
    _unary("arctanh", torch.arctanh, _abs_lt(0.9)),
    _unary("arccosh", torch.arccosh, _gt(1.1)),
    # |x| < 12: deeper in the tails JAX's and PyTorch's derivative s (1 - s) loses digits to
    # the cancellation in 1 - s (2e-5 of it at x = 26.8), where autodx's is exact
    _unary("expit", torch.sigmoid, _abs_lt(12.0), fn=lambda ns, x: ns.sp.expit(x),
           source="{sp}.expit({0})"),
    _unary("x ** 3", lambda x: x**3, fn=lambda ns, x: x**3, source="{0} ** 3"),
    _unary("x ** 0.5", lambda x: x**0.5, _gt(0.1), fn=lambda ns, x: x**0.5,
           source="{0} ** 0.5"),
    _unary("2.0 ** x", lambda x: 2.0**x, fn=lambda ns, x: 2.0**x, source="2.0 ** {0}"),
    _unary("2.5 * x - 1", lambda x: 2.5 * x - 1, fn=lambda ns, x: 2.5 * x - 1,
           source="2.5 * {0} - 1"),
    _unary("1.0 / x", lambda x: 1.0 / x, _abs_gt(0.2), fn=lambda ns, x: 1.0 / x,
           source="1.0 / {0}"),
    _unary("clip", lambda x: torch.clamp(x, -0.5, 0.8),
           lambda x, **_: bool(np.all((np.abs(x + 0.5) > MARGIN) & (np.abs(x - 0.8) > MARGIN))),
           fn=lambda ns, x: ns.np.clip(x, -0.5, 0.8), source="{np}.clip({0}, -0.5, 0.8)"),
    _unary("sign * x", lambda x: torch.sign(x) * x, _abs_gt(MARGIN),
           fn=lambda ns, x: ns.np.sign(x) * x, source="{np}.sign({0}) * {0}"),
    _unary("floor + x", lambda x: torch.floor(x) + x, _off_integers,
           fn=lambda ns, x: ns.np.floor(x) + x, source="{np}.floor({0}) + {0}"),
    _unary("floor", torch.floor, _off_integers),
    _unary("ceil", torch.ceil, _off_integers),
    _unary("sign", torch.sign, _abs_gt(MARGIN)),
    _unary("relu", torch.relu, _abs_gt(MARGIN), fn=lambda ns, x: ns.np.maximum(x, 0.0),
           source="{np}.maximum({0}, 0.0)"),
    _unary("logit", torch.logit, lambda x, **_: bool(np.all((x > 0.05) & (x < 0.95))),
           fn=lambda ns, x: ns.sp.logit(x), source="{sp}.logit({0})"),
    Op("softmax", "elementwise", 1, lambda ns, x, axis: ns.sp.softmax(x, axis=axis),
       lambda x, axis: torch.softmax(x, dim=axis), "{sp}.softmax({0}, axis={axis})",
       applies=_nd(1), params=lambda draw, shapes: _int_axis(draw, shapes[0])),
    Op("log_softmax", "elementwise", 1, lambda ns, x, axis: ns.sp.log_softmax(x, axis=axis),
       lambda x, axis: torch.log_softmax(x, dim=axis), "{sp}.log_softmax({0}, axis={axis})",
       applies=_nd(1), params=lambda draw, shapes: _int_axis(draw, shapes[0])),
    _binary("add", torch.add),
    _binary("subtract", torch.subtract),
    _binary("multiply", torch.multiply),
    _binary("divide", torch.divide, lambda x, y, **_: bool(np.all(np.abs(y) > 0.2)),
            partner_domain="nonzero"),
    _binary("x * y", lambda x, y: x * y, fn=lambda ns, x, y: x * y, source="{0} * {1}"),
    _binary("x - y", lambda x, y: x - y, fn=lambda ns, x, y: x - y, source="{0} - {1}"),
    _binary("x / y", lambda x, y: x / y, lambda x, y, **_: bool(np.all(np.abs(y) > 0.2)),
            fn=lambda ns, x, y: x / y, source="{0} / {1}", partner_domain="nonzero"),
    _binary("power", torch.pow, lambda x, y, **_: bool(np.all(x > 0.2)),
            partner_domain="positive"),
    _binary("maximum", torch.maximum, lambda x, y, **_: bool(np.all(np.abs(x - y) > MARGIN))),
    _binary("minimum", torch.minimum, lambda x, y, **_: bool(np.all(np.abs(x - y) > MARGIN))),
    _binary("arctan2", torch.arctan2, _arctan2_domain),
    _binary("hypot", torch.hypot, lambda x, y, **_: bool(np.all(x * x + y * y > 0.01))),
    _binary("logaddexp", torch.logaddexp),
    _binary("xlogy", torch.xlogy, lambda x, y, **_: bool(np.all(y > 0.1)),
            fn=lambda ns, x, y: ns.sp.xlogy(x, y), source="{sp}.xlogy({0}, {1})",
            partner_domain="positive"),
    _binary("where(x > 0.3, x, y)", lambda x, y: torch.where(x > 0.3, x, y),
            lambda x, y, **_: bool(np.all(np.abs(x - 0.3) > MARGIN)),
            fn=lambda ns, x, y: ns.np.where(x > 0.3, x, y),
            source="{np}.where({0} > 0.3, {0}, {1})"),
    Op("where", "elementwise", 2, lambda ns, x, y, mask: ns.np.where(mask, x, y),
       lambda x, y, mask: torch.where(torch.as_tensor(mask), x, y),
       "{np}.where({mask}, {0}, {1})", params=_where_params),
]


# ----------------------------------------------------------------------------- reductions


def _draw_axis(draw, ndim, tuples=True):
    """None, an int (maybe negative) or a tuple of distinct axes (in any order, maybe
    negative); NumPy's `axis` argument."""
    kinds = ["none"] + (["int"] + (["tuple"] if tuples else []) if ndim else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if kind == "int":
        a = draw(st.integers(0, ndim - 1))
        return a - ndim if draw(st.booleans()) else a
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in axes)


def _reduce_params(ddof=False):
    def params(draw, shapes):
        (shape,) = shapes
        out = {"axis": _draw_axis(draw, len(shape)), "keepdims": draw(st.booleans())}
        if ddof:
            out["ddof"] = draw(st.sampled_from([0, 1]))
            n = math.prod(shape[a] for a in _norm_axes(out["axis"], len(shape)))
            if n <= out["ddof"]:
                return None
        return out
    return params


def _dims(x, axis) -> tuple:
    return _norm_axes(axis, x.ndim)


def _t_prod(x, axis, keepdims):
    dims = _dims(x, axis)
    for d in sorted(dims, reverse=True):
        x = torch.prod(x, dim=d, keepdim=True)
    return x.squeeze(dims) if dims and not keepdims else x


def _t_var(x, axis, keepdims, ddof, std=False):
    dims = _dims(x, axis)
    if not dims:
        return x * 0.0
    f = torch.std if std else torch.var
    return f(x, dim=dims, correction=ddof, keepdim=keepdims)


def _reduction(name, torch_fn, domain=_anywhere, ddof=False, fn=None, source=None):
    extra = ", ddof={ddof}" if ddof else ""
    if fn is None:
        def fn(ns, x, **kw):
            return getattr(ns.np, name)(x, **kw)
    return Op(name, "reduce", 1, fn, torch_fn,
              source or f"{{np}}.{name}({{0}}, axis={{axis}}, keepdims={{keepdims}}{extra})",
              domain=domain, params=_reduce_params(ddof))


def _t_reduce(f):
    return lambda x, axis, keepdims: f(x, dim=_dims(x, axis), keepdim=keepdims)


def _std_domain(x, axis, ddof, **_):
    g = _groups(x, axis)
    return bool(np.all(np.var(g, axis=1, ddof=ddof) > 1e-3))


def _cum_params(draw, shapes):
    return {"axis": _draw_axis(draw, len(shapes[0]), tuples=False)}


def _t_cum(f):
    def run(x, axis):
        return f(x.reshape(-1), 0) if axis is None else f(x, axis)
    return run


REDUCE = [
    _reduction("sum", _t_reduce(torch.sum)),
    _reduction("mean", _t_reduce(torch.mean)),
    _reduction("prod", _t_prod),
    _reduction("max", _t_reduce(torch.amax),
               lambda x, axis, keepdims: _top_gap(x, axis, largest=True)),
    _reduction("min", _t_reduce(torch.amin),
               lambda x, axis, keepdims: _top_gap(x, axis, largest=False)),
    _reduction("var", _t_var, ddof=True),
    _reduction("std", lambda x, axis, keepdims, ddof: _t_var(x, axis, keepdims, ddof, std=True),
               _std_domain, ddof=True),
    _reduction("logsumexp", _t_reduce(torch.logsumexp),
               fn=lambda ns, x, axis, keepdims: ns.sp.logsumexp(x, axis=axis, keepdims=keepdims),
               source="{sp}.logsumexp({0}, axis={axis}, keepdims={keepdims})"),
    Op("cumsum", "reduce", 1, lambda ns, x, axis: ns.np.cumsum(x, axis=axis),
       _t_cum(torch.cumsum), "{np}.cumsum({0}, axis={axis})", params=_cum_params),
    Op("cumprod", "reduce", 1, lambda ns, x, axis: ns.np.cumprod(x, axis=axis),
       _t_cum(torch.cumprod), "{np}.cumprod({0}, axis={axis})", params=_cum_params),
]


# ----------------------------------------------------------------------------- shape ops


def _reshape_params(draw, shapes):
    n = math.prod(shapes[0])
    k = draw(st.integers(0 if n == 1 else 1, 3))
    dims, rest = [], n
    for _ in range(k - 1):
        d = draw(st.sampled_from([d for d in range(1, rest + 1) if rest % d == 0]))
        dims.append(d)
        rest //= d
    if k:
        dims.append(rest)
        if draw(st.booleans()):
            dims[draw(st.integers(0, k - 1))] = -1
    return {"shape": tuple(dims)}


def _transpose_params(draw, shapes):
    ndim = len(shapes[0])
    if draw(st.booleans()):
        return {"axes": None}
    return {"axes": tuple(_signed(draw, a, ndim) for a in draw(st.permutations(range(ndim))))}


def _t_transpose(x, axes):
    return x.permute(*(reversed(range(x.ndim)) if axes is None else axes))


def _swap_params(draw, shapes):
    ndim = len(shapes[0])
    return {"a": _signed(draw, draw(st.integers(0, ndim - 1)), ndim),
            "b": _signed(draw, draw(st.integers(0, ndim - 1)), ndim)}


def _expand_params(draw, shapes):
    ndim = len(shapes[0])
    if ndim >= MAX_NDIM:
        return None
    return {"axis": _signed(draw, draw(st.integers(0, ndim)), ndim + 1)}


def _squeeze_params(draw, shapes):
    (shape,) = shapes
    ones = [d for d, n in enumerate(shape) if n == 1]
    kind = draw(st.sampled_from(["none", "int", "tuple"] if ones else ["none"]))
    if kind == "none":
        return {"axis": None}
    if kind == "int":
        return {"axis": _signed(draw, draw(st.sampled_from(ones)), len(shape))}
    axes = draw(st.lists(st.sampled_from(ones), min_size=1, unique=True))
    return {"axis": tuple(_signed(draw, a, len(shape)) for a in axes)}


def _t_squeeze(x, axis):
    return torch.squeeze(x) if axis is None else torch.squeeze(x, dim=axis)


def _broadcast_to_params(draw, shapes):
    (shape,) = shapes
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=MAX_NDIM - len(shape))))
    target = lead[:2] + tuple(draw(st.integers(1, 3)) if n == 1 else n for n in shape)
    if math.prod(target) > MAX_SIZE:
        return None
    return {"shape": target}


def _concat_pair(sa, sb):
    return (len(sa) == len(sb) >= 1 and sum(a != b for a, b in zip(sa, sb)) <= 1
            and math.prod(sa) + math.prod(sb) <= MAX_SIZE)


def _concat_partner(draw, sa):
    d = draw(st.integers(0, len(sa) - 1))
    return sa[:d] + (draw(st.integers(1, 3)),) + sa[d + 1:]


def _concat_params(draw, shapes):
    sa, sb = shapes
    differ = [d for d, (a, b) in enumerate(zip(sa, sb)) if a != b]
    d = differ[0] if differ else draw(st.integers(0, len(sa) - 1))
    return {"axis": _signed(draw, d, len(sa))}


def _stack_params(draw, shapes):
    ndim = len(shapes[0])
    if ndim >= MAX_NDIM:
        return None
    return {"axis": _signed(draw, draw(st.integers(0, ndim)), ndim + 1)}


def _flip_params(draw, shapes):
    return {"axis": _draw_axis(draw, len(shapes[0]))}


def _moveaxis_params(draw, shapes):
    ndim = len(shapes[0])
    k = draw(st.integers(1, ndim))
    src = draw(st.permutations(range(ndim)))[:k]
    dst = draw(st.permutations(range(ndim)))[:k]
    src = tuple(_signed(draw, a, ndim) for a in src)
    dst = tuple(_signed(draw, a, ndim) for a in dst)
    return {"source": src[0], "destination": dst[0]} if k == 1 and draw(st.booleans()) else \
        {"source": src, "destination": dst}


def _tile_params(draw, shapes):
    reps = tuple(draw(st.lists(st.integers(1, 2), min_size=1, max_size=2)))
    shape = shapes[0]
    n = max(len(reps), len(shape))
    if n > MAX_NDIM or math.prod(shape) * math.prod(reps) > MAX_SIZE:
        return None
    return {"reps": reps}


def _repeat_params(draw, shapes):
    shape = shapes[0]
    r = draw(st.integers(1, 3))
    if math.prod(shape) * r > MAX_SIZE:
        return None
    return {"repeats": r, "axis": _draw_axis(draw, len(shape), tuples=False)}


def _t_repeat(x, repeats, axis):
    return torch.repeat_interleave(x, repeats, dim=axis)


def _t_roll(x, shift, axis):
    # NOTE: not torch.roll(x, shift, None): torch.func.vmap then rolls the flattened batch
    # too (torch 2.13: vmap(lambda x: torch.roll(x, 1))(torch.arange(3.)) is [2, 0, 1], where
    # each 0-d example should come back unchanged)
    if axis is None:
        return torch.roll(x.reshape(-1), shift, 0).reshape(x.shape)
    return torch.roll(x, shift, axis)


def _diff_params(draw, shapes):
    axis = _int_axis(draw, shapes[0])["axis"]
    n = draw(st.integers(1, 2))
    return {"n": n, "axis": axis} if shapes[0][axis] > n else None


def _pad_params(draw, shapes):
    widths = tuple((draw(st.integers(0, 1)), draw(st.integers(0, 1))) for _ in shapes[0])
    size = math.prod(n + a + b for n, (a, b) in zip(shapes[0], widths))
    return {"widths": widths} if size <= MAX_SIZE else None


def _t_pad(x, widths):
    flat = [w for pair in reversed(widths) for w in pair]  # torch: the last axis first
    return torch.nn.functional.pad(x, flat)


def _no_ties_along(x, axis):
    s = np.sort(x, axis=axis)
    return bool(np.all(np.diff(s, axis=axis) > MARGIN)) if x.shape[axis] > 1 else True


SHAPE = [
    Op("reshape", "shape", 1, lambda ns, x, shape: ns.np.reshape(x, shape),
       lambda x, shape: x.reshape(shape), "{np}.reshape({0}, {shape})", params=_reshape_params),
    Op("transpose", "shape", 1, lambda ns, x, axes: ns.np.transpose(x, axes), _t_transpose,
       "{np}.transpose({0}, {axes})", applies=_nd(1), params=_transpose_params),
    Op("x.T", "shape", 1, lambda ns, x: x.T, lambda x: _t_transpose(x, None), "{0}.T",
       applies=_nd(1)),
    Op("swapaxes", "shape", 1, lambda ns, x, a, b: ns.np.swapaxes(x, a, b),
       lambda x, a, b: torch.swapaxes(x, a, b), "{np}.swapaxes({0}, {a}, {b})",
       applies=_nd(1), params=_swap_params),
    Op("expand_dims", "shape", 1, lambda ns, x, axis: ns.np.expand_dims(x, axis),
       lambda x, axis: torch.unsqueeze(x, axis), "{np}.expand_dims({0}, {axis})",
       params=_expand_params),
    Op("squeeze", "shape", 1, lambda ns, x, axis: ns.np.squeeze(x, axis), _t_squeeze,
       "{np}.squeeze({0}, {axis})", params=_squeeze_params),
    Op("broadcast_to", "shape", 1, lambda ns, x, shape: ns.np.broadcast_to(x, shape),
       lambda x, shape: torch.broadcast_to(x, shape), "{np}.broadcast_to({0}, {shape})",
       params=_broadcast_to_params),
    Op("ravel", "shape", 1, lambda ns, x: ns.np.ravel(x), lambda x: x.reshape(-1),
       "{np}.ravel({0})"),
    Op("flip", "shape", 1, lambda ns, x, axis: ns.np.flip(x, axis),
       lambda x, axis: torch.flip(x, _dims(x, axis)), "{np}.flip({0}, {axis})",
       applies=_nd(1), params=_flip_params),
    Op("moveaxis", "shape", 1,
       lambda ns, x, source, destination: ns.np.moveaxis(x, source, destination),
       lambda x, source, destination: torch.movedim(x, source, destination),
       "{np}.moveaxis({0}, {source}, {destination})", applies=_nd(1), params=_moveaxis_params),
    Op("tile", "shape", 1, lambda ns, x, reps: ns.np.tile(x, reps),
       lambda x, reps: torch.tile(x, reps), "{np}.tile({0}, {reps})", params=_tile_params),
    Op("repeat", "shape", 1, lambda ns, x, repeats, axis: ns.np.repeat(x, repeats, axis),
       _t_repeat, "{np}.repeat({0}, {repeats}, axis={axis})", params=_repeat_params),
    Op("roll", "shape", 1, lambda ns, x, shift, axis: ns.np.roll(x, shift, axis),
       _t_roll, "{np}.roll({0}, {shift}, {axis})",
       params=lambda draw, shapes: {"shift": draw(st.integers(-3, 3)),
                                    "axis": _draw_axis(draw, len(shapes[0]), tuples=False)}),
    Op("diff", "shape", 1, lambda ns, x, n, axis: ns.np.diff(x, n, axis),
       lambda x, n, axis: torch.diff(x, n, axis), "{np}.diff({0}, {n}, {axis})",
       applies=_nd(1), params=_diff_params),
    Op("tril", "shape", 1, lambda ns, x, k: ns.np.tril(x, k),
       lambda x, k: torch.tril(x, k), "{np}.tril({0}, {k})", applies=_nd(2),
       params=lambda draw, shapes: {"k": draw(st.integers(-2, 2))}),
    Op("triu", "shape", 1, lambda ns, x, k: ns.np.triu(x, k),
       lambda x, k: torch.triu(x, k), "{np}.triu({0}, {k})", applies=_nd(2),
       params=lambda draw, shapes: {"k": draw(st.integers(-2, 2))}),
    Op("pad", "shape", 1, lambda ns, x, widths: ns.np.pad(x, widths), _t_pad,
       "{np}.pad({0}, {widths})", applies=_nd(1), params=_pad_params),
    Op("sort", "shape", 1, lambda ns, x, axis: ns.np.sort(x, axis),
       lambda x, axis: torch.sort(x, dim=axis).values, "{np}.sort({0}, {axis})",
       domain=lambda x, axis: _no_ties_along(x, axis), applies=_nd(1),
       params=lambda draw, shapes: _int_axis(draw, shapes[0])),
    Op("concatenate", "shape", 2, lambda ns, x, y, axis: ns.np.concatenate([x, y], axis=axis),
       lambda x, y, axis: torch.cat([x, y], dim=axis), "{np}.concatenate([{0}, {1}], axis={axis})",
       applies=_nd(1), params=_concat_params, pair=_concat_pair, partner=_concat_partner),
    Op("stack", "shape", 2, lambda ns, x, y, axis: ns.np.stack([x, y], axis=axis),
       lambda x, y, axis: torch.stack([x, y], dim=axis), "{np}.stack([{0}, {1}], axis={axis})",
       params=_stack_params, pair=lambda sa, sb: sa == sb and 2 * math.prod(sa) <= MAX_SIZE,
       partner=lambda draw, sa: sa),
]


# ----------------------------------------------------------------------------- indexing


def _slice(draw, n):
    bound = st.one_of(st.none(), st.integers(-n - 1, n + 1))
    return slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, -1, -2])))


def _index_params(draw, shapes):
    """Basic indexing (ints, slices with any step, None, a leading Ellipsis) or slices with
    one integer array (repeats and negatives allowed). An int beside an array is an advanced
    index too (NumPy then moves the result axes), so arrays come with slices only."""
    (shape,) = shapes
    ndim = len(shape)
    k = draw(st.integers(1, ndim))
    ellipsis = k < ndim and draw(st.booleans())
    axes = list(range(ndim - k, ndim) if ellipsis else range(k))
    array_at = draw(st.sampled_from(axes)) if draw(st.booleans()) else None
    items = []
    for d in axes:
        n = shape[d]
        if d == array_at:
            items.append(np.array(draw(st.lists(st.integers(-n, n - 1), min_size=1,
                                                max_size=4))))
            continue
        kind = draw(st.sampled_from(["full", "slice"] + ([] if array_at is not None else ["int"])))
        items.append(slice(None) if kind == "full" else _slice(draw, n) if kind == "slice"
                     else draw(st.integers(-n, n - 1)))
    if ellipsis:
        items.insert(0, Ellipsis)
    if array_at is None and draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), None)
    index = tuple(items)
    return {"index": index} if np.zeros(shape)[index].size else None


def _t_index(x, index):
    """NumPy's indexing in torch (no negative steps there): one axis at a time, from the
    last, then the None axes by a reshape."""
    shape = np.zeros(tuple(x.shape))[index].shape
    items = [i for i in index if i is not None]
    if items and items[0] is Ellipsis:
        items = [slice(None)] * (x.ndim - len(items) + 1) + items[1:]
    for d in reversed(range(len(items))):
        i, n = items[d], x.shape[d]
        if isinstance(i, int):
            x = x.select(d, i)
        else:
            idx = np.arange(n)[i] if isinstance(i, slice) else i % n
            x = x.index_select(d, torch.as_tensor(idx.copy()))  # torch takes no negative strides
    return x.reshape(shape)


def _mask_params(draw, shapes):
    mask = draw(hnp.arrays(np.bool_, shapes[0]))
    return {"mask": mask} if mask.any() else None


def _t_mask(x, mask):
    """x[mask] as a gather of the flat positions (torch.func.vmap refuses boolean masks)."""
    return x.reshape(-1).index_select(0, torch.as_tensor(np.flatnonzero(mask)))


def _diag_params(draw, shapes):
    (shape,) = shapes
    ndim = len(shape)
    a, b = draw(st.permutations(range(ndim)))[:2]
    offset = draw(st.integers(max(-2, 1 - shape[a]), min(2, shape[b] - 1)))
    return {"offset": offset, "axis1": _signed(draw, a, ndim), "axis2": _signed(draw, b, ndim)}


def _take_params(draw, shapes):
    (shape,) = shapes
    axis = _draw_axis(draw, len(shape), tuples=False)
    n = math.prod(shape) if axis is None else shape[axis]
    return {"indices": np.array(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4))),
            "axis": axis}


def _t_take(x, indices, axis):
    if axis is None:
        x, axis = x.reshape(-1), 0
    return x.index_select(axis, torch.as_tensor(indices % x.shape[axis]))


INDEX = [
    Op("index", "index", 1, lambda ns, x, index: x[index], _t_index, "{0}[{index}]",
       applies=_nd(1), params=_index_params),
    Op("mask", "index", 1, lambda ns, x, mask: x[mask], _t_mask, "{0}[{mask}]", applies=_nd(1),
       params=_mask_params),
    Op("take", "index", 1, lambda ns, x, indices, axis: ns.np.take(x, indices, axis=axis),
       _t_take, "{np}.take({0}, {indices}, axis={axis})", applies=_nd(1), params=_take_params),
    Op("diagonal", "index", 1,
       lambda ns, x, offset, axis1, axis2: ns.np.diagonal(x, offset, axis1, axis2),
       lambda x, offset, axis1, axis2: torch.diagonal(x, offset, axis1, axis2),
       "{np}.diagonal({0}, {offset}, {axis1}, {axis2})", applies=_nd(2), params=_diag_params),
    Op("trace", "index", 1,
       lambda ns, x, offset, axis1, axis2: ns.np.trace(x, offset, axis1, axis2),
       lambda x, offset, axis1, axis2: torch.diagonal(x, offset, axis1, axis2).sum(-1),
       "{np}.trace({0}, {offset}, {axis1}, {axis2})", applies=_nd(2), params=_diag_params),
]


# ----------------------------------------------------------------------------- products


def _fits(shape):
    return shape is not None and math.prod(shape) <= MAX_SIZE and len(shape) <= MAX_NDIM


def _matmul_shape(sa, sb):
    if not sa or not sb:
        return None
    try:
        return np.matmul(np.zeros(sa), np.zeros(sb)).shape
    except ValueError:
        return None


def _matmul_partner(draw, sa):
    k, m = sa[-1], draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["vector", "matrix", "batched"]))
    if kind == "vector":
        return (k,)
    return (k, m) if kind == "matrix" or len(sa) < 3 else sa[:-2] + (k, m)


def _dot_pair(sa, sb):
    return 1 <= len(sa) <= 2 and 1 <= len(sb) <= 2 and sa[-1] == sb[0] and \
        _fits(_matmul_shape(sa, sb))


def _tensordot_axes(sa, sb):
    return [k for k in range(3) if k <= min(len(sa), len(sb)) and sa[len(sa) - k:] == sb[:k]
            and _fits(sa[:len(sa) - k] + sb[k:])]


def _tensordot_partner(draw, sa):
    k = draw(st.integers(0, min(2, len(sa))))
    return sa[len(sa) - k:] + tuple(draw(st.lists(st.integers(1, 3), max_size=1)))


def _einsum_params(draw, shapes):
    """Subscripts for the operands' shapes: operand 0 may repeat a letter (a diagonal),
    operand 1 may share letters of equal size with operand 0 (contracted or batched); the
    output is any subset of the letters in any order."""
    sizes, specs = {}, []
    fresh = iter("abcdefgh")
    for i, shape in enumerate(shapes):
        spec = ""
        for n in shape:
            same = [c for c, m in sizes.items() if m == n and (c not in spec) == (i == 1)]
            if same and draw(st.integers(0, 2 if i == 0 else 1)) == 0:
                spec += draw(st.sampled_from(same))
            else:
                c = next(fresh)
                sizes[c] = n
                spec += c
        specs.append(spec)
    order = draw(st.permutations(sorted(sizes)))
    out = "".join(order[:draw(st.integers(0, len(order)))])
    if math.prod(sizes[c] for c in out) > MAX_SIZE:
        return None
    return {"spec": ",".join(specs) + "->" + out}


PRODUCTS = [
    Op("matmul", "products", 2, lambda ns, x, y: ns.np.matmul(x, y), torch.matmul,
       "{np}.matmul({0}, {1})", applies=_nd(1), pair=lambda a, b: _fits(_matmul_shape(a, b)),
       partner=_matmul_partner),
    Op("x @ y", "products", 2, lambda ns, x, y: x @ y, lambda x, y: x @ y, "{0} @ {1}",
       applies=_nd(1), pair=lambda a, b: _fits(_matmul_shape(a, b)), partner=_matmul_partner),
    Op("dot", "products", 2, lambda ns, x, y: ns.np.dot(x, y), torch.matmul,
       "{np}.dot({0}, {1})", applies=lambda s: 1 <= len(s) <= 2, pair=_dot_pair,
       partner=lambda draw, sa: (sa[-1],) + tuple(draw(st.lists(st.integers(1, 4),
                                                                max_size=1)))),
    Op("inner", "products", 2, lambda ns, x, y: ns.np.inner(x, y), torch.inner,
       "{np}.inner({0}, {1})", applies=_nd(1),
       pair=lambda a, b: len(a) >= 1 and len(b) >= 1 and a[-1] == b[-1]
       and _fits(a[:-1] + b[:-1]),
       partner=lambda draw, sa: tuple(draw(st.lists(st.integers(1, 3), max_size=1))) + sa[-1:]),
    Op("outer", "products", 2, lambda ns, x, y: ns.np.outer(x, y),
       lambda x, y: torch.outer(x.reshape(-1), y.reshape(-1)), "{np}.outer({0}, {1})",
       pair=lambda a, b: math.prod(a) * math.prod(b) <= MAX_SIZE,
       partner=lambda draw, sa: tuple(draw(st.lists(st.integers(1, 3), max_size=2)))),
    Op("tensordot", "products", 2, lambda ns, x, y, axes: ns.np.tensordot(x, y, axes),
       lambda x, y, axes: torch.tensordot(x, y, dims=axes), "{np}.tensordot({0}, {1}, {axes})",
       pair=lambda a, b: bool(_tensordot_axes(a, b)), partner=_tensordot_partner,
       params=lambda draw, shapes: {"axes": draw(st.sampled_from(_tensordot_axes(*shapes)))}),
    Op("kron", "products", 2, lambda ns, x, y: ns.np.kron(x, y), torch.kron,
       "{np}.kron({0}, {1})", pair=lambda a, b: math.prod(a) * math.prod(b) <= MAX_SIZE
       and max(len(a), len(b)) >= 1,
       partner=lambda draw, sa: tuple(draw(st.lists(st.integers(1, 3), min_size=1,
                                                    max_size=2)))),
    Op("einsum", "products", 2, lambda ns, x, y, spec: ns.np.einsum(spec, x, y),
       lambda x, y, spec: torch.einsum(spec, x, y), "{np}.einsum({spec}, {0}, {1})",
       params=_einsum_params, pair=lambda a, b: len(a) + len(b) <= 6,
       partner=lambda draw, sa: tuple(draw(st.lists(st.integers(1, 3), max_size=2)))),
    Op("einsum (one operand)", "products", 1, lambda ns, x, spec: ns.np.einsum(spec, x),
       lambda x, spec: torch.einsum(spec, x), "{np}.einsum({spec}, {0})",
       params=_einsum_params),
]


# ----------------------------------------------------------------------------- linalg


def _square(shape):
    return len(shape) in (2, 3) and shape[-1] == shape[-2]


def _matrix(shape):
    return len(shape) in (2, 3)


def _tall(shape):
    return len(shape) in (2, 3) and shape[-2] >= shape[-1]


def _distinct_singular_values(a, **_):
    """Singular values apart and away from 0 (where svdvals has no derivative)."""
    s = np.linalg.svd(a, compute_uv=False)
    return bool(np.all(s > 0.05) and np.all(-np.diff(s, axis=-1) > 0.05))


def _solve_pair(sa, sb):
    if not _square(sa):
        return False
    n = sa[-1]
    return (len(sa) == 2 and sb == (n,)) or (len(sb) == len(sa) and sb[:-2] == sa[:-2]
                                             and sb[-2] == n and _fits(sb))


def _solve_partner(draw, sa):
    n = sa[-1]
    if len(sa) == 2 and draw(st.booleans()):
        return (n,)
    return sa[:-1] + (draw(st.integers(1, 3)),)


def _gram(ns, x):
    return ns.np.matmul(x, ns.np.swapaxes(x, -1, -2)) / x.shape[-1] + ns.np.eye(x.shape[-2])


def _t_gram(x):
    return x @ x.mT / x.shape[-1] + torch.eye(x.shape[-2], dtype=x.dtype)


def _gram_params(draw, shapes):
    return {"k": shapes[0][-1], "n": shapes[0][-2]}


_GRAM = "{np}.matmul({0}, {np}.swapaxes({0}, -1, -2)) / {k} + {np}.eye({n})"


def _norm_params(draw, shapes):
    ndim = len(shapes[0])
    return {"axis": _draw_axis(draw, ndim, tuples=False) if ndim else None,
            "keepdims": draw(st.booleans())}


def _t_norm(x, axis, keepdims):
    return torch.linalg.vector_norm(x, dim=axis, keepdim=keepdims)


def _norm_domain(x, axis, keepdims):
    return bool(np.all(np.sqrt(np.sum(_groups(x, axis) ** 2, axis=1)) > 0.1))


LINALG = [
    Op("solve", "linalg", 2, lambda ns, a, b: ns.la.solve(a, b), torch.linalg.solve,
       "{la}.solve({0}, {1})", domain=_well_conditioned, applies=_square, pair=_solve_pair,
       partner=_solve_partner),
    Op("det", "linalg", 1, lambda ns, a: ns.la.det(a), torch.linalg.det, "{la}.det({0})",
       domain=_well_conditioned, applies=_square),
    Op("inv", "linalg", 1, lambda ns, a: ns.la.inv(a), torch.linalg.inv, "{la}.inv({0})",
       domain=_well_conditioned, applies=_square),
    Op("slogdet", "linalg", 1, lambda ns, a: ns.la.slogdet(a)[1],
       lambda a: torch.linalg.slogdet(a)[1], "{la}.slogdet({0})[1]", domain=_well_conditioned,
       applies=_square),
    Op("cholesky (of a Gram matrix)", "linalg", 1,
       lambda ns, x, k, n: ns.la.cholesky(_gram(ns, x)),
       lambda x, k, n: torch.linalg.cholesky(_t_gram(x)), "{la}.cholesky(" + _GRAM + ")",
       applies=_matrix, params=_gram_params),
    Op("eigvalsh (of a Gram matrix)", "linalg", 1,
       lambda ns, x, k, n: ns.la.eigvalsh(_gram(ns, x)),
       lambda x, k, n: torch.linalg.eigvalsh(_t_gram(x)), "{la}.eigvalsh(" + _GRAM + ")",
       domain=_distinct_eigenvalues, applies=_matrix, params=_gram_params),
    Op("svdvals", "linalg", 1, lambda ns, a: ns.la.svdvals(a), torch.linalg.svdvals,
       "{la}.svdvals({0})", domain=_distinct_singular_values, applies=_matrix),
    Op("qr (R)", "linalg", 1, lambda ns, a: ns.la.qr(a)[1], lambda a: torch.linalg.qr(a)[1],
       "{la}.qr({0})[1]", domain=_well_conditioned, applies=_tall),
    Op("qr (Q)", "linalg", 1, lambda ns, a: ns.la.qr(a)[0], lambda a: torch.linalg.qr(a)[0],
       "{la}.qr({0})[0]", domain=_well_conditioned, applies=_tall),
    Op("eigh (of a Gram matrix, squared vectors)", "linalg", 1,
       lambda ns, x, k, n: ns.la.eigh(_gram(ns, x))[1] ** 2,
       lambda x, k, n: torch.linalg.eigh(_t_gram(x))[1] ** 2, "{la}.eigh(" + _GRAM + ")[1] ** 2",
       domain=_distinct_eigenvalues, applies=_matrix, params=_gram_params),
    Op("pinv", "linalg", 1, lambda ns, a: ns.la.pinv(a), torch.linalg.pinv, "{la}.pinv({0})",
       domain=_well_conditioned, applies=_tall),
    Op("matrix_power", "linalg", 1, lambda ns, a, n: ns.la.matrix_power(a, n),
       lambda a, n: torch.linalg.matrix_power(a, n), "{la}.matrix_power({0}, {n})",
       domain=_well_conditioned, applies=_square,
       params=lambda draw, shapes: {"n": draw(st.sampled_from([2, 3, 0, 1, -1, -2]))}),
    Op("norm", "linalg", 1, lambda ns, x, axis, keepdims: ns.la.norm(x, axis=axis,
                                                                    keepdims=keepdims),
       _t_norm, "{la}.norm({0}, axis={axis}, keepdims={keepdims})", domain=_norm_domain,
       params=_norm_params),
]

# ----------------------------------------------------------------------------- complex, fft
# Real in, real out: a complex intermediate inside one step, seen through a real projection.


def _fft_params(draw, shapes):
    out = _int_axis(draw, shapes[0])
    out["n"] = draw(st.sampled_from([None, 2, 3, 5]))
    return out


def _rfft_domain(x, axis, n):
    return bool(np.all(np.abs(np.fft.rfft(x, n, axis)) > 0.05))


def _complex(name, torch_fn, source, fn, domain=_anywhere):
    return Op(name, "complex", 2, fn, torch_fn, source, domain=domain)


def _fft(name, torch_fn, source, fn, domain=_anywhere):
    return Op(name, "complex", 1, fn, torch_fn, source, domain=domain, applies=_nd(1),
              params=_fft_params)


COMPLEX = [
    _fft("real(fft)", lambda x, axis, n: torch.fft.fft(x, n, axis).real,
         "{np}.real({np}.fft.fft({0}, {n}, {axis}))",
         lambda ns, x, axis, n: ns.np.real(ns.np.fft.fft(x, n, axis))),
    _fft("imag(ifft)", lambda x, axis, n: _t_imag(torch.fft.ifft(x, n, axis)),
         "{np}.imag({np}.fft.ifft({0}, {n}, {axis}))",
         lambda ns, x, axis, n: ns.np.imag(ns.np.fft.ifft(x, n, axis))),
    _fft("abs(rfft)", lambda x, axis, n: torch.fft.rfft(x, n, axis).abs(),
         "{np}.abs({np}.fft.rfft({0}, {n}, {axis}))",
         lambda ns, x, axis, n: ns.np.abs(ns.np.fft.rfft(x, n, axis)), _rfft_domain),
    _fft("irfft", lambda x, axis, n: torch.fft.irfft(x, n, axis),
         "{np}.fft.irfft({0}, {n}, {axis})",
         lambda ns, x, axis, n: ns.np.fft.irfft(x, n, axis)),
    Op("real(fft2)", "complex", 1, lambda ns, x: ns.np.real(ns.np.fft.fft2(x)),
       lambda x: torch.fft.fft2(x).real, "{np}.real({np}.fft.fft2({0}))", applies=_nd(2)),
    _complex("abs(x + 1j y)", lambda x, y: torch.abs(x + 1j * y), "{np}.abs({0} + 1j * {1})",
             lambda ns, x, y: ns.np.abs(x + 1j * y),
             lambda x, y, **_: bool(np.all(x * x + y * y > 0.01))),
    _complex("angle(x + 1j y)", lambda x, y: torch.angle(x + 1j * y),
             "{np}.angle({0} + 1j * {1})", lambda ns, x, y: ns.np.angle(x + 1j * y),
             lambda x, y, **_: _arctan2_domain(y, x)),
    _complex("real(sqrt(x + 1j y))", lambda x, y: torch.sqrt(x + 1j * y).real,
             "{np}.real({np}.sqrt({0} + 1j * {1}))",
             lambda ns, x, y: ns.np.real(ns.np.sqrt(x + 1j * y)),
             lambda x, y, **_: _arctan2_domain(y, x)),
    _complex("real(exp(1j x) * y)", lambda x, y: (torch.exp(1j * x) * y).real,
             "{np}.real({np}.exp(1j * {0}) * {1})",
             lambda ns, x, y: ns.np.real(ns.np.exp(1j * x) * y)),
    _complex("imag(z * z * conj(z))", lambda x, y: _t_imag(_t_cubic(x + 1j * y)),
             "{np}.imag(({0} + 1j * {1}) ** 2 * {np}.conj({0} + 1j * {1}))",
             lambda ns, x, y: ns.np.imag((x + 1j * y) ** 2 * ns.np.conj(x + 1j * y))),
]


def _t_imag(z):
    """z.imag, as a real view: torch's .imag can be a lazily negated view, which .numpy() and
    torch.func's batching (no rule for aten::_neg_view) refuse."""
    return torch.view_as_real(z.resolve_conj())[..., 1]


def _t_cubic(z):
    return z**2 * torch.conj(z)


OPS: dict[str, Op] = {op.name: op for op in ELEMENTWISE + REDUCE + SHAPE + INDEX + PRODUCTS
                      + LINALG + COMPLEX}
FAMILIES = ("elementwise", "reduce", "shape", "index", "products", "linalg", "complex")
_FALLBACK = OPS["tanh"]


def menu(family: str) -> list[Op]:
    """The ops a step of a `family` program draws from: the family's, three times as often
    as the elementwise glue between them ("mixed": all alike)."""
    if family == "mixed":
        return list(OPS.values())
    own = [op for op in OPS.values() if op.family == family]
    return own if family == "elementwise" else own * 3 + ELEMENTWISE


# ----------------------------------------------------------------------------- programs


# The torch face's checks, printed into the autodx snippets and run by test_fuzz.py as they are
# (over the program's `loss`).
AUTODX_HELPERS = """\
def tensor_face(*xs):  # the torch face: .backward(), .grad
    ts = [ad.tensor(x, requires_grad=True) for x in xs]
    out = loss(*ts)
    out.backward()
    return out, [t.grad for t in ts]


def tensor_hvp(xs, vs):  # the torch face, second order: grad(create_graph=True), .backward()
    ts = [ad.tensor(x, requires_grad=True) for x in xs]
    gs = ad.autograd.grad(loss(*ts), ts, create_graph=True, allow_unused=True,
                          materialize_grads=True)
    s = sum(anp.sum(g * v) for g, v in zip(gs, vs))
    if s.requires_grad:
        s.backward()
    return [np.zeros_like(x) if t.grad is None else t.grad for t, x in zip(ts, xs)]
"""


@dataclass
class Step:
    op: Op
    args: tuple  # names
    params: dict
    out: str


@dataclass(repr=False)
class Program:
    """A drawn program with its inputs: the base point (batch member 0), the vmap batch,
    constants, tangents and cotangent, and the weights of the scalar loss `sum(f(x) * W)`."""
    inputs: list  # base point, one array per input
    in_axes: tuple  # the batch axis of each input, or None
    out_axes: int  # of vmap's output
    batch_inputs: list  # the BATCH members stacked along in_axes, or the base value (None)
    consts: dict  # name -> array
    steps: list
    out: str
    weights: np.ndarray
    tangents: list
    cotangent: np.ndarray
    reference: np.ndarray  # NumPy's value of f at the base point

    def _repr_pretty_(self, printer, cycle):  # hypothesis's printer, for a failing draw
        printer.text(repr(self))

    def __repr__(self):  # short: the failure message prints the program's source too
        steps = "; ".join(f"{s.out} = {s.op.name}({', '.join(s.args)}, **{s.params!r})"
                          for s in self.steps)
        shapes = [np.shape(x) for x in self.inputs]
        return f"Program(inputs {shapes}, in_axes {self.in_axes}: {steps})"

    @property
    def names(self) -> list[str]:
        return [f"x{i}" for i in range(len(self.inputs))]

    def build(self, ns: Namespace) -> Callable:
        """f(*inputs) in autodx (AUTODX, also on Tensors), JAX (JAX) or NumPy (NUMPY)."""
        def f(*xs):
            env = dict(self.consts, **dict(zip(self.names, xs)))
            for s in self.steps:
                env[s.out] = s.op.fn(ns, *[env[a] for a in s.args], **s.params)
            return env[self.out]
        return f

    def loss(self, ns: Namespace) -> Callable:
        f = self.build(ns)
        return lambda *xs: ns.np.sum(f(*xs) * self.weights)

    def build_torch(self) -> Callable:
        consts = {k: torch.as_tensor(v) for k, v in self.consts.items()}
        w = torch.as_tensor(self.weights)

        def loss(*xs):
            env = dict(consts, **dict(zip(self.names, xs)))
            for s in self.steps:
                env[s.out] = s.op.torch(*[env[a] for a in s.args], **s.params)
            return env[self.out], torch.sum(env[self.out] * w)
        return loss

    def data(self) -> dict[str, np.ndarray]:
        """The arrays `to_source` names: inputs x0.., constants c0.., the loss weights W, the
        cotangent ct, tangents t0.., vmap batches bx0.."""
        out = dict(zip(self.names, self.inputs), **self.consts, W=self.weights, ct=self.cotangent)
        out.update({f"t{i}": t for i, t in enumerate(self.tangents)})
        out.update({f"bx{i}": b for i, b in enumerate(self.batch_inputs)})
        return out

    def sizes(self) -> tuple[int, int]:
        """(elements of all inputs, elements of the output)."""
        return sum(x.size for x in self.inputs), int(self.weights.size)

    def to_source(self, face: str = "autodx", checks: dict | None = None) -> str:
        """Runnable Python for this program: face "autodx" or "jax", then one line per entry
        of `checks` ({name: source line using f, loss, x0, t0, ct, bx0, ...})."""
        ns = AUTODX if face == "autodx" else JAX
        head = (["import numpy as np", "import autodx as ad", "import autodx.numpy as anp",
                 "from autodx.scipy import special as asp"] if face == "autodx" else
                ["import jax", "import jax.numpy as jnp", "import jax.scipy.special as jsp",
                 "import numpy as np", "", 'jax.config.update("jax_enable_x64", True)'])
        used = " ".join((checks or {}).values())  # tangents, cotangent, batch: where used
        always = {*self.names, *self.consts, "W"}
        data = [f"{n} = {lit(v)}" for n, v in self.data().items()
                if n in always or re.search(rf"\b{n}\b", used)]
        args = ", ".join(self.names)
        body = [f"def f({args}):"]
        for s in self.steps:
            expr = s.op.source.format(*s.args, **ns.names, **_render(s.params))
            body.append(f"    {s.out} = {expr}  # {s.op.name}")
        body += [f"    return {self.out}", "", "", f"def loss({args}):",
                 f"    return {ns.names['np']}.sum(f({args}) * W)", "", ""]
        if face == "autodx":
            body += AUTODX_HELPERS.splitlines() + ["", ""]
        tail = [f"print({name!r}, {line})" for name, line in (checks or {}).items()]
        return "\n".join(head + [""] + data + ["", ""] + body + tail) + "\n"


class _Builder:
    """The program being drawn, with the concrete NumPy values of every name, one per batch
    member."""

    def __init__(self, rng):
        self.rng = rng
        self.vals: dict[str, list] = {}
        self.inputs: list[str] = []
        self.consts: dict[str, np.ndarray] = {}
        self.steps: list[Step] = []

    def shape(self, name):
        return np.shape(self.vals[name][0])

    def operands(self):
        """Names a step may take as its first argument, the newest first."""
        return [n for n in reversed(list(self.vals)) if n not in self.consts]

    def try_step(self, draw, op: Op) -> bool:
        firsts = [n for n in self.operands() if op.applies(self.shape(n))]
        if not firsts:
            return False
        args = [firsts[draw(st.integers(0, len(firsts) - 1))]]
        const = None
        if op.arity == 2:
            picked = self._partner(draw, op, args[0])
            if picked is None:
                return False
            args, const = picked
        params = op.params(draw, [self.shape(a) if a != "?" else np.shape(const) for a in args])
        if params is None:
            return False
        vals = [self.vals[a] if a != "?" else [const] * BATCH for a in args]
        outs = self._evaluate(op, vals, params)
        if outs is None:
            return False
        if const is not None:
            name = f"c{len(self.consts)}"
            self.consts[name] = const
            self.vals[name] = [const] * BATCH
            args = [name if a == "?" else a for a in args]
        out = f"v{len(self.steps)}"
        self.steps.append(Step(op, tuple(args), params, out))
        self.vals[out] = outs
        return True

    def _partner(self, draw, op, first):
        """The two arguments (a constant partner is "?") and the constant, or None."""
        sa = self.shape(first)
        names = [n for n in self.operands() if op.pair(sa, self.shape(n))]
        choice = draw(st.integers(0, len(names)))  # len(names): a new constant
        const = None
        if choice == len(names):
            shape = op.partner(draw, sa)
            if shape is None or not op.pair(sa, shape):
                return None
            const = np.asarray(DOMAINS[op.partner_domain](self.rng, shape))
            second, sb = "?", shape
        else:
            second, sb = names[choice], self.shape(names[choice])
        if op.pair(sb, sa) and draw(st.booleans()):
            return [second, first], const
        return [first, second], const

    def _evaluate(self, op, vals, params):
        """The step's NumPy value for every batch member, or None where a value leaves the
        domain, is not finite, too large, empty, or not float64."""
        outs = []
        for member in zip(*vals):
            if not op.domain(*member, **params):
                return None
            try:
                with np.errstate(all="ignore"):
                    out = np.asarray(op.fn(NUMPY, *member, **params))
            except (ValueError, TypeError, IndexError, np.linalg.LinAlgError):
                return None
            if (out.dtype != np.float64 or not 0 < out.size <= MAX_SIZE or out.ndim > MAX_NDIM
                    or not np.all(np.isfinite(out)) or np.max(np.abs(out)) > MAX_ABS):
                return None
            outs.append(out)
        return outs


def _input_shape(draw, family):
    if family == "linalg" and draw(st.integers(0, 2)):
        n = draw(st.integers(1, 3))
        return (n, n) if draw(st.booleans()) else (2, n, n)
    ndim = draw(st.sampled_from([2, 1, 3, 0]))  # uniform; shrinks toward a matrix
    shape = tuple(draw(st.lists(st.sampled_from([2, 3, 1, 4]), min_size=ndim, max_size=ndim)))
    return shape if math.prod(shape) <= MAX_INPUT_SIZE else shape[1:]


def _second_shape(draw, family, s0):
    kind = draw(st.sampled_from(["same", "broadcast", "any"] +
                                (["matmul"] if s0 else [])))
    if kind == "same":
        return s0
    if kind == "broadcast":
        s = _broadcast_partner(draw, s0)
        return s if math.prod(s) <= MAX_INPUT_SIZE else s0
    if kind == "matmul":
        s = _matmul_partner(draw, s0)
        return s if math.prod(s) <= MAX_INPUT_SIZE else s0
    return _input_shape(draw, family)


def _input_domain(draw, shape):
    names = ["real", "positive", "open_unit", "probability", "distinct"]
    if _square(shape):
        names.append("well_conditioned")
    return draw(st.sampled_from(names))


@st.composite
def programs(draw, family: str = "mixed", first: Op | None = None) -> Program:
    """A program of 1 to MAX_STEPS steps over one or two inputs. `first` forces the first
    step's op (the example is rejected when no draw of it fits)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    b = _Builder(rng)
    family = first.family if first is not None else family
    shapes = [_input_shape(draw, family)]
    if draw(st.booleans()) or (first is not None and first.arity == 2):
        shapes.append(_second_shape(draw, family, shapes[0]))
    # the batch axis of each input: leading, last (as -1 or as a positive index) or None
    # (not mapped: every batch member sees the same value); the first input is always mapped
    in_axes = tuple(draw(st.sampled_from([0, -1, len(s)] + ([None] if i else [])))
                    for i, s in enumerate(shapes))
    batch_inputs = []
    for i, (shape, axis) in enumerate(zip(shapes, in_axes)):
        stacked = np.asarray(DOMAINS[_input_domain(draw, shape)](rng, (BATCH,) + shape))
        members = [np.asarray(x) for x in stacked]  # 0-d inputs stay arrays, not scalars
        b.vals[f"x{i}"] = members if axis is not None else [members[0]] * BATCH
        b.inputs.append(f"x{i}")
        batch_inputs.append(members[0] if axis is None else np.moveaxis(stacked, 0, axis))
    # a list's length: about 3.5 steps on average (integers(1, 6) gives 1 step in 40% of the
    # examples); shrinking shortens it
    n_steps = len(draw(st.lists(st.just(None), min_size=1, max_size=MAX_STEPS)))
    # hypothesis draws low indices far more often (and shrinks toward them): the menu is put
    # in a random order per program, so that every op is drawn about as often
    ops = [menu(family)[i] for i in np.random.default_rng(rng.integers(2**32)).permutation(
        len(menu(family)))]
    for k in range(n_steps):
        if k == 0 and first is not None:
            if not any(b.try_step(draw, first) for _ in range(4 * ATTEMPTS)):
                reject()
            continue
        if not any(b.try_step(draw, ops[draw(st.integers(0, len(ops) - 1))])
                   for _ in range(ATTEMPTS)):
            assert b.try_step(draw, _FALLBACK)  # tanh applies to anything, always in domain
    out = b.steps[-1].out
    shape = b.shape(out)
    return Program(
        inputs=[b.vals[n][0] for n in b.inputs], in_axes=in_axes,
        out_axes=draw(st.sampled_from([0, -1, len(shape)])), batch_inputs=batch_inputs,
        consts=b.consts, steps=b.steps, out=out, weights=rng.uniform(-1.0, 1.0, shape),
        tangents=[rng.uniform(-1.0, 1.0, s) for s in shapes],
        cotangent=rng.uniform(-1.0, 1.0, shape), reference=b.vals[out][0])
