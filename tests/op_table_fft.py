"""Op-table rows for the fft part of the NumPy surface (see op_spec.py).

Rows must be real: a complex spectrum is seen through the real or imaginary part of its
product with a fixed complex constant of its shape (in its dtype, so float32 stays float32),
and a complex input is built from two real arguments as `x + 1j * y`."""

from __future__ import annotations

import numpy as np

import autodx as ad
from op_spec import OpSpec

anp = ad.numpy
F, NF = anp.fft, np.fft


def _const(shape: tuple, dtype) -> np.ndarray:
    """A fixed complex constant of `shape`, the same for every call."""
    rng = np.random.default_rng(sum(shape) + 7 * len(shape))
    return (rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)).astype(dtype)


def _re(y):
    return anp.real(y * _const(y.shape, y.dtype))


def _im(y):
    return anp.imag(y * _const(y.shape, y.dtype))


def _np_re(y):
    return np.real(y * _const(y.shape, y.dtype))


def _np_im(y):
    return np.imag(y * _const(y.shape, y.dtype))


def _z(proj, name, f, ref, shape=(3, 4), **kw) -> OpSpec:
    """A row of a complex input `x + 1j * y` through `proj` (_re, _im, or None for a real f)."""
    np_proj = {_re: _np_re, _im: _np_im, None: None}[proj]
    return OpSpec(name, (lambda x, y: f(x + 1j * y)) if proj is None else
                  (lambda x, y: proj(f(x + 1j * y))),
                  (lambda x, y: ref(x + 1j * y)) if proj is None else
                  (lambda x, y: np_proj(ref(x + 1j * y))), (shape, shape), **kw)


def _x(proj, name, f, ref, shape=(3, 4), **kw) -> OpSpec:
    """A row of a real input through `proj` (_re, _im, or None for a real f)."""
    np_proj = {_re: _np_re, _im: _np_im, None: None}[proj]
    return OpSpec(name, f if proj is None else (lambda x: proj(f(x))),
                  ref if proj is None else (lambda x: np_proj(ref(x))), (shape,), **kw)


OPS: list[OpSpec] = [
    # ---- 1-D complex transforms
    _x(_re, "fft real input", lambda x: F.fft(x), lambda x: NF.fft(x)),
    _z(_im, "fft n=6 axis=0 ortho", lambda z: F.fft(z, 6, axis=0, norm="ortho"),
       lambda z: NF.fft(z, 6, axis=0, norm="ortho")),
    _z(_re, "fft n=3 (crop) forward", lambda z: F.fft(z, n=3, norm="forward"),
       lambda z: NF.fft(z, n=3, norm="forward")),
    _z(_re, "ifft", lambda z: F.ifft(z), lambda z: NF.ifft(z)),
    _x(_im, "ifft real n=5 axis=0 forward", lambda x: F.ifft(x, 5, 0, "forward"),
       lambda x: NF.ifft(x, 5, 0, "forward")),
    _z(_im, "ifft n=2 backward", lambda z: F.ifft(z, 2, norm="backward"),
       lambda z: NF.ifft(z, 2, norm="backward")),
    # ---- 1-D real transforms; the half spectrum's DC and Nyquist bins are the subtle ones
    _x(_re, "rfft n odd", lambda x: F.rfft(x), lambda x: NF.rfft(x), shape=(3, 5)),
    _x(_im, "rfft n=8 (pad) axis=0 ortho", lambda x: F.rfft(x, 8, axis=0, norm="ortho"),
       lambda x: NF.rfft(x, 8, axis=0, norm="ortho")),
    _z(None, "irfft default n (even)", lambda z: F.irfft(z), lambda z: NF.irfft(z)),
    _z(None, "irfft n=7 ortho", lambda z: F.irfft(z, 7, norm="ortho"),
       lambda z: NF.irfft(z, 7, norm="ortho")),
    _z(None, "irfft n=3 (crop) axis=0 forward", lambda z: F.irfft(z, 3, 0, "forward"),
       lambda z: NF.irfft(z, 3, 0, "forward"), shape=(4, 3)),
    _x(None, "rfft -> irfft n=5 (odd)", lambda x: F.irfft(F.rfft(x), 5),
       lambda x: NF.irfft(NF.rfft(x), 5), shape=(3, 5)),
    _x(None, "rfft -> irfft n=4 (even) ortho",
       lambda x: F.irfft(F.rfft(x, norm="ortho"), 4, norm="ortho"),
       lambda x: NF.irfft(NF.rfft(x, norm="ortho"), 4, norm="ortho")),
    _z(None, "hfft", lambda z: F.hfft(z), lambda z: NF.hfft(z)),
    _z(None, "hfft n=5 ortho", lambda z: F.hfft(z, 5, norm="ortho"),
       lambda z: NF.hfft(z, 5, norm="ortho")),
    _x(_re, "ihfft", lambda x: F.ihfft(x), lambda x: NF.ihfft(x)),
    _x(_im, "ihfft n=7 axis=0 forward", lambda x: F.ihfft(x, 7, 0, "forward"),
       lambda x: NF.ihfft(x, 7, 0, "forward")),
    # ---- 2-D
    _x(_re, "fft2 real input", lambda x: F.fft2(x), lambda x: NF.fft2(x)),
    _z(_im, "fft2 s=(4, 6) ortho", lambda z: F.fft2(z, (4, 6), norm="ortho"),
       lambda z: NF.fft2(z, (4, 6), norm="ortho")),
    _z(_re, "ifft2", lambda z: F.ifft2(z), lambda z: NF.ifft2(z)),
    _z(_im, "ifft2 s=(2, 3) axes=(1, 0) forward",
       lambda z: F.ifft2(z, (2, 3), (1, 0), "forward"),
       lambda z: NF.ifft2(z, (2, 3), (1, 0), "forward")),
    _x(_re, "rfft2", lambda x: F.rfft2(x), lambda x: NF.rfft2(x)),
    _x(_im, "rfft2 s=(5, 3) forward", lambda x: F.rfft2(x, (5, 3), norm="forward"),
       lambda x: NF.rfft2(x, (5, 3), norm="forward")),
    _z(None, "irfft2", lambda z: F.irfft2(z), lambda z: NF.irfft2(z), shape=(3, 3)),
    _z(None, "irfft2 s=(4, 5) ortho", lambda z: F.irfft2(z, (4, 5), norm="ortho"),
       lambda z: NF.irfft2(z, (4, 5), norm="ortho")),
    # ---- n-D
    _x(_re, "fftn real input", lambda x: F.fftn(x), lambda x: NF.fftn(x), shape=(2, 3, 4)),
    _z(_im, "fftn s=(3, 5) axes=(0, 2) forward",
       lambda z: F.fftn(z, (3, 5), (0, 2), "forward"),
       lambda z: NF.fftn(z, (3, 5), (0, 2), "forward"), shape=(2, 3, 4)),
    _z(_re, "fftn repeated axis s=(3, 5) axes=(1, 1)", lambda z: F.fftn(z, (3, 5), (1, 1)),
       lambda z: NF.fftn(z, (3, 5), (1, 1))),
    _z(_re, "ifftn axes=(-1, 0)", lambda z: F.ifftn(z, axes=(-1, 0)),
       lambda z: NF.ifftn(z, axes=(-1, 0)), shape=(2, 3, 4)),
    _x(_im, "ifftn real ortho", lambda x: F.ifftn(x, norm="ortho"),
       lambda x: NF.ifftn(x, norm="ortho"), shape=(2, 3, 4)),
    _x(_re, "rfftn", lambda x: F.rfftn(x), lambda x: NF.rfftn(x), shape=(2, 3, 4)),
    _x(_im, "rfftn s=(4, 3) axes=(2, 0) (half axis 0) ortho",
       lambda x: F.rfftn(x, (4, 3), (2, 0), "ortho"),
       lambda x: NF.rfftn(x, (4, 3), (2, 0), "ortho"), shape=(2, 3, 4)),
    _z(None, "irfftn", lambda z: F.irfftn(z), lambda z: NF.irfftn(z), shape=(2, 3, 3)),
    _z(None, "irfftn s=(3, 5) axes=(1, 2) forward",
       lambda z: F.irfftn(z, (3, 5), (1, 2), "forward"),
       lambda z: NF.irfftn(z, (3, 5), (1, 2), "forward"), shape=(2, 3, 3)),
    _x(None, "rfftn -> irfftn s=(3, 5) axes=(0, 2)",
       lambda x: F.irfftn(F.rfftn(x, axes=(0, 2)), (3, 5), (0, 2)),
       lambda x: NF.irfftn(NF.rfftn(x, axes=(0, 2)), (3, 5), (0, 2)), shape=(3, 2, 5)),
    # ---- shifts (linear, so complex inputs are checked too)
    _x(None, "fftshift", lambda x: F.fftshift(x), lambda x: NF.fftshift(x), shape=(3, 4),
       complex=True),
    _x(None, "fftshift axes=1 odd", lambda x: F.fftshift(x, axes=1),
       lambda x: NF.fftshift(x, axes=1), shape=(4, 5), complex=True),
    _x(None, "ifftshift", lambda x: F.ifftshift(x), lambda x: NF.ifftshift(x), shape=(3, 5),
       complex=True),
    _x(None, "ifftshift axes=(0,) of a spectrum", lambda x: _re(F.ifftshift(F.fft(x), (0,))),
       lambda x: _np_re(NF.ifftshift(NF.fft(x), (0,))), shape=(5, 2)),
]
