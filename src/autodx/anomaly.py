"""Where a bad number came from: anomaly detection, and NumPy's floating-point warnings at the
user's line.

- `detect_anomaly()` (PyTorch's name) and `config.debug_nans` (JAX's idea) make the first NaN
  or infinity that an operation produces from finite inputs, in a forward or a backward pass,
  raise `AnomalyError` naming the operation, the shapes, and the user's line that created it.
  Switching detection on wraps every primitive's impl with a check and makes every new graph
  node record its creating line; switching it off puts the plain impls back, so detection
  costs nothing while it is off.
- NumPy warns about `log(0)` or `0/0` from the frame that called the ufunc, which is always a
  line of autodx's engine. Warnings filters turn those warnings into exceptions on exactly the
  lines that call impls (`core.ensure_warning_filter`); the engine catches them (`try` costs
  nothing in Python 3.11 unless something is raised), computes again collecting NumPy's
  floating-point errors, and warns at the user's line, through the user's own filters.
"""

from __future__ import annotations

import functools
import linecache
import os
import sys
import threading
import warnings
from collections.abc import Callable
from types import CodeType

import numpy as np

from . import reverse
from .core import PRIMITIVES, Primitive, Tracer, impl_call_site

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class AnomalyError(FloatingPointError, RuntimeError):
    """An operation produced a NaN or an infinity from finite inputs while anomaly detection
    was on (a FloatingPointError as JAX's debug_nans raises, a RuntimeError as PyTorch's
    detect_anomaly does)."""


# ----------------------------------------------------------------------------- the user's line

def user_frame():
    """The innermost frame outside autodx (and outside NumPy's own Python code)."""
    frame = sys._getframe(1)
    while frame is not None and _internal(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


def _internal(filename: str) -> bool:
    return filename.startswith(_PACKAGE_DIR) or f"{os.sep}numpy{os.sep}" in filename


def describe_site(frame) -> str:
    if frame is None:
        return "an unknown line"
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    text = linecache.getline(filename, lineno).strip()
    return f"{filename}:{lineno}" + (f": {text}" if text else "")


# ----------------------------------------------------------------------------- NumPy warnings

def impl_warned(prim: Primitive, args: tuple, params: dict):
    """`prim.impl` raised a RuntimeWarning (see the module docstring): run it again,
    collecting NumPy's floating-point errors instead, and warn at the user's line."""
    messages: list[str] = []
    collect = lambda kind, flag: messages.append(f"{kind} encountered in {prim.name}")
    modes = {k: "call" if v == "warn" else v for k, v in np.geterr().items()}
    with np.errstate(call=collect, **modes), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = prim.impl(*args, **params)
    messages += [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    frame = user_frame()
    for message in dict.fromkeys(messages):
        if frame is None:
            warnings.warn(message, RuntimeWarning, stacklevel=2)
        else:
            registry = frame.f_globals.setdefault("__warningregistry__", {})
            warnings.warn_explicit(message, RuntimeWarning, frame.f_code.co_filename,
                                   frame.f_lineno, module=frame.f_globals.get("__name__"),
                                   registry=registry)
    return out


# ----------------------------------------------------------------------------- anomaly detection

class _Detection:
    """How many `detect_anomaly` blocks (or `debug_nans`) are on, and the plain impls and the
    plain Node/engine functions to restore when the last one ends. Global, as in PyTorch and
    JAX: one thread's block applies to all threads."""

    def __init__(self):
        self.lock, self.depth, self.saved = threading.Lock(), 0, None
        self.context = threading.local()  # the node whose backward rule is running

    def push(self) -> None:
        with self.lock:
            self.depth += 1
            if self.depth == 1:
                self._switch_on()

    def pop(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth == 0:
                self._switch_off()

    def _switch_on(self) -> None:
        impls = {prim: prim.impl for prim in PRIMITIVES.values()}
        inits = {cls: cls.__init__ for cls in (reverse.Node, *reverse.Node.__subclasses__())
                 if "__init__" in vars(cls)}  # the tape's TensorNode has its own
        self.saved = (impls, inits, reverse.send_cotangents)
        for prim, impl in impls.items():
            prim.impl = _checked_impl(prim, impl)
        for cls, init in inits.items():
            cls.__init__ = _recording_init(init)
        reverse.send_cotangents = _tracked_rule(reverse.send_cotangents)

    def _switch_off(self) -> None:
        impls, inits, reverse.send_cotangents = self.saved
        for prim, impl in impls.items():
            prim.impl = impl
        for cls, init in inits.items():
            cls.__init__ = init
        self.saved = None


_detection = _Detection()


def _recording_init(init: Callable) -> Callable:
    @functools.wraps(init)
    def recording(self, *args):
        init(self, *args)
        if not hasattr(self, "site"):  # a subclass's init may call its parent's
            self.site = describe_site(user_frame())

    return recording


def _tracked_rule(send: Callable) -> Callable:
    @functools.wraps(send)
    def tracked(node, g, primals, parents, grads, wrap):
        context = _detection.context
        outer, context.node = getattr(context, "node", None), node
        try:
            send(node, g, primals, parents, grads, wrap)
        finally:
            context.node = outer

    return tracked


def _checked_impl(prim: Primitive, impl: Callable) -> Callable:
    @functools.wraps(impl)
    def checked(*args, **params):
        out = impl(*args, **params)
        if not _all_finite(out) and all(_all_finite(a) for a in args):
            raise AnomalyError(_anomaly_message(prim, args, out))
        return out

    return checked


impl_call_site(next(c for c in _checked_impl.__code__.co_consts if isinstance(c, CodeType)),
               __name__)


def _all_finite(x) -> bool:
    if isinstance(x, (tuple, list)):
        return all(_all_finite(v) for v in x)
    if isinstance(x, Tracer) or not hasattr(x, "dtype") and not isinstance(x, (float, complex)):
        return True
    x = np.asarray(x)
    return x.dtype.kind not in "fc" or bool(np.isfinite(x).all())


def _anomaly_message(prim: Primitive, args: tuple, out) -> str:
    outs = out if isinstance(out, (tuple, list)) else (out,)
    bad = next(np.asarray(o) for o in outs if not _all_finite(o))
    kinds = [k for k, found in (("nan", np.isnan(bad)), ("inf", np.isposinf(bad.real)),
                                ("-inf", np.isneginf(bad.real))) if found.any()]
    shapes = ", ".join(str(np.shape(a)) for a in args)
    node = getattr(_detection.context, "node", None)
    where = (f"in the backward pass of {node.name()} (the operation created at "
             f"{getattr(node, 'site', 'an unknown line')})" if node is not None
             else f"at {describe_site(user_frame())}")
    return (f"anomaly: {prim.name} produced {' and '.join(kinds)} from finite inputs of shapes "
            f"{shapes} (output shape {np.shape(bad)}), {where}. Check the inputs' domain "
            f"there (log/sqrt/division near 0, overflow in exp), or clip them, e.g. "
            f"log(maximum(x, 1e-12)).")


class detect_anomaly:
    """While on (a `with` block or a decorator), the first NaN or infinity produced from
    finite inputs by any operation, forward or backward, raises `AnomalyError` naming the
    operation and the user's line that created it. `check_nan=False` only records the lines
    (PyTorch's signature). Slow: use it to find a bug, not in production."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        if self.check_nan:
            _detection.push()
        return self

    def __exit__(self, *exc) -> None:
        if self.check_nan:
            _detection.pop()

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def detecting(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return detecting


def is_anomaly_enabled() -> bool:
    return _detection.depth > 0


class Config:
    """`ad.config.debug_nans = True` (or `ad.config.update("debug_nans", True)`, JAX's
    spelling; `"jax_debug_nans"` works too) switches anomaly detection on until set False.
    `ad.config.explain_cache_misses = True` makes `ad.jit` log why each call had to be
    staged (logger "autodx.jit", as JAX's option of that name)."""

    OPTIONS = ("debug_nans", "explain_cache_misses")

    def __init__(self):
        self._debug_nans = False
        self.explain_cache_misses = False

    @property
    def debug_nans(self) -> bool:
        return self._debug_nans

    @debug_nans.setter
    def debug_nans(self, on: bool) -> None:
        if bool(on) != self._debug_nans:
            self._debug_nans = bool(on)
            _detection.push() if on else _detection.pop()

    def update(self, name: str, value) -> None:
        key = name.removeprefix("jax_")
        if key not in self.OPTIONS:
            raise AttributeError(f"ad.config has no option {name!r}; the options are: "
                                 f"{', '.join(map(repr, self.OPTIONS))}")
        setattr(self, key, bool(value))


config = Config()
