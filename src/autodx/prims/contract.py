"""Tensor contraction: the `einsum` primitive of one or two operands, and `contract`, which
contracts any number of operands two at a time through it.

The `spec` param is canonical and hashable: `(inputs, output)`, one tuple of int labels per
operand and one of distinct labels for the output, each of which appears in some input. Any
labelling NumPy's einsum accepts is allowed: a label repeated within an operand takes a
diagonal, a label missing from the output is summed, and an axis of length 1 broadcasts
against the same label elsewhere. Parsing NumPy's subscripts into a spec is the public
wrapper's job (numpy/_products.py).

The rules follow from linearity in each operand: the JVP is the sum of the contractions with
one operand replaced by its tangent, the cotangent of operand k is the contraction of `g`
with the other operand onto k's labels (then broadcast along labels only k has, and placed on
the diagonal where k repeats a label), and batching gives the batch axis a fresh label.
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..core import Primitive, bind, dtype_of, shape_of
from .elementwise import add, where
from .shape import broadcast_to, reshape


def spec_subscripts(ins: Sequence[tuple], out: tuple) -> str:
    """NumPy's subscripts for int labels (letters given in order of first appearance)."""
    letters: dict[int, str] = {}
    for i in (i for lab in ins for i in lab):
        if i not in letters:
            if len(letters) == len(string.ascii_letters):
                raise ValueError(f"einsum: more than {len(letters)} distinct labels (NumPy's "
                                 "limit); contract in smaller steps")
            letters[i] = string.ascii_letters[len(letters)]
    return ",".join("".join(letters[i] for i in lab) for lab in ins) + "->" + "".join(
        letters[i] for i in out)


class _DotPlan(NamedTuple):
    """A two-operand contraction as one (batched) matrix or broadcast product: each operand
    is reduced on its own first (`pre`: subscripts), permuted and reshaped to (batch, rows,
    inner) and (batch, inner, cols); their product is reshaped and permuted to the output.
    None marks a step that is not needed."""

    steps: tuple  # per operand: (pre, perm, shape)
    matmul: bool  # False: the inner size is 1, so a broadcast product does it
    out_shape: tuple | None
    out_perm: tuple | None


def _dot_plan(ins: tuple, out: tuple, shapes: tuple) -> _DotPlan | None:
    """PERF: BLAS instead of np.einsum's own loops (10x on large operands); None when the
    spec broadcasts a length-1 axis or has a 0-d operand (np.einsum does those)."""
    if any(len(s) == 0 for s in shapes):
        return None
    size: dict[int, int] = {}
    for lab, shape in zip(ins, shapes):
        for label, n in zip(lab, shape):
            if size.setdefault(label, n) != n:
                return None
    kept = []
    for k, lab in enumerate(ins):  # labels only this operand has and the output lacks: sum
        needed = set(out) | set(ins[1 - k])
        kept.append(tuple(dict.fromkeys(label for label in lab if label in needed)))
    a, b = kept
    batch = [label for label in out if label in a and label in b]
    inner = [label for label in a if label in b and label not in out]
    free_a = [label for label in a if label not in b]
    free_b = [label for label in b if label not in a]
    rows, k, cols = (math.prod(size[x] for x in part) for part in (free_a, inner, free_b))
    lead = tuple(size[x] for x in batch)
    steps = []
    for lab, keep, order, shape in zip(ins, kept, (batch + free_a + inner, batch + inner + free_b),
                                       (lead + (rows, k), lead + (k, cols))):
        perm = tuple(keep.index(x) for x in order)
        steps.append((None if keep == lab else spec_subscripts([lab], keep),
                      None if perm == tuple(range(len(perm))) else perm,
                      None if shape == tuple(size[x] for x in order) else shape))
    middle = batch + free_a + free_b
    out_shape = tuple(size[x] for x in middle)
    out_perm = tuple(middle.index(x) for x in out)
    return _DotPlan(tuple(steps), k != 1, None if out_shape == lead + (rows, cols) else out_shape,
                    None if out_perm == tuple(range(len(out))) else out_perm)


@functools.lru_cache(maxsize=1024)
def _plan(spec: tuple, shapes: tuple) -> _DotPlan | str:
    """How to evaluate `spec` on operands of `shapes`: a `_DotPlan`, or np.einsum subscripts."""
    ins, out = spec
    plan = _dot_plan(ins, out, shapes) if len(ins) == 2 else None
    return spec_subscripts(ins, out) if plan is None else plan


def _prepare(x, pre, perm, shape):
    if pre is not None:
        x = np.einsum(pre, x)
    if perm is not None:
        x = np.transpose(x, perm)
    return x if shape is None else np.reshape(x, shape)


def _einsum_impl(*xs, spec):
    plan = _plan(spec, tuple([shape_of(x) for x in xs]))
    if plan.__class__ is str:
        return np.einsum(plan, *xs)
    (a, b), (step_a, step_b) = xs, plan.steps
    out = (np.matmul if plan.matmul else np.multiply)(_prepare(a, *step_a), _prepare(b, *step_b))
    if plan.out_shape is not None:
        out = np.reshape(out, plan.out_shape)
    return out if plan.out_perm is None else np.transpose(out, plan.out_perm)


einsum_p = Primitive("einsum", _einsum_impl,
                     reads_inputs=lambda needs: (False,) if len(needs) == 1 else needs[::-1])


def einsum(*xs, spec: tuple):
    """Contract one or two operands by a canonical `spec` (see the module docstring)."""
    return bind(einsum_p, *xs, spec=spec)


def contract(xs: Sequence, ins: Sequence[tuple], out: tuple, path: Sequence | None = None):
    """Contract any number of operands as einsum does, two at a time: in the order of `path`
    (np.einsum_path's: tuples of positions in the list of operands left, each result
    appended at the end), by default left to right. Intermediates keep only the labels that
    the output or a later operand needs."""
    if path is None and len(xs) == 2:  # PERF: the common case, one step
        return einsum(*xs, spec=((tuple(ins[0]), tuple(ins[1])), tuple(out)))
    xs, ins = list(xs), [tuple(lab) for lab in ins]
    steps = [tuple(range(len(xs)))] if path is None else list(path)
    for n, step in enumerate(steps):
        group = [(xs[i], ins[i]) for i in step]
        for i in sorted(step, reverse=True):
            del xs[i], ins[i]
        if n == len(steps) - 1 and xs:
            raise ValueError(f"einsum: the contraction path {steps} leaves operands over")
        needed = set(out).union(*ins)
        final = tuple(out) if not xs else tuple(dict.fromkeys(
            i for _, lab in group for i in lab if i in needed))
        xs.append(_chain(group, final))
        ins.append(final)
    return xs[0]


def _chain(group: list, final: tuple):
    """Contract `[(operand, labels), ...]` left to right onto the labels `final`."""
    (x, lx), rest = group[0], group[1:]
    if not rest:
        return x if lx == final else einsum(x, spec=((lx,), final))
    while rest:
        (y, ly), rest = rest[0], rest[1:]
        later = set(final).union(*(lab for _, lab in rest))
        keep = final if not rest else tuple(dict.fromkeys(i for i in lx + ly if i in later))
        x, lx = einsum(x, y, spec=((lx, ly), keep)), keep
    return x


@einsum_p.def_jvp
def _einsum_jvp(primals, tangents, *, spec):
    out = einsum(*primals, spec=spec)
    terms = [einsum(*primals[:k], t, *primals[k + 1:], spec=spec)
             for k, t in enumerate(tangents) if t is not None]
    return out, terms[0] if len(terms) == 1 else add(*terms)


@einsum_p.def_vjp
def _einsum_vjp(needs, g, out, *xs, spec):
    cts = []
    for k, (x, (g_spec, target)) in enumerate(zip(xs, _transposed_specs(spec))):
        if not needs[k]:
            cts.append(None)
            continue
        r = einsum(g, *xs[:k], *xs[k + 1:], spec=g_spec)
        cts.append(_expand(r, g_spec[1], target, shape_of(x)))
    return tuple(cts)


@functools.lru_cache(maxsize=1024)
def _transposed_specs(spec: tuple) -> tuple:
    """Per operand k: the spec that contracts the cotangent with the other operands onto the
    labels of k that they have (distinct, in k's order), and k's labels."""
    ins, out = spec
    result = []
    for k, target in enumerate(ins):
        others = ins[:k] + ins[k + 1:]
        present = set(out).union(*others)
        labels = tuple(dict.fromkeys(i for i in target if i in present))
        result.append((((out, *others), labels), target))
    return tuple(result)


def _expand(r, labels: tuple, target: tuple, shape: tuple):
    """`r` (distinct `labels`, in order of first appearance in `target`) laid out with
    `target`'s axes: broadcast along the labels it lacks and put on the diagonal where
    `target` repeats a label (zeros elsewhere, exactly)."""
    if labels != target:
        r_shape = dict(zip(labels, shape_of(r)))
        first = {label: target.index(label) for label in target}
        layout = tuple(r_shape[i] if first[i] == p and i in r_shape else 1
                       for p, i in enumerate(target))
        if layout != shape_of(r):
            r = reshape(r, layout)
        if len(first) < len(target):
            r = where(_diagonal_mask(target, shape), r, np.zeros((), dtype_of(r)))
    if shape_of(r) == shape:
        return r
    full = np.broadcast_shapes(shape_of(r), shape)  # larger than `shape`: the engine sums
    return r if shape_of(r) == full else broadcast_to(r, full)


@functools.lru_cache(maxsize=256)
def _diagonal_mask(target: tuple, shape: tuple) -> np.ndarray:
    """True where every repeated label of `target` takes equal indices (a constant)."""
    ndim = len(target)
    mask = np.ones((1,) * ndim, dtype=bool)
    for p, label in enumerate(target):
        first = target.index(label)
        if first != p:
            index = np.arange(shape[p])
            mask = mask & (_along(index, first, ndim) == _along(index, p, ndim))
    mask.flags.writeable = False  # shared by the cache
    return mask


def _along(v: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    return v.reshape(tuple(-1 if a == axis else 1 for a in range(ndim)))


@einsum_p.def_batch
def _einsum_batch(axis_size, args, dims, *, spec):
    ins, out = spec
    fresh = 1 + max((max(lab, default=-1) for lab in ins), default=-1)
    ins = tuple(lab if d is None else lab[:d] + (fresh,) + lab[d:] for lab, d in zip(ins, dims))
    return einsum(*args, spec=(ins, (fresh, *out))), 0
