"""`ad.numpy.fft`: NumPy's discrete Fourier transforms, differentiable.

Every transform is the one linear `fft` primitive (prims/fft.py) with canonical params; this
module turns NumPy's `n`/`s`, `axis`/`axes` and `norm` arguments into them, with NumPy's
defaults, deprecations and errors. The shifts are rolls made of slices (linear composites);
the sample frequencies are NumPy's own (constants).
"""

from __future__ import annotations

import operator
import warnings

import numpy as _np

from .. import prims as _prims
from ..core import dtype_of as _dtype_of
from ..core import shape_of as _shape_of
from ..prims.fft import fft as _fft
from ..prims.index import SliceSpec as _Slice
from ..registry import export as _export
from ..registry import namespace as _namespace
from ..registry import reexport as _reexport
from ._axes import one_axis as _one_axis
from ._reductions import no_out as _no_out

_NORMS = ("backward", "ortho", "forward")


def _norm(norm) -> str:
    if norm is None:
        return "backward"
    if not isinstance(norm, str) or norm not in _NORMS:
        raise ValueError(f'Invalid norm value {norm!r}; should be "backward", "ortho", '
                         '"forward" or None.')
    return norm


def _length(n, name: str) -> int:
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"{name} must be an integer number of FFT data points, got {n!r}"
                        ) from None
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified: {name} must be "
                         "at least 1.")
    return n


def _check_real(x, name: str) -> None:
    if _dtype_of(x).kind == "c":
        raise TypeError(f"{name} transforms a real signal, but `a` is {_dtype_of(x)}; take its "
                        "real part first (np.real(a)) or use np.fft.fft for complex input.")


def _transform(x, kind: str, axes: tuple, lengths: tuple, inverse: bool, norm: str):
    """One primitive call; NumPy transforms a repeated axis once per mention, one axis at a
    time in its own order, and so does this."""
    if len(set(axes)) == len(axes):
        return _fft(x, kind=kind, axes=axes, lengths=lengths, inverse=inverse, norm=norm)
    steps = list(zip(axes, lengths))
    if kind == "c2c":
        steps = [("c2c", a, n) for a, n in reversed(steps)]
    elif kind == "r2c":
        steps = [("r2c", *steps[-1])] + [("c2c", a, n) for a, n in reversed(steps[:-1])]
    else:
        steps = [("c2c", a, n) for a, n in steps[:-1]] + [("c2r", *steps[-1])]
    for k, a, n in steps:
        x = _fft(x, kind=k, axes=(a,), lengths=(n,), inverse=inverse, norm=norm)
    return x


def _one_d(a, n, axis, norm, out, kind: str, inverse: bool, name: str):
    """A 1-D transform along `axis` of length `n` (NumPy's default when None)."""
    _no_out(out, f"fft.{name}")
    if kind == "r2c":
        _check_real(a, name)
    shape = _shape_of(a)
    axis = _one_axis(axis, len(shape))
    n = (2 * (shape[axis] - 1) if kind == "c2r" else shape[axis]) if n is None else n
    return _transform(a, kind, (axis,), (_length(n, "n"),), inverse, _norm(norm))


def _nd_args(shape: tuple, s, axes, half: bool) -> tuple[tuple, tuple]:
    """Canonical (axes, lengths) from NumPy's `s` and `axes`; `half`: the last axis is a half
    spectrum (inverse real transforms), whose default length is 2 (m - 1)."""
    ndim = len(shape)
    if s is not None:
        s = _ints(s, "s", none_ok=True)
        if axes is None:
            warnings.warn("`axes` should not be `None` if `s` is not `None` (deprecated in "
                          "NumPy 2.0); pass the axes that `s` refers to.", DeprecationWarning,
                          stacklevel=4)
            axes = range(-len(s), 0)
    axes = tuple(_one_axis(a, ndim) for a in (range(ndim) if axes is None else
                                              _ints(axes, "axes")))
    if s is None:
        s = [None] * len(axes)
    elif len(s) != len(axes):
        raise ValueError(f"Shape and axes have different lengths: s has {len(s)} entries, "
                         f"axes {len(axes)}.")
    elif None in s:
        warnings.warn("Passing None in `s` is deprecated in NumPy 2.0; pass the length "
                      "itself, or -1 for the whole axis.", DeprecationWarning, stacklevel=4)
    last = len(axes) - 1
    lengths = tuple(_length(_nd_length(shape[a], n, half and i == last), "s")
                    for i, (a, n) in enumerate(zip(axes, s)))
    return axes, lengths


def _nd_length(m: int, n, half: bool):
    """An entry of `s` for an axis of length m: -1 is the whole axis, None (deprecated) the
    1-D transform's default, which for a half spectrum is 2 (m - 1)."""
    if n == -1:
        return m
    if n is None:
        return 2 * (m - 1) if half else m
    return n


def _ints(value, name: str, none_ok: bool = False) -> list:
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of integers, got {value!r}") from None
    return [n if n is None and none_ok else operator.index(n) for n in items]


def _n_d(a, s, axes, norm, out, kind: str, inverse: bool, name: str):
    """An n-D transform over `axes` (all axes by default) with lengths `s`."""
    _no_out(out, f"fft.{name}")
    if kind == "r2c":
        _check_real(a, name)
    axes, lengths = _nd_args(_shape_of(a), s, axes, half=kind == "c2r")
    if not axes:
        if kind == "c2c":
            return a  # as NumPy: no axis, no transform
        raise IndexError(f"{name} needs at least one axis to transform; got axes=().")
    return _transform(a, kind, axes, lengths, inverse, _norm(norm))


@_export(namespace="numpy.fft")
def fft(a, n=None, axis: int = -1, norm=None, out=None):
    """The 1-D discrete Fourier transform along `axis`."""
    return _one_d(a, n, axis, norm, out, "c2c", False, "fft")


@_export(namespace="numpy.fft")
def ifft(a, n=None, axis: int = -1, norm=None, out=None):
    """The 1-D inverse discrete Fourier transform along `axis`."""
    return _one_d(a, n, axis, norm, out, "c2c", True, "ifft")


@_export(namespace="numpy.fft")
def rfft(a, n=None, axis: int = -1, norm=None, out=None):
    """The half spectrum (n // 2 + 1 bins) of a real signal along `axis`."""
    return _one_d(a, n, axis, norm, out, "r2c", False, "rfft")


@_export(namespace="numpy.fft")
def irfft(a, n=None, axis: int = -1, norm=None, out=None):
    """The real signal of length `n` (default 2 (m - 1)) whose half spectrum is `a`."""
    return _one_d(a, n, axis, norm, out, "c2r", True, "irfft")


@_export(namespace="numpy.fft")
def hfft(a, n=None, axis: int = -1, norm=None, out=None):
    """The (real) spectrum of a signal with Hermitian symmetry, given by its first half."""
    return _one_d(a, n, axis, norm, out, "c2r", False, "hfft")


@_export(namespace="numpy.fft")
def ihfft(a, n=None, axis: int = -1, norm=None, out=None):
    """The inverse of hfft: the half of the inverse spectrum of a real signal."""
    return _one_d(a, n, axis, norm, out, "r2c", True, "ihfft")


@_export(namespace="numpy.fft")
def fftn(a, s=None, axes=None, norm=None, out=None):
    """The n-D discrete Fourier transform over `axes` (all by default)."""
    return _n_d(a, s, axes, norm, out, "c2c", False, "fftn")


@_export(namespace="numpy.fft")
def ifftn(a, s=None, axes=None, norm=None, out=None):
    """The n-D inverse discrete Fourier transform over `axes` (all by default)."""
    return _n_d(a, s, axes, norm, out, "c2c", True, "ifftn")


@_export(namespace="numpy.fft")
def rfftn(a, s=None, axes=None, norm=None, out=None):
    """The n-D transform of a real signal, halved along the last of `axes`."""
    return _n_d(a, s, axes, norm, out, "r2c", False, "rfftn")


@_export(namespace="numpy.fft")
def irfftn(a, s=None, axes=None, norm=None, out=None):
    """The inverse of rfftn: a real signal of shape `s` from its half spectrum."""
    return _n_d(a, s, axes, norm, out, "c2r", True, "irfftn")


@_export(namespace="numpy.fft")
def fft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """The 2-D discrete Fourier transform (over the last two axes by default)."""
    return _n_d(a, s, axes, norm, out, "c2c", False, "fft2")


@_export(namespace="numpy.fft")
def ifft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """The 2-D inverse discrete Fourier transform (over the last two axes by default)."""
    return _n_d(a, s, axes, norm, out, "c2c", True, "ifft2")


@_export(namespace="numpy.fft")
def rfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """The 2-D transform of a real signal, halved along the last axis."""
    return _n_d(a, s, axes, norm, out, "r2c", False, "rfft2")


@_export(namespace="numpy.fft")
def irfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """The inverse of rfft2."""
    return _n_d(a, s, axes, norm, out, "c2r", True, "irfft2")


def _roll_half(x, axes, sign: int):
    """Roll each of `axes` (all by default) by sign * (n // 2): two slices, joined."""
    shape = _shape_of(x)
    ndim = len(shape)
    if axes is None:
        axes = range(ndim)
    elif isinstance(axes, (int, _np.integer)):
        axes = (axes,)
    every = _Slice(None, None, None)
    for a in axes:
        a = _one_axis(a, ndim)
        n = shape[a]
        k = (sign * (n // 2)) % n if n else 0
        if k:
            head = (every,) * a
            x = _prims.concatenate([_prims.getitem(x, head + (_Slice(n - k, None, None),)),
                                    _prims.getitem(x, head + (_Slice(None, n - k, None),))], a)
    return x


@_export(namespace="numpy.fft")
def fftshift(x, axes=None):
    """Move the zero-frequency bin to the centre of each of `axes` (all by default)."""
    return _roll_half(x, axes, +1)


@_export(namespace="numpy.fft")
def ifftshift(x, axes=None):
    """Undo fftshift: move the centre bin of each of `axes` back to index 0."""
    return _roll_half(x, axes, -1)


_reexport("numpy.fft", _np.fft, "fftfreq rfftfreq")

globals().update(_namespace("numpy.fft"))
__all__ = sorted(_namespace("numpy.fft"))
