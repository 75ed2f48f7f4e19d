"""Discrete Fourier transforms: one linear primitive, `fft`, behind every NumPy transform.

Params (canonical, hashable):
- kind: "c2c" (complex to complex), "r2c" (real signal to half spectrum) or "c2r" (half
  spectrum to real signal); for r2c and c2r the half-spectrum axis is `axes[-1]`.
- axes: distinct, non-negative; lengths: the transform length along each (the input is cropped
  or zero-padded to it; for c2r the half axis to `lengths[-1] // 2 + 1` bins).
- inverse: the sign of the exponent, + for the inverse transforms (r2c with inverse is NumPy's
  ihfft, c2r without is hfft); norm: NumPy's name of the scaling, never None.

The VJP is the transpose of the linear map, without conjugation (as JAX): the DFT matrix is
symmetric, so c2c transposes to itself with the same sign and scaling; r2c and c2r transpose to
each other with the Hermitian weights of the half spectrum between them; cropping and
zero-padding transpose to each other; the real-to-complex cast transposes to the real part.
"""

from __future__ import annotations

import numpy as np

from ..core import Primitive, bind, dtype_of, shape_of
from .elementwise import mul, real
from .index import SliceSpec, getitem, scatter
from .shape import moveaxis

_SWAP = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _fft_impl(x, *, kind, axes, lengths, inverse, norm):
    if kind == "c2c":
        return (np.fft.ifftn if inverse else np.fft.fftn)(x, lengths, axes, norm)
    if kind == "r2c":  # with inverse: an n-D ihfft, as NumPy builds the 1-D one
        if inverse:
            return np.conjugate(np.fft.rfftn(x, lengths, axes, _SWAP[norm]))
        return np.fft.rfftn(x, lengths, axes, norm)
    if inverse:  # c2r
        return np.fft.irfftn(x, lengths, axes, norm)
    return np.fft.irfftn(np.conjugate(x), lengths, axes, _SWAP[norm])  # an n-D hfft


fft_p = Primitive("fft", _fft_impl, linear=True)


def fft(x, *, kind: str, axes: tuple, lengths: tuple, inverse: bool, norm: str):
    return bind(fft_p, x, kind=kind, axes=axes, lengths=lengths, inverse=inverse, norm=norm)


def _resize(x, shape: tuple):
    """`x` cropped or zero-padded at the end of each axis to `shape` (its own transpose)."""
    have = shape_of(x)
    if any(h > s for h, s in zip(have, shape)):
        x = getitem(x, tuple(SliceSpec(None, min(h, s), None) for h, s in zip(have, shape)))
        have = shape_of(x)
    if have != shape:
        x = scatter(x, index=tuple(SliceSpec(None, h, None) for h in have), shape=shape)
    return x


def _hermitian_weights(like, axis: int, n: int):
    """How often each bin of a half spectrum of a length-`n` signal appears in the full one:
    once for DC and (n even) Nyquist, twice for the others; shaped to broadcast at `axis`."""
    w = np.full(n // 2 + 1, 2.0, dtype=np.finfo(dtype_of(like)).dtype)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return w.reshape(w.shape + (1,) * (len(shape_of(like)) - 1 - axis))


@fft_p.def_vjp
def _fft_vjp(needs, g, out, x, *, kind, axes, lengths, inverse, norm):
    params = dict(axes=axes, lengths=lengths, inverse=inverse, norm=norm)
    if kind == "c2c":
        ct = fft(g, kind="c2c", **params)
    elif kind == "r2c":  # r2c = crop . DFT . cast, so its transpose is real . DFT . pad
        ct = fft(mul(g, 1.0 / _hermitian_weights(g, axes[-1], lengths[-1])), kind="c2r",
                 **params)
    else:  # c2r counts the inner bins twice (the conjugate half); its transpose weights them
        ct = fft(g, kind="r2c", **params)
        ct = mul(ct, _hermitian_weights(ct, axes[-1], lengths[-1]))
    if dtype_of(x).kind != "c" and dtype_of(ct).kind == "c":
        ct = real(ct)  # the transpose of casting a real input to complex
    return (_resize(ct, shape_of(x)),)


@fft_p.def_batch
def _fft_batch(axis_size, args, dims, *, axes, **params):
    (x,), (d,) = args, dims
    return fft(moveaxis(x, d, 0), axes=tuple(a + 1 for a in axes), **params), 0
