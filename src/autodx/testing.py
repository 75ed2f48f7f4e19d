"""Derivative checks for users' functions and for autodx's own tests, in both faces.

- `check_grads(f, args, order, modes=("fwd", "rev"), atol=None, rtol=None, eps=None)` is JAX's
  `jax.test_util.check_grads`: forward mode against central finite differences along a random
  tangent t, reverse mode against the same differences through <J^T u, t> = <u, J t>, then the
  same on the JVP and VJP functions themselves up to `order` (2 covers forward-over-forward,
  reverse-over-forward, forward-over-reverse and reverse-over-reverse). With both modes it also
  checks that reverse mode is the transpose of forward mode to rounding, which finite
  differences cannot see. A failure is an AssertionError, as in JAX.
- `gradcheck(func, inputs, ...)` and `gradgradcheck(...)` are `torch.autograd.gradcheck`'s, for
  the torch face: the gradients `.backward()` computes (and forward mode's, on request) against
  the numerical Jacobian, column by column, or along one random direction with `fast_mode=True`.
  A failure raises GradcheckError (a RuntimeError, as in PyTorch), or returns False with
  `raise_exception=False`.
- `check_vjp(f, args)` is the transpose identity alone: VJP against JVP, no finite differences.

The op table (tests/test_ops.py) checks every op with these same functions.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np

from .api import jvp, vjp, vmap
from .autograd import grad as _autograd_grad
from .tensor import Tensor, torch_convention
from .tree import tree_flatten, tree_map, tree_unflatten

__all__ = ["GradcheckError", "check_grads", "check_vjp", "gradcheck", "gradgradcheck",
           "numerical_jvp"]

# NOTE: JAX's step is 1e-4, sized for float32; these checks always run in float64, where 1e-6
# (PyTorch's step) keeps the error of a difference across a kink of a higher derivative small.
EPS = 1e-6  # check_grads' finite-difference step
TOL = 1e-5  # check_grads' atol and rtol (JAX's for float64)
EXACT = 1e-4  # the transpose identity has no finite-difference error: tolerances times this


# ----------------------------------------------------------------------------- the JAX face

def _wide(x) -> np.ndarray:
    """x in float64, or complex128 if it is complex (checks run at full precision)."""
    x = np.asarray(x)
    return x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)


def _flat(tree) -> list[np.ndarray]:
    return [_wide(x) for x in tree_flatten(tree)[0]]


def _inner(a, b) -> float:
    """Re sum(a * b): the pairing under which the engine's transposes are transposes.

    NOTE: the engine transposes without conjugation (as JAX), treating C as R^2: a cotangent
    g pairs with a tangent v as Re(g v). For C-linear maps the full bilinear sum would match
    too, but a real-valued function of complex inputs (real, abs) only satisfies the real
    part."""
    return float(sum(np.real(np.sum(x * y)) for x, y in zip(_flat(a), _flat(b))))


def _random_like(x, rng: np.random.Generator) -> np.ndarray:
    x = np.asarray(x)
    r = rng.standard_normal(x.shape)
    if x.dtype.kind == "c":
        r = r + 1j * rng.standard_normal(x.shape)
    return r.astype(x.dtype)


def _like(tree, rng: np.random.Generator):
    flat, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [_random_like(x, rng) for x in flat])


def numerical_jvp(f: Callable, args: Sequence, tangents: Sequence, eps: float = EPS):
    """Central difference (f(x + eps t) - f(x - eps t)) / 2 eps, leafwise."""
    def shifted(sign):
        return f(*[tree_map(lambda x, t: np.asarray(x) + sign * eps * np.asarray(t), a, ta)
                   for a, ta in zip(args, tangents)])

    plus, minus = _flat(shifted(+1)), _flat(shifted(-1))
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


def _assert_close(got, want, atol: float, rtol: float, what: str) -> None:
    for g, w in zip(_flat(got), _flat(want)):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=what)


def _assert_transpose(ct, tangents, u, t_out, atol: float, rtol: float, name: str) -> None:
    _assert_close(_inner(ct, tangents), _inner(u, t_out), atol, rtol,
                  f"the VJP of {name} is not the transpose of its JVP: <J^T u, t> != <u, J t>")


def _check_first_order(f, args, modes, atol, rtol, eps, rng, name: str) -> None:
    """f's first derivatives at args along one random tangent t (and cotangent u): J t
    against central differences (fwd), <J^T u, t> against <u, differences> (rev), and with
    both modes the transpose identity to rounding."""
    t = tuple(_like(x, rng) for x in args)
    fd = numerical_jvp(f, args, t, eps)
    want = f(*args)
    if "fwd" in modes:
        out, t_out = jvp(f, args, t)
        _assert_close(out, want, atol, rtol, f"jvp's primal output of {name} != {name}(*args)")
        _assert_close(t_out, fd, atol, rtol,
                      f"the JVP of {name} disagrees with central finite differences")
    if "rev" in modes:
        out, pullback = vjp(f, *args)
        _assert_close(out, want, atol, rtol, f"vjp's primal output of {name} != {name}(*args)")
        u = _like(out, rng)
        ct = pullback(u)
        _assert_close(_inner(ct, t), _inner(u, fd), atol, rtol,
                      f"the VJP of {name} disagrees with central finite differences: "
                      "<J^T u, t> != <u, (f(x + eps t) - f(x - eps t)) / 2 eps>")
        if "fwd" in modes:
            _assert_transpose(ct, t, u, t_out, atol * EXACT, rtol * EXACT, name)


def _vjp_of(f: Callable) -> Callable:
    """x -> J(x)^T f(x): the reverse-mode function check_grads recurses on (as JAX)."""
    def f_vjp(*args):
        out, pullback = vjp(f, *args)
        return pullback(out)

    return f_vjp


def check_grads(f: Callable, args: Sequence, order: int, modes: Sequence[str] = ("fwd", "rev"),
                atol: float | None = None, rtol: float | None = None,
                eps: float | None = None) -> None:
    """Check f's derivatives at `args` up to `order` against central finite differences, in
    the given modes (JAX's check_grads; AssertionError on a mismatch). Arguments may be
    pytrees; the checks run in float64 (complex128 for complex arguments), where finite
    differences are meaningful. Defaults: atol = rtol = 1e-5 (JAX's), eps = 1e-6.

    >>> ad.testing.check_grads(lambda x: ad.numpy.sin(x) * x, (np.array([0.5, 1.0]),), order=2)
    """
    modes = tuple(modes)
    if not modes or set(modes) - {"fwd", "rev"}:
        raise ValueError(f"check_grads: modes must hold 'fwd' and/or 'rev', got {modes!r}")
    atol, rtol = TOL if atol is None else atol, TOL if rtol is None else rtol
    eps = EPS if eps is None else eps
    rng = np.random.default_rng(0)

    def check(f, args, order, name):
        _check_first_order(f, args, modes, atol, rtol, eps, rng, name)
        if order > 1 and "fwd" in modes:
            check(lambda primals, tangents: jvp(f, primals, tangents), (args, args), order - 1,
                  f"jvp({name})")
        if order > 1 and "rev" in modes:
            check(_vjp_of(f), args, order - 1, f"vjp({name})")

    check(f, tuple(tree_map(_wide, a) for a in args), order, "f")


def check_vjp(f: Callable, args: Sequence, *, rtol: float = 1e-9, atol: float = 1e-10,
              rng: np.random.Generator | None = None) -> None:
    """Reverse mode against forward mode through <J^T u, t> = <u, J t> for a random t and u,
    which holds to rounding (stricter than any finite difference; AssertionError if not)."""
    rng = rng or np.random.default_rng(1)
    t = tuple(_like(x, rng) for x in args)
    out, t_out = jvp(f, tuple(args), t)
    _, pullback = vjp(f, *args)
    u = _like(out, rng)
    _assert_transpose(pullback(u), t, u, t_out, atol, rtol, "f")


# ----------------------------------------------------------------------------- the torch face

class GradcheckError(RuntimeError):
    """A gradcheck or gradgradcheck failure (PyTorch's name, and a RuntimeError as there)."""


def _as_tuple(x) -> tuple:
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _requires_grad(x) -> bool:
    return isinstance(x, Tensor) and x.requires_grad


def _value(x) -> np.ndarray:
    return np.asarray(x.detach().numpy() if isinstance(x, Tensor) else x)


def _size(x) -> int:
    """The number of real coordinates of an array (two per complex element)."""
    return x.size * (2 if x.dtype.kind == "c" else 1)


def _coords(x) -> np.ndarray:
    """An array's real coordinates: its elements, or the real parts then the imaginary ones."""
    x = np.asarray(x).ravel()
    return np.concatenate([x.real, x.imag]) if x.dtype.kind == "c" else x.astype(np.float64)


def _from_coords(like: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The array of `like`'s shape and dtype whose real coordinates are `c`."""
    z = c[:like.size] + 1j * c[like.size:] if like.dtype.kind == "c" else c
    return np.asarray(z, like.dtype).reshape(like.shape)


def _matrix(vectors: list, rows: int, cols: int) -> np.ndarray:
    return np.reshape(np.array(vectors, dtype=np.float64), (rows, cols))


class _Problem:
    """`func` at `inputs` as a map between real coordinates, with respect to the inputs that
    require grad (`wrt`) and through the outputs that require grad (`diff`). Reverse mode is
    the torch face's autograd.grad (PyTorch's convention for complex gradients, which makes
    them the transposed real Jacobian), forward mode is ad.jvp of `forward`, a function of
    the differentiated inputs' values returning the differentiable outputs."""

    def __init__(self, func, inputs: tuple, forward, check_grad_dtypes: bool):
        self.func, self.inputs, self.check_grad_dtypes = func, inputs, check_grad_dtypes
        self.wrt = [i for i, x in enumerate(inputs) if _requires_grad(x)]
        self.x = [_value(inputs[i]) for i in self.wrt]
        self.outputs = _as_tuple(func(*inputs))
        self.diff = [o for o, y in enumerate(self.outputs) if _requires_grad(y)]
        self.out = [_value(y) for y in self.outputs]
        self.forward = forward or (lambda *values: tuple(self.call(values)[o] for o in self.diff))

    def call(self, values) -> tuple:
        """func with the differentiated inputs replaced by `values`."""
        args = list(self.inputs)
        for i, v in zip(self.wrt, values):
            args[i] = v
        return _as_tuple(self.func(*args))

    def numerical(self, k: int, direction: np.ndarray, eps: float) -> list[np.ndarray]:
        """Central differences along `direction` of input k, per differentiable output (per
        output if there is none). Inputs are fresh Tensors that require grad, so a `func`
        that differentiates inside (gradgradcheck's) still can."""
        picked = self.diff or range(len(self.outputs))

        def at(sign):
            values = [Tensor(x, requires_grad=True) for x in self.x]
            values[k] = Tensor(np.asarray(self.x[k] + sign * eps * direction, self.x[k].dtype),
                               requires_grad=True)
            out = self.call(values)
            return [_coords(_value(out[o])) for o in picked]

        return [(p - m) / (2 * eps) for p, m in zip(at(1), at(-1))]

    def vjp(self, o: int, cotangent: np.ndarray) -> list[np.ndarray]:
        """autograd.grad of output o with `cotangent`, per differentiated input (as coords)."""
        grads = _autograd_grad(self.outputs[o], [self.inputs[i] for i in self.wrt],
                               Tensor(cotangent), retain_graph=True, allow_unused=True)
        return [self.checked(k, g) for k, g in enumerate(grads)]

    def checked(self, k: int, g) -> np.ndarray:
        x = self.x[k]
        if g is None:
            return np.zeros(_size(x))
        g = _value(g)
        if g.shape != x.shape:
            raise GradcheckError(f"Analytical gradient has incorrect size: input "
                                 f"{self.wrt[k]} has shape {x.shape}, its gradient {g.shape}")
        if self.check_grad_dtypes and g.dtype != x.dtype:
            raise GradcheckError(f"Gradient has dtype mismatch: input {self.wrt[k]} is "
                                 f"{x.dtype}, its gradient {g.dtype}")
        return _coords(g if x.dtype.kind == "c" else np.real(g))

    def tangents_out(self, k: int, direction) -> tuple:
        tangents = [np.zeros_like(x) for x in self.x]
        tangents[k] = direction
        return jvp(self.forward, tuple(self.x), tuple(tangents))[1]

    def jvp(self, k: int, direction: np.ndarray) -> list[np.ndarray]:
        """Forward mode along `direction` of input k, per differentiable output (as coords)."""
        return [_coords(t) for t in self.tangents_out(k, direction)]


def _mismatch(a, n, rtol, atol, o: int, i: int, mode: str = "") -> None:
    if not np.allclose(a, n, rtol=rtol, atol=atol):
        raise GradcheckError(f"Jacobian {mode}mismatch for output {o:d} with respect to input "
                             f"{i:d},\nnumerical:{n}\nanalytical:{a}\n")


def _reentrant(first: list, second: list, nondet_tol: float) -> None:
    if any(np.size(a) and np.max(np.abs(a - b)) > nondet_tol for a, b in zip(first, second)):
        raise GradcheckError(
            "Backward is not reentrant, i.e., running backward with same input and grad_output "
            "multiple times gives different values, although analytical gradient matches "
            f"numerical gradient. The tolerance for nondeterminism was {nondet_tol}.")


def _expect_zero(numerical: list) -> None:
    if any(np.any(n != 0) for per_input in numerical for n in per_input):
        raise GradcheckError("Numerical gradient for function expected to be zero: no output "
                             "requires grad, yet the outputs change with the inputs")


def _numerical_jacobian(p: _Problem, eps: float) -> list[list[np.ndarray]]:
    """[k][j]: the Jacobian of output p.diff[j] (of every output, if none is differentiable)
    with respect to input k, by central differences, column by column."""
    numerical = []
    for k, x in enumerate(p.x):
        cols = [p.numerical(k, _from_coords(x, e), eps) for e in np.eye(_size(x))]
        numerical.append([_matrix([c[j] for c in cols], _size(x), _size(p.out[o])).T
                          for j, o in enumerate(p.diff or range(len(p.outputs)))])
    return numerical


def _slow_check(p: _Problem, eps, rtol, atol, nondet_tol, backward: bool, forward: bool, rng):
    """The whole Jacobian: numerically column by column, by backward row by row (twice, to
    see a nondeterministic backward), by forward mode column by column."""
    numerical = _numerical_jacobian(p, eps)
    if not p.diff:
        return _expect_zero(numerical)
    for j, o in enumerate(p.diff if backward else ()):
        n_out = _size(p.out[o])
        jac = []
        for _ in range(2):
            rows = [p.vjp(o, _from_coords(p.out[o], e)) for e in np.eye(n_out)]
            jac.append([_matrix([r[k] for r in rows], n_out, _size(x))
                        for k, x in enumerate(p.x)])
        _reentrant(jac[0], jac[1], nondet_tol)
        for k, a in enumerate(jac[0]):
            _mismatch(a, numerical[k][j], rtol, atol, o, p.wrt[k])
    for k, x in enumerate(p.x if forward else ()):
        cols = [p.jvp(k, _from_coords(x, e)) for e in np.eye(_size(x))]
        for j, o in enumerate(p.diff):
            a = _matrix([c[j] for c in cols], _size(x), _size(p.out[o])).T
            _mismatch(a, numerical[k][j], rtol, atol, o, p.wrt[k], "computed with forward mode ")
    return None


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random direction with nonnegative coordinates (PyTorch's fast-mode vectors)."""
    u = rng.random(n)
    return u / (np.linalg.norm(u) or 1.0)


def _fast_check(p: _Problem, eps, rtol, atol, nondet_tol, backward: bool, forward: bool, rng):
    """One random direction u per input and v per output: v^T J u by backward against v^T
    (J u by central differences), J u by forward mode against J u by differences. The atol
    of a projection grows as the projection does: times sum(u) sum(v) (PyTorch's)."""
    us = [_unit(rng, _size(x)) for x in p.x]
    numerical = [p.numerical(k, _from_coords(x, u), eps) for k, (x, u) in enumerate(zip(p.x, us))]
    if not p.diff:
        return _expect_zero(numerical)
    for j, o in enumerate(p.diff if backward else ()):
        v = _unit(rng, _size(p.out[o]))
        cotangent = _from_coords(p.out[o], v)
        vjs = [p.vjp(o, cotangent) for _ in range(2)]
        _reentrant(vjs[0], vjs[1], nondet_tol)
        for k, (vj, u) in enumerate(zip(vjs[0], us)):
            _mismatch(vj @ u, v @ numerical[k][j], rtol, atol * u.sum() * v.sum(), o, p.wrt[k])
    for k, (x, u) in enumerate(zip(p.x, us) if forward else ()):
        for j, (a, o) in enumerate(zip(p.jvp(k, _from_coords(x, u)), p.diff)):
            _mismatch(a, numerical[k][j], rtol, atol * u.sum(), o, p.wrt[k],
                      "computed with forward mode ")
    return None


def _zero_cotangents(p: _Problem, outputs: list[int]) -> tuple:
    return _autograd_grad([p.outputs[o] for o in outputs], [p.inputs[i] for i in p.wrt],
                          [Tensor(np.zeros_like(p.out[o])) for o in outputs],
                          retain_graph=True, allow_unused=True)


def _check_multiplied_by_grad_output(p: _Problem) -> None:
    """Backward with zero cotangents gives zeros, of the inputs' dtypes and shapes."""
    for i, g in zip(p.wrt, _zero_cotangents(p, p.diff)):
        if g is None:
            continue
        g, x = _value(g), _value(p.inputs[i])
        if np.any(g != 0):
            raise GradcheckError(f"backward not multiplied by grad_output: zero cotangents "
                                 f"gave input {i} a nonzero gradient")
        if g.dtype != x.dtype:
            raise GradcheckError(f"grad is incorrect type: {g.dtype} for input {i} ({x.dtype})")
        if g.shape != x.shape:
            raise GradcheckError(f"grad is incorrect size: {g.shape} for input {i} {x.shape}")


def _check_undefined_grad(p: _Problem) -> None:
    """Backward from each output alone works: the other outputs' cotangents are undefined
    (the engine's symbolic zero, None), which every rule of a multi-output op must accept."""
    for o in p.diff if len(p.diff) > 1 else ():
        try:
            grads = _zero_cotangents(p, [o])
        except Exception as e:
            raise GradcheckError(f"Expected backward function to handle undefined output "
                                 f"grads: backward from output {o} alone raised {e!r}") from e
        if any(g is not None and np.any(_value(g) != 0) for g in grads):
            raise GradcheckError("Expected all input grads to be undefined or zero when all "
                                 "output grads are undefined or zero")


def _check_batched_grad(p: _Problem, rng: np.random.Generator) -> None:
    """autograd.grad(is_grads_batched=True) over two cotangents equals two backward passes."""
    for o in p.diff:
        cts = np.stack([_from_coords(p.out[o], rng.standard_normal(_size(p.out[o])))
                        for _ in range(2)])
        want = [np.stack(per_input) for per_input in zip(*(p.vjp(o, c) for c in cts))]
        try:
            got = _autograd_grad(p.outputs[o], [p.inputs[i] for i in p.wrt], Tensor(cts),
                                 retain_graph=True, allow_unused=True, is_grads_batched=True)
        except Exception as e:
            raise GradcheckError(f"While computing batched gradients, got: {e!r}") from e
        for k, (g, w) in enumerate(zip(got, want)):
            g = w * 0 if g is None else np.stack([p.checked(k, gb) for gb in _value(g)])
            if not np.allclose(g, w):
                raise GradcheckError(f"For output {o} and input {p.wrt[k]}: batched gradients "
                                     f"(is_grads_batched=True) differ from a loop.\nExpected:"
                                     f"\n{w}\nGot:\n{g}")


def _check_batched_forward_grad(p: _Problem, rng: np.random.Generator) -> None:
    """vmap of forward mode over two tangents equals two forward-mode calls."""
    for k, x in enumerate(p.x):
        ts = np.stack([_from_coords(x, rng.standard_normal(_size(x))) for _ in range(2)])
        want = [np.stack(per_out) for per_out in zip(*(p.jvp(k, t) for t in ts))]
        try:
            got = vmap(lambda t, k=k: p.tangents_out(k, t))(ts)
        except Exception as e:
            raise GradcheckError(f"While computing batched forward gradients (vmap of jvp), "
                                 f"got: {e!r}") from e
        for j, (g, w) in enumerate(zip(got, want)):
            g = np.stack([_coords(gb) for gb in np.asarray(g)])
            if not np.allclose(g, w):
                raise GradcheckError(f"For output {p.diff[j]} and input {p.wrt[k]}: vmap of "
                                     f"forward mode differs from a loop.\nExpected:\n{w}\n"
                                     f"Got:\n{g}")


def _check_inputs(inputs: tuple) -> None:
    if not any(_requires_grad(x) for x in inputs):
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of them "
            "have requires_grad=True. Pass ad.tensor(x, requires_grad=True), or check a "
            "function of NumPy arrays with ad.testing.check_grads(f, args, order).")
    for i, x in enumerate(inputs):
        if _requires_grad(x) and x.dtype not in (np.float64, np.complex128):
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are "
                          "not of double precision floating point or complex.", stacklevel=6)


def _gradcheck(func, inputs: tuple, forward, *, eps, atol, rtol, nondet_tol,
               check_undefined_grad, check_grad_dtypes, check_batched_grad,
               check_batched_forward_grad, check_forward_ad, check_backward_ad,
               fast_mode) -> None:
    _check_inputs(inputs)
    p = _Problem(func, inputs, forward, check_grad_dtypes)
    rng = np.random.default_rng(0)
    check = _fast_check if fast_mode else _slow_check
    check(p, eps, rtol, atol, nondet_tol, check_backward_ad, check_forward_ad, rng)
    if check_batched_forward_grad:
        _check_batched_forward_grad(p, rng)
    if check_backward_ad and p.diff:
        if check_batched_grad:
            _check_batched_grad(p, rng)
        _check_multiplied_by_grad_output(p)
        if check_undefined_grad:
            _check_undefined_grad(p)


def _verdict(run: Callable[[], None], raise_exception: bool) -> bool:
    try:
        run()
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradcheck(func: Callable, inputs, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Check the torch face's gradients of `func` at `inputs` (a Tensor or a tuple; the
    Tensors with requires_grad=True are differentiated) against central finite differences,
    as torch.autograd.gradcheck: True, or GradcheckError (False with raise_exception=False).
    Complex numbers count as two real coordinates. `masked` is accepted for PyTorch's
    signature: it concerns sparse tensors, which autodx does not have.

    >>> ad.testing.gradcheck(ad.numpy.sin, ad.tensor([0.5, 1.0], requires_grad=True))
    True
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad "
                             "to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to "
                             "be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires "
                             "check_forward_ad to be True")
    return _verdict(lambda: _gradcheck(
        func, _as_tuple(inputs), None, eps=eps, atol=atol, rtol=rtol, nondet_tol=nondet_tol,
        check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
        check_batched_grad=check_batched_grad,
        check_batched_forward_grad=check_batched_forward_grad,
        check_forward_ad=check_forward_ad, check_backward_ad=check_backward_ad,
        fast_mode=fast_mode), raise_exception)


def _random_grad_outputs(func, inputs: tuple) -> tuple:
    """Cotangents uniform in [-1, 1) for the outputs that require grad, themselves requiring
    grad (PyTorch's)."""
    rng = np.random.default_rng(0)

    def draw(y):
        v = rng.uniform(-1.0, 1.0, y.shape)
        v = v + 1j * rng.uniform(-1.0, 1.0, y.shape) if y.dtype.kind == "c" else v
        return Tensor(np.asarray(v, y.dtype), requires_grad=True)

    return tuple(draw(y) for y in _as_tuple(func(*inputs)) if _requires_grad(y))


def _first_derivatives(func, n_in: int, wrt: list[int]) -> Callable:
    """(*inputs, *grad_outputs) -> the gradients of func's differentiable outputs with respect
    to inputs[wrt], by autograd.grad(create_graph=True), the unused ones left out (PyTorch's)."""
    def first(*args):
        xs, cts = args[:n_in], args[n_in:]
        outs = [y for y in _as_tuple(func(*xs)) if _requires_grad(y)]
        grads = _autograd_grad(outs, [xs[i] for i in wrt], list(cts), create_graph=True,
                               allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return first


def _first_derivatives_by_vjp(func, args: tuple, n_in: int, wrt: list[int]) -> Callable:
    """The same as a function of the differentiated arguments' values, through ad.vjp, for
    forward mode over it: ad.jvp's tracers cannot enter the tape's autograd.grad. The
    engine's complex convention is converted to the torch face's on the way in and out."""
    outputs = _as_tuple(func(*args[:n_in]))
    diff = [o for o, y in enumerate(outputs) if _requires_grad(y)]
    grads = _autograd_grad([outputs[o] for o in diff], [args[i] for i in wrt],
                           list(args[n_in:]), allow_unused=True)
    used = [k for k, g in enumerate(grads) if g is not None]
    differentiated = [i for i, a in enumerate(args) if _requires_grad(a)]

    def first(*values):
        full = list(args)
        for i, v in zip(differentiated, values):
            full[i] = v
        xs, cts = full[:n_in], [_value(c) if isinstance(c, Tensor) else c
                                  for c in full[n_in:]]

        def f(*x_wrt):
            ys = list(xs)
            for i, v in zip(wrt, x_wrt):
                ys[i] = v
            out = _as_tuple(func(*ys))
            return tuple(out[o] for o in diff)

        _, pullback = vjp(f, *[xs[i] for i in wrt])
        g = pullback(tuple(torch_convention(c) for c in cts))
        return tuple(torch_convention(g[k]) for k in used)

    return first


def gradgradcheck(func: Callable, inputs, grad_outputs=None, *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3,
                  gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True,
                  nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False,
                  check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True,
                  fast_mode: bool = False, masked: bool = False) -> bool:
    """Check second derivatives, as torch.autograd.gradgradcheck: gradcheck of the gradients
    that backward(create_graph=True) computes for `grad_outputs` (random ones, requiring
    grad, if None), with respect to both the inputs and the grad_outputs. Reverse over reverse
    by default; forward over reverse with check_fwd_over_rev=True. `gen_non_contig_grad_outputs`
    and `masked` are accepted for PyTorch's signature (no strides, no sparse tensors here).

    >>> ad.testing.gradgradcheck(ad.numpy.sin, ad.tensor([0.5, 1.0], requires_grad=True))
    True
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev "
                             "to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to "
                             "be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_batched_grad=True requires check_rev_over_rev to "
                             "be True")
    inputs = _as_tuple(inputs)
    cts = _random_grad_outputs(func, inputs) if grad_outputs is None else _as_tuple(grad_outputs)
    wrt = [i for i, x in enumerate(inputs) if _requires_grad(x)]
    args = inputs + cts
    forward = (_first_derivatives_by_vjp(func, args, len(inputs), wrt) if check_fwd_over_rev
               else None)
    return _verdict(lambda: _gradcheck(
        _first_derivatives(func, len(inputs), wrt), args, forward, eps=eps, atol=atol,
        rtol=rtol, nondet_tol=nondet_tol, check_undefined_grad=check_undefined_grad,
        check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad,
        check_batched_forward_grad=False, check_forward_ad=check_fwd_over_rev,
        check_backward_ad=check_rev_over_rev, fast_mode=fast_mode), raise_exception)
