"""`ad.numpy.fft`: values against np.fft for every function and option, derivatives against
finite differences (complex inputs too), analytic derivatives (Parseval, the DFT matrix, the
Hermitian weights of the half spectrum), errors as NumPy's, and values and gradients against
torch.fft and jax.numpy.fft.

Complex inputs are made from two real arguments, `x + 1j * y`, and complex outputs are seen
through `real(out * c)` for a fixed complex `c`, so every gradient is of a real function of real
variables: torch, JAX and autodx agree on those whatever their complex conventions."""

from __future__ import annotations

import itertools
import warnings

import jax  # float64 is switched on in conftest.py
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import autodx as ad
from autodx.testing import check_grads

anp = ad.numpy
NORMS = [None, "backward", "ortho", "forward"]
ONE_D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
N_D = ["fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn"]
REAL_IN = {"rfft", "ihfft", "rfft2", "rfftn"}  # NumPy refuses complex input to these


def _sample(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.uniform(-1, 1, shape)
    return x.astype(dtype)


def _const(shape, seed=1):
    return _sample(shape, np.complex128, seed)


# ----------------------------------------------------------------------------- values

DTYPES = [np.float64, np.float32, np.complex128, np.complex64]


def _dtypes(name):
    return DTYPES[:2] if name in REAL_IN else DTYPES


ONE_D_VALUES = [(name, n, axis, norm, dtype) for name in ONE_D for dtype in _dtypes(name)
                for n, axis, norm in itertools.product([None, 1, 3, 4, 8], [0, -1], NORMS)]


@pytest.mark.parametrize("name, n, axis, norm, dtype", ONE_D_VALUES)
def test_one_d_values_match_numpy(name, n, axis, norm, dtype):
    x = _sample((4, 5), dtype)
    got, want = getattr(anp.fft, name)(x, n, axis, norm), getattr(np.fft, name)(x, n, axis, norm)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14)


ND_OPTIONS = [  # (s, axes), with axes None meaning the function's default
    (None, None), ((3, 5), None), (None, (1, 0)), ((2, 6), (0, 2)), ((4, 3, 2), (2, 0, 1)),
    ((3, 5), (-1, -3)), ((3, 5, 2), (1, 1, 0)),  # an axis named twice is transformed twice
    ((-1, 4), (0, 1)),  # -1: the whole axis
]


N_D_VALUES = [(name, s, axes, norm, dtype) for name in N_D for dtype in _dtypes(name)
              for (s, axes), norm in itertools.product(ND_OPTIONS, NORMS)
              if not name.endswith("2") or len(axes or s or (-2, -1)) == 2]


@pytest.mark.parametrize("name, s, axes, norm, dtype", N_D_VALUES)
def test_n_d_values_match_numpy(name, s, axes, norm, dtype):
    x = _sample((4, 5, 3), dtype)
    kw = {"s": s, "norm": norm} | ({} if axes is None else {"axes": axes})
    with warnings.catch_warnings():  # s without axes is deprecated, in NumPy and here
        warnings.simplefilter("ignore", DeprecationWarning)
        got, want = getattr(anp.fft, name)(x, **kw), getattr(np.fft, name)(x, **kw)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("axes", [None, 0, 1, (1,), (0, 1), (1, 1), (-1, 0)])
@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
def test_shifts_match_numpy(name, axes):
    for shape in [(4, 6), (5, 3), (1, 2)]:
        x = _sample(shape, np.complex128)
        np.testing.assert_array_equal(getattr(anp.fft, name)(x, axes),
                                      getattr(np.fft, name)(x, axes))


def test_frequencies_are_numpys():
    assert anp.fft.fftfreq is np.fft.fftfreq and anp.fft.rfftfreq is np.fft.rfftfreq
    np.testing.assert_array_equal(anp.fft.fftshift(anp.fft.fftfreq(5)),
                                  np.fft.fftshift(np.fft.fftfreq(5)))


def test_plain_numpy_calls_dispatch_and_dtypes_are_kept():
    x = _sample((4, 6), np.float32)
    t = ad.tensor(x, requires_grad=True)
    spectrum = np.fft.rfft(t)
    assert isinstance(spectrum, ad.Tensor) and spectrum.dtype == np.complex64
    back = np.fft.irfft(np.fft.fftshift(spectrum, axes=0), 6)
    assert back.dtype == np.float32
    w = _sample((4, 6), np.float32, seed=3)
    np.sum(back * w).backward()  # irfft(rfft(.)) is the identity for even n; the shift rolls
    np.testing.assert_allclose(t.grad.numpy(), np.fft.ifftshift(w, axes=0), rtol=1e-5)
    assert t.grad.dtype == np.float32


# ----------------------------------------------------------------------------- derivatives

def _projected(name, kw, complex_in):
    """A real function of real arguments through `name(..., **kw)`."""
    def f(*args):
        z = args[0] + 1j * args[1] if complex_in else args[0]
        out = getattr(anp.fft, name)(z, **kw)
        if np.dtype(out.dtype).kind != "c":
            return out * _const(out.shape).real
        return anp.real(out * _const(out.shape))
    return f


GRAD_CASES = [
    *[(name, {"n": n, "axis": axis, "norm": norm}, (4, 5))
      for name, n, axis, norm in itertools.product(ONE_D, [None, 3, 4, 7], [0, -1],
                                                   NORMS[1:])],
    *[(name, {"s": s, "axes": axes, "norm": norm}, (4, 5, 3))
      for name, (s, axes), norm in itertools.product(N_D, [(None, (0, 1)), ((3, 6), (1, 0)),
                                                           ((2, 3), (2, 0))], NORMS[1:])],
    *[(name, {"s": s, "axes": axes}, (4, 5, 3)) for name in ("fftn", "rfftn", "irfftn")
      for s, axes in [(None, None), ((3, 6, 2), (1, 1, 0)), ((5, 2, 3), (0, 2, 1))]],
    *[(name, {"axes": axes}, (4, 5)) for name in ("fftshift", "ifftshift")
      for axes in (None, 1, (0, 0))],
]


@pytest.mark.parametrize("name, kw, shape", GRAD_CASES, ids=[f"{c[0]} {c[1]}" for c in GRAD_CASES])
def test_derivatives_match_finite_differences(name, kw, shape):
    """Forward mode against central differences, reverse against forward (the transpose
    identity), to second order, for real inputs and (as x + iy) complex ones."""
    x, y = _sample(shape, np.float64, 5), _sample(shape, np.float64, 6)
    check_grads(_projected(name, kw, False), (x,), order=2)
    if name not in REAL_IN:
        check_grads(_projected(name, kw, True), (x, y), order=2)


C_LINEAR = [("fft", {}), ("fft", {"n": 7, "axis": 0, "norm": "ortho"}), ("ifft", {"n": 3}),
            ("fftn", {"s": (2, 7), "axes": (0, 1), "norm": "forward"}), ("ifft2", {}),
            ("fftshift", {"axes": 1}), ("ifftshift", {})]


@pytest.mark.parametrize("name, kw", C_LINEAR, ids=[f"{c[0]} {c[1]}" for c in C_LINEAR])
def test_complex_linear_maps_have_complex_derivatives(name, kw):
    """The complex-to-complex transforms are C-linear, so finite differences in complex
    directions and the (bilinear) transpose identity hold for them directly."""
    z = _sample((4, 5), np.complex128, 7)
    check_grads(lambda z: getattr(anp.fft, name)(z, **kw), (z,), order=2)


@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
@pytest.mark.parametrize("name, shape", [("fft", (6,)), ("fft", (5,)), ("fftn", (3, 4)),
                                         ("ifft2", (2, 5))])
def test_parseval(name, shape, norm):
    """d/dx sum |F x|^2 = 2 N x for the unnormalised DFT (F^T F = N I for real x), 2 x for the
    unitary one and 2 x / N for norm="forward"; the inverse transforms swap N and 1/N."""
    x = _sample(shape, np.float64, 2)
    size = x.size if name.startswith("fft") else 1 / x.size
    factor = {"backward": size, "ortho": 1.0, "forward": 1 / size}[norm]

    def energy(x):
        y = getattr(anp.fft, name)(x, norm=norm)
        return anp.sum(anp.real(y) ** 2 + anp.imag(y) ** 2)

    np.testing.assert_allclose(ad.grad(energy)(x), 2 * factor * x, rtol=1e-12)


def test_jacobian_of_fft_is_the_dft_matrix():
    n = 5
    j, k = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    dft = np.exp(-2j * np.pi * j * k / n)
    x = _sample((n,), np.float64)
    for part, want in [(anp.real, dft.real), (anp.imag, dft.imag)]:
        for jac in (ad.jacrev, ad.jacfwd):
            np.testing.assert_allclose(jac(lambda x, part=part: part(anp.fft.fft(x)))(x), want,
                                       atol=1e-14)


@pytest.mark.parametrize("n", [5, 6, 4])
def test_irfft_counts_the_inner_bins_twice(n):
    """irfft(h)_j = (1/n) sum_k w_k (Re h_k cos(2 pi jk/n) - Im h_k sin(2 pi jk/n)), w = 1 for
    DC and (n even) Nyquist, 2 for the bins whose conjugates make up the other half."""
    k = np.arange(4)  # 4 input bins: cropped to n // 2 + 1 for n = 4, zero-padded for n = 6
    kept = k <= n // 2
    w = np.where((k == 0) | (2 * k == n), 1.0, 2.0) * kept
    j = np.arange(n)[:, None]
    want_re = w * np.cos(2 * np.pi * j * k / n) / n
    want_im = -w * np.sin(2 * np.pi * j * k / n) / n
    p, q = _sample((4,), np.float64, 3), _sample((4,), np.float64, 4)
    for jac in (ad.jacrev, ad.jacfwd):
        got_re, got_im = jac(lambda p, q: anp.fft.irfft(p + 1j * q, n), argnums=(0, 1))(p, q)
        np.testing.assert_allclose(got_re, want_re, atol=1e-15)
        np.testing.assert_allclose(got_im, want_im, atol=1e-15)


@pytest.mark.parametrize("n", [3, 4, 8])
def test_rfft_jacobian_is_the_half_dft_matrix(n):
    x = _sample((4,), np.float64)  # cropped (n = 3) or zero-padded (n = 8) to n samples
    k, j = np.arange(n // 2 + 1)[:, None], np.arange(4)
    dft = np.exp(-2j * np.pi * j * k / n) * (j < n)
    for part, want in [(anp.real, dft.real), (anp.imag, dft.imag)]:
        jac = ad.jacrev(lambda x, part=part: part(anp.fft.rfft(x, n)))(x)
        np.testing.assert_allclose(jac, want, atol=1e-14)


def test_shift_gradients_are_the_inverse_shifts():
    x, w = _sample((4, 5), np.float64), _sample((4, 5), np.float64, 9)
    for f, inv in [(anp.fft.fftshift, np.fft.ifftshift), (anp.fft.ifftshift, np.fft.fftshift)]:
        np.testing.assert_array_equal(ad.grad(lambda x, f=f: anp.sum(f(x) * w))(x), inv(w))


def test_vmap_and_jacobians_compose():
    xs = _sample((3, 4, 6), np.float64)
    f = _projected("rfft2", {"s": (5, 4)}, False)
    batched = ad.vmap(ad.grad(lambda x: anp.sum(f(x))))(xs)
    for x, g in zip(xs, batched):
        np.testing.assert_allclose(g, ad.grad(lambda x: anp.sum(f(x)))(x), rtol=1e-13)
    h = ad.hessian(lambda x: anp.sum(f(x) ** 2))(xs[0])
    assert h.shape == (4, 6, 4, 6)


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize("call, error", [
    (lambda m, x: m.fft(x, norm="bogus"), ValueError),
    (lambda m, x: m.fft(x, n=0), ValueError),
    (lambda m, x: m.irfft(x[:, :1]), ValueError),  # default n = 2 (1 - 1) = 0
    (lambda m, x: m.fft(x, n=2.5), TypeError),
    (lambda m, x: m.fft(x, axis=2), IndexError),
    (lambda m, x: m.rfft(x + 1j), TypeError),
    (lambda m, x: m.fftn(x, s=(2,), axes=(0, 1)), ValueError),
    (lambda m, x: m.rfftn(x, axes=()), IndexError),
    (lambda m, x: m.fftshift(x, axes=3), IndexError),
])
def test_errors_match_numpy(call, error):
    x = _sample((3, 4), np.float64)
    with pytest.raises(error):
        call(np.fft, x)
    with pytest.raises(error):
        call(anp.fft, x)


def test_out_is_refused_with_a_clear_message():
    with pytest.raises(TypeError, match="out="):
        anp.fft.fft(np.ones(3), out=np.empty(3, complex))


def test_deprecations_match_numpy():
    x = _sample((3, 4, 2), np.float64)
    for kw in [{"s": (3, 5)}, {"s": (None, 5), "axes": (0, 1)}]:
        with pytest.warns(DeprecationWarning):
            got = anp.fft.irfftn(x, **kw)
        with pytest.warns(DeprecationWarning):
            want = np.fft.irfftn(x, **kw)
        np.testing.assert_allclose(got, want, rtol=1e-13)
    np.testing.assert_array_equal(anp.fft.fftn(x, axes=()), np.fft.fftn(x, axes=()))


# ----------------------------------------------------------------------------- torch and JAX

REF_CASES = [
    ("fft", {}, (4, 5), False), ("fft", {"n": 7, "axis": 0, "norm": "ortho"}, (4, 5), True),
    ("fft", {"n": 3, "norm": "forward"}, (4, 5), True),
    ("ifft", {}, (4, 5), True), ("ifft", {"n": 6, "axis": 0, "norm": "forward"}, (4, 5), False),
    ("rfft", {}, (4, 5), False), ("rfft", {"n": 8, "axis": 0, "norm": "ortho"}, (4, 5), False),
    ("irfft", {}, (4, 5), True), ("irfft", {"n": 7, "norm": "ortho"}, (4, 5), True),
    ("irfft", {"n": 4, "axis": 0, "norm": "forward"}, (4, 5), True),
    ("hfft", {}, (4, 5), True), ("hfft", {"n": 5, "axis": 0, "norm": "ortho"}, (4, 5), True),
    ("ihfft", {}, (4, 5), False), ("ihfft", {"n": 7, "norm": "forward"}, (4, 5), False),
    ("fft2", {}, (4, 5), True), ("fft2", {"s": (3, 6), "norm": "ortho"}, (4, 5), False),
    ("ifft2", {}, (4, 5), True),
    ("ifft2", {"s": (5, 2), "axes": (1, 0), "norm": "forward"}, (4, 5), True),
    ("rfft2", {}, (4, 5), False), ("rfft2", {"s": (6, 3), "norm": "ortho"}, (4, 5), False),
    ("irfft2", {}, (4, 5), True), ("irfft2", {"s": (3, 7), "norm": "forward"}, (4, 5), True),
    ("fftn", {}, (2, 3, 4), True),
    ("fftn", {"s": (3, 5), "axes": (0, 2), "norm": "ortho"}, (2, 3, 4), False),
    ("ifftn", {"axes": (-1, 0)}, (2, 3, 4), True),
    ("ifftn", {"s": (4, 2, 3), "axes": (2, 1, 0), "norm": "forward"}, (2, 3, 4), True),
    ("rfftn", {}, (2, 3, 4), False),
    ("rfftn", {"s": (4, 3), "axes": (2, 0), "norm": "ortho"}, (2, 3, 4), False),
    ("irfftn", {}, (2, 3, 4), True),
    ("irfftn", {"s": (3, 5), "axes": (1, 2), "norm": "forward"}, (2, 3, 4), True),
    ("fftshift", {}, (4, 5), True), ("fftshift", {"axes": 1}, (4, 5), False),
    ("ifftshift", {}, (3, 5), True), ("ifftshift", {"axes": (0,)}, (3, 5), False),
]


def _torch_kw(kw):
    return {("dim" if k in ("axis", "axes") else k): v for k, v in kw.items()}


def _torch_loss(name, kw, complex_in, c):
    kw = _torch_kw(kw)

    def loss(*args):
        z = torch.complex(*args) if complex_in else args[0]
        out = getattr(torch.fft, name)(z, **kw)
        return torch.sum(torch.real(out * torch.tensor(c)) if out.is_complex()
                         else out * torch.tensor(c.real))
    return loss


def _jax_loss(name, kw, complex_in, c):
    def loss(*args):
        z = args[0] + 1j * args[1] if complex_in else args[0]
        out = getattr(jnp.fft, name)(z, **kw)
        return jnp.sum(jnp.real(out * c) if jnp.iscomplexobj(out) else out * c.real)
    return loss


@pytest.mark.parametrize("name, kw, shape, complex_in", REF_CASES,
                         ids=[f"{c[0]} {c[1]}" for c in REF_CASES])
def test_values_and_gradients_match_torch_and_jax(name, kw, shape, complex_in):
    args = [_sample(shape, np.float64, 11), _sample(shape, np.float64, 12)][:1 + complex_in]
    z = args[0] + 1j * args[1] if complex_in else args[0]
    out = getattr(anp.fft, name)(z, **kw)
    c = _const(np.shape(out))
    tz = torch.complex(*map(torch.tensor, args)) if complex_in else torch.tensor(args[0])
    t_out = getattr(torch.fft, name)(tz, **_torch_kw(kw)).resolve_conj().numpy()
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(out, getattr(jnp.fft, name)(z, **kw), rtol=1e-12, atol=1e-13)

    argnums = tuple(range(len(args)))
    f = _projected(name, kw, complex_in)
    value, grads = ad.value_and_grad(lambda *a: anp.sum(f(*a)), argnums=argnums)(*args)
    tensors = [torch.tensor(a, requires_grad=True) for a in args]
    t_value = _torch_loss(name, kw, complex_in, c)(*tensors)
    t_value.backward()
    j_value, j_grads = jax.value_and_grad(_jax_loss(name, kw, complex_in, c),
                                          argnums=argnums)(*args)
    for want_value, want_grads in [(t_value.item(), [t.grad.numpy() for t in tensors]),
                                   (float(j_value), [np.asarray(g) for g in j_grads])]:
        np.testing.assert_allclose(value, want_value, rtol=1e-12)
        for g, want in zip(grads, want_grads):
            np.testing.assert_allclose(g, want, rtol=1e-11, atol=1e-12)
