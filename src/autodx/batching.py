"""Batching: `BatchTracer(val, bdim)` carries a whole batch of values, mapped along axis
`bdim` of `val` (None: the same for every example). Each primitive's `batch` rule turns one
batched application into one primitive application on the whole batch; there is no
loop-and-stack fallback, so a primitive without a rule is an error.

`vmap_flat` maps a function over flat arguments; `api.vmap` handles in_axes/out_axes pytrees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .core import (
    BatchedValueConversionError,
    BatchingError,
    Trace,
    Tracer,
    bind,
    new_main,
    shape_of,
)
from .prims import broadcast_to, moveaxis
from .tree import broadcast_prefix, tree_flatten, tree_unflatten


class BatchTracer(Tracer):
    __slots__ = ("bdim",)

    def __init__(self, trace: Trace, val, bdim: int):
        self._trace, self._value, self.bdim = trace, val, bdim

    @property
    def shape(self) -> tuple:  # the shape of one example
        shape = self._value.shape  # NOTE: a batch is an array or a tracer, never a number
        return shape[:self.bdim] + shape[self.bdim + 1:]

    @property
    def dtype(self):  # PERF: Tracer.dtype in one attribute read instead of three calls (0.2
        # us, not 0.6)
        return self._value.dtype

    def __repr__(self) -> str:
        return f"BatchTracer(shape={self.shape}, batch axis {self.bdim} of {shape_of(self._value)})"

    def concrete(self):
        raise BatchedValueConversionError(
            "a value batched by vmap was used in Python control flow or converted to a "
            "concrete value, but it differs from example to example. Use ad.numpy.where(...) "
            "instead of `if`, or move the branch outside the vmapped function.")


class BatchTrace(Trace):
    __slots__ = ()

    def process_primitive(self, prim, args, params):
        values, dims, batched = [], [], False
        for a in args:  # PERF: Trace.lower spelled out for batch axes (a call and a getattr
            # less per argument)
            if a.__class__ is BatchTracer and a._trace is self:
                values.append(a._value)
                dims.append(a.bdim)
                batched = batched or a.bdim is not None
            else:
                values.append(a)
                dims.append(None)
        if not batched:
            return bind(prim, *values, **params)  # the same for every example
        if prim.batch is None:
            raise BatchingError(f"primitive {prim.name!r} has no batching rule, so it cannot "
                                "be used under vmap")
        out, out_dim = prim.batch(self.main.axis_size, values, dims, **params)
        return out if out_dim is None else BatchTracer(self, out, out_dim)


def vmap_flat(fun: Callable, args: Sequence, in_dims: Sequence, axis_size: int, out_axes):
    """Run `fun(*args)` once on the whole batch, argument i mapped along axis `in_dims[i]`
    (None: not mapped). `out_axes` (an int, None, or a prefix of the output tree) says where
    each output's batch axis goes (None: that output must not depend on the batch)."""
    with new_main(BatchTrace, axis_size) as main:
        tracers = [x if d is None else BatchTracer(main.trace, x, d)
                   for x, d in zip(args, in_dims)]
        out = fun(*tracers)
        leaves, treedef = tree_flatten(out)
        values, dims, _ = main.trace.lower(leaves, "bdim")
        results = []
        dests = ([out_axes] * len(leaves) if out_axes is None or out_axes.__class__ is int
                 else broadcast_prefix(out_axes, out, name="out_axes"))  # PERF: no 2nd flatten
        for i, (leaf, dest) in enumerate(zip(leaves, dests)):
            batched = dims[i] is not None
            ndim = len(shape_of(leaf))
            if dest is not None and not -ndim - 1 <= dest <= ndim:
                raise BatchingError(f"out_axes={dest} is out of range for output {i}, which has "
                                    f"{ndim} dimensions per example")
            if dest is None:
                if batched:
                    raise BatchingError(f"output {i} was asked to be unmapped (out_axes=None) "
                                        "but it depends on the mapped inputs")
                results.append(leaf)
            elif batched:  # PERF: an axis already in place needs no moveaxis (3 calls less)
                results.append(values[i] if dims[i] == dest else
                               moveaxis(values[i], dims[i], dest))
            else:  # does not depend on the batch: every example gets the same value
                shape = shape_of(leaf)
                dest = dest % (len(shape) + 1)
                moved = broadcast_to(leaf, (axis_size, *shape))
                results.append(moveaxis(moved, 0, dest))
    return tree_unflatten(treedef, results)
