"""`ad.plot`: see a function and its derivatives as a picture (extra `plot`: matplotlib).

For f(x) it draws f, f′, f″, ... on one axes, each order computed by one batched
`ad.vmap(grad(...grad(f)))` call over a `numpy.linspace` grid; for f(x, y) it draws contour
lines of f with the gradient field `vmap(grad(f, argnums=(0, 1)))` as arrows.

Why `matplotlib.figure.Figure` and not pyplot: a Figure made directly needs no GUI backend, so
`ad.plot` works headless (CI, the command line, a server) and leaves pyplot's global state alone.
Such a Figure does *not* show itself in Jupyter (checked with a real kernel: it prints
`<Figure size 640x480 with 1 Axes>`, because matplotlib registers its inline PNG hook only for
pyplot), so each Figure that `ad.plot` creates gets a `_repr_png_` method and renders inline in
Jupyter, VS Code and nbconvert/mkdocs-jupyter. A figure passed in through `ax=` is the caller's
and is left as it is (pyplot already shows it).

The plotted numbers are attached to the figure (and to the axes) as `autodx_data`, so a test or
a user can check exactly what was drawn.
"""

from __future__ import annotations

import ast
import inspect
import io
import math
import numbers
import re
import textwrap
import types
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import api

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_INSTALL = "ad.plot needs matplotlib: pip install 'autodx[plot]'"
_PRIMES = {0: "f", 1: "f′", 2: "f″", 3: "f‴"}
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_CONTOUR_SIDE = 200  # contour grid points per side for f(x, y), at most
_ARROW_SIDE = 15  # gradient arrows per side


def plot(
    f: Callable[..., Any],
    xrange: Sequence[float] = (-3, 3),
    order: int = 2,
    *,
    num: int = 400,
    yrange: Sequence[float] | None = None,
    ax: Any = None,
    title: str | None = None,
    labels: Sequence[str] | None = None,
) -> Figure:
    """Draw f and its derivatives up to `order` (f of x), or contours and gradient (f of x, y).

    `f(x)` gets one curve per order 0..`order` (labels `f`, `f′`, `f″`, `f‴`, `f⁽⁴⁾`, ... or
    `labels=`), sampled at `num` points of `xrange`, each order one `vmap` of nested `grad`.
    `f(x, y)` (two required parameters, or any f with `yrange=` given) gets filled contours over
    `xrange` × `yrange` (default: `xrange`; `min(num, 200)` points a side) with a colorbar and,
    when `order >= 1`, the gradient `vmap(grad(f, argnums=(0, 1)))` as 15 × 15 arrows;
    `labels=` then names the two axes. Where f is NaN or infinite (log at x <= 0) the curves
    have gaps, and derivatives are drawn only where f is finite.

    Returns the matplotlib Figure (the axes' figure if `ax=` is given; it shows inline in
    Jupyter). `fig.autodx_data` holds what was drawn: `x`, `f`, `f′`, ... for f(x);
    `x`, `y`, `f` (contour grid) and `quiver_x`, `quiver_y`, `df/dx`, `df/dy` for f(x, y).
    """
    _require_matplotlib()
    if not callable(f):
        raise TypeError(f"ad.plot: f must be a callable such as lambda x: x**2, got {f!r}")
    lo, hi = _check_range("xrange", xrange)
    order = _check_int("order", order, minimum=0, hint="0 draws f alone, 2 adds f′ and f″")
    num = _check_int("num", num, minimum=2, hint="the number of sample points along x")
    ax = _check_ax(ax)
    names = _variables(f, two=yrange is not None)
    if len(names) == 2:
        box = (lo, hi), _check_range("yrange", xrange if yrange is None else yrange)
        fig, ax = _axes(ax, _box_size(*box))
        data = _plot_2d(f, ax, box, order, num, names, title, labels)
    else:
        fig, ax = _axes(ax, (7.0, 4.5))
        data = _plot_1d(f, ax, (lo, hi), order, num, names[0], title, labels)
    fig.autodx_data = ax.autodx_data = data
    return fig


# ----------------------------------------------------------------------------- checks

def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
        import matplotlib.figure  # noqa: F401
    except ImportError:
        raise ImportError(_INSTALL) from None


def _check_range(name: str, value: Any) -> tuple[float, float]:
    """A (lo, hi) pair of finite real numbers with lo < hi, as floats."""
    usage = f"pass {name}=(lo, hi) with finite numbers lo < hi, e.g. {name}=(-3, 3)"
    if isinstance(value, str | bytes) or not _is_sequence(value) or len(value) != 2:
        raise ValueError(f"ad.plot: {name} must be a pair (lo, hi), got {value!r}; {usage}")
    pair = []
    for end in value:
        if isinstance(end, bool) or not isinstance(end, numbers.Real) or not math.isfinite(end):
            raise ValueError(f"ad.plot: {name}={value!r} has {end!r}, not a finite number; {usage}")
        pair.append(float(end))
    if not pair[0] < pair[1]:
        raise ValueError(f"ad.plot: {name}={value!r} needs lo < hi; {usage}")
    return pair[0], pair[1]


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence | np.ndarray) and np.ndim(value) == 1


def _check_int(name: str, value: Any, *, minimum: int, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(
            f"ad.plot: {name} must be an int >= {minimum} ({hint}), got {value!r}")
    return int(value)


def _check_ax(ax: Any) -> Any:
    if ax is None:
        return None
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"ad.plot: ax must be a matplotlib Axes (fig.add_subplot()), got {ax!r}")
    return ax


def _variables(f: Callable[..., Any], two: bool) -> list[str]:
    """The names of f's variables: one (f(x)) or two (f(x, y)), from its signature."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):  # no signature: trust yrange=
        return ["x", "y"] if two else ["x"]
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p for p in params if p.kind in kinds]
    required = [p.name for p in positional if p.default is p.empty]
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params) and len(required) < 2:
        required = (required + ["x", "y"][len(required):])[: 2 if two else 1]
    elif not required and positional:
        required = [p.name for p in positional[: 2 if two else 1]]
    if not required:
        raise TypeError("ad.plot: f takes no positional argument; plot draws f(x) or f(x, y)")
    if len(required) > 2:
        call = ", ".join(required[:2] + ["..."])
        raise ValueError(
            f"ad.plot draws functions of one or two variables, but f takes {len(required)} "
            f"({', '.join(required)}); fix the others, e.g. "
            f"ad.plot(lambda {', '.join(required[:2])}: f({call}))")
    if two and len(required) == 1:
        raise ValueError(
            f"ad.plot: yrange is for functions of two variables f(x, y), but f takes one "
            f"({required[0]}); leave yrange out to plot f and its derivatives")
    return required


# ----------------------------------------------------------------------------- evaluation

def _evaluate(fn: Callable[..., Any], *grid: np.ndarray) -> np.ndarray:
    """fn at every grid point in one vmap call, as float64 with NaN where not finite."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        out = api.vmap(fn)(*grid)
    return _finite(out, grid[0].shape)


def _finite(out: Any, shape: tuple[int, ...]) -> np.ndarray:
    if isinstance(out, tuple | list | dict):
        raise ValueError(
            f"ad.plot draws scalar functions, but f returned a {type(out).__name__} of "
            f"{len(out)}; for a vector function plot each component: "
            "ad.plot(lambda x: f(x)[0])")
    if hasattr(out, "detach"):  # a Tensor
        out = out.detach().numpy()
    out = np.asarray(out)
    if out.ndim == 0:  # a constant function
        out = np.broadcast_to(out, shape)
    if out.shape != shape:
        raise ValueError(
            f"ad.plot draws scalar functions, but f returned shape {out.shape[len(shape):]} at "
            "each point; for a vector function plot each component: ad.plot(lambda x: f(x)[0])")
    if np.iscomplexobj(out):
        raise ValueError("ad.plot draws real functions, but f returned complex values; plot "
                         "the real and imaginary parts: ad.plot(lambda x: anp.real(f(x)))")
    out = np.array(out, dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def _derivatives(f: Callable[..., Any], x: np.ndarray, order: int) -> list[np.ndarray]:
    """[f, f′, ..., f^(order)] on x; one batched call per order, derivatives masked where f is
    not finite (f′ of log at x < 0 is a number, but not of any function that is drawn)."""
    f = _floating(f)
    values, fn = [_evaluate(f, x)], f
    for _ in range(order):
        fn = api.grad(fn)
        d = _evaluate(fn, x)
        d[np.isnan(values[0])] = np.nan
        values.append(d)
    return values


def _floating(f: Callable[..., Any]) -> Callable[..., Any]:
    """f with an int or bool result (`lambda x: 1`, a step `x > 0`) as float, so that its
    derivative is drawn as 0 instead of refused as grad refuses it."""

    def floating(*args: Any) -> Any:
        out = f(*args)
        return out if isinstance(out, tuple | list | dict) else out + 0.0

    return floating


def _label(k: int) -> str:
    return _PRIMES.get(k) or f"f⁽{str(k).translate(_SUPERSCRIPT)}⁾"


# ----------------------------------------------------------------------------- drawing

def _axes(ax: Any, size: tuple[float, float]) -> tuple[Any, Any]:
    """A new headless Figure (that renders in Jupyter) and its axes, or the caller's axes."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    fig._repr_png_ = types.MethodType(_repr_png, fig)
    return fig, fig.add_subplot()


def _repr_png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _plot_1d(f, ax, xr, order, num, name, title, labels) -> dict[str, np.ndarray]:
    if labels is not None:
        labels = _check_labels(labels, order + 1, f"one per curve f, f′, ... (order + 1 = "
                                                  f"{order + 1})")
    x = np.linspace(xr[0], xr[1], num)
    values = _derivatives(f, x, order)
    data = {"x": x}
    ax.axhline(0.0, color="0.55", linewidth=0.8, zorder=0)
    for k, y in enumerate(values):
        data[_label(k)] = y
        ax.plot(x, y, label=labels[k] if labels else _label(k), linewidth=1.8)
    ax.set_xlim(*xr)
    _robust_ylim(ax, values)
    ax.set_xlabel(name)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", framealpha=0.9, fontsize="large")
    what = "and its derivatives" if order else ""
    ax.set_title(title if title is not None else f"{_name(f, name)} {what}".strip())
    return data


def _robust_ylim(ax: Any, values: list[np.ndarray]) -> None:
    """Keep a pole (1/x, tan x) from flattening every curve: show each curve's bulk (its
    quartiles widened by 3 interquartile ranges, Tukey's fences) and clip only the spikes."""
    finite = [v[np.isfinite(v)] for v in values]
    finite = [v for v in finite if v.size]
    if not finite:
        return
    fences = []
    for v in finite:
        q1, q3 = np.percentile(v, [25, 75])
        fences.append((max(q1 - 3 * (q3 - q1), v.min()), min(q3 + 3 * (q3 - q1), v.max())))
    lo, hi = min(f[0] for f in fences), max(f[1] for f in fences)
    low, high = min(v.min() for v in finite), max(v.max() for v in finite)
    if (low < lo or high > hi) and hi > lo:
        pad = 0.05 * (hi - lo)
        ax.set_ylim(lo - pad, hi + pad)


def _box_size(xr: tuple[float, float], yr: tuple[float, float]) -> tuple[float, float]:
    """A figure size whose axes fit the box at equal scales (so the colorbar matches it)."""
    ratio = (yr[1] - yr[0]) / (xr[1] - xr[0])
    if not 0.25 <= ratio <= 4:
        return 6.4, 5.0
    width = min(4.6, 6.0 / ratio)
    return width + 1.9, width * ratio + 1.0


def _plot_2d(f, ax, box, order, num, names, title, labels) -> dict[str, np.ndarray]:
    (x0, x1), (y0, y1) = box
    if labels is not None:
        names = _check_labels(labels, 2, "the names of the two axes")
    side = min(num, _CONTOUR_SIDE)
    gx, gy = np.meshgrid(np.linspace(x0, x1, side), np.linspace(y0, y1, side))
    g = _floating(f)
    z = _evaluate(g, gx.ravel(), gy.ravel()).reshape(gx.shape)
    data = {"x": gx, "y": gy, "f": z}
    filled = ax.contourf(gx, gy, np.ma.masked_invalid(z), levels=20, cmap="viridis", alpha=0.85)
    ax.contour(gx, gy, np.ma.masked_invalid(z), levels=filled.levels, colors="k",
               linewidths=0.5, alpha=0.5)
    ax.figure.colorbar(filled, ax=ax, label=f"f({names[0]}, {names[1]})")
    if order >= 1:
        qx, qy = np.meshgrid(np.linspace(x0, x1, _ARROW_SIDE), np.linspace(y0, y1, _ARROW_SIDE))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            du, dv = api.vmap(api.grad(g, argnums=(0, 1)))(qx.ravel(), qy.ravel())
        u, v = (_finite(d, qx.ravel().shape).reshape(qx.shape) for d in (du, dv))
        outside = np.isnan(_evaluate(g, qx.ravel(), qy.ravel()).reshape(qx.shape))
        u[outside] = v[outside] = np.nan  # as in 1-D: no arrow where f itself is not finite
        _arrows(ax, qx, qy, u, v)
        data.update({"quiver_x": qx, "quiver_y": qy, "df/dx": u, "df/dy": v})
    if 0.25 <= (y1 - y0) / (x1 - x0) <= 4:  # equal scales: arrows cross contours at right angles
        ax.set_aspect("equal")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    what = ": contours and gradient" if order >= 1 else ""
    ax.set_title(title if title is not None else f"{_name(f, *names)}{what}")
    return data


def _arrows(ax: Any, qx: np.ndarray, qy: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
    """The gradient as arrows in data units, the longest one grid step long, so they are
    visible and cross the contour lines at right angles on equal axes."""
    step = min(qx[0, 1] - qx[0, 0], qy[1, 0] - qy[0, 0])
    longest = np.nanmax(np.hypot(u, v), initial=0.0)
    ax.quiver(qx, qy, np.ma.masked_invalid(u), np.ma.masked_invalid(v), color="white",
              edgecolor="black", linewidth=0.5, width=0.005, pivot="mid", angles="xy",
              scale_units="xy", scale=longest / (0.9 * step) if longest > 0 else 1.0)


def _check_labels(labels: Any, count: int, what: str) -> list[str]:
    if isinstance(labels, str) or not isinstance(labels, Sequence) or len(labels) != count:
        raise ValueError(f"ad.plot: labels must be a list of {count} strings, {what}; "
                         f"got {labels!r}")
    return [str(label) for label in labels]


# ----------------------------------------------------------------------------- the title

def _name(f: Callable[..., Any], *variables: str) -> str:
    """A readable name: the lambda's expression, `name(x)` for a def, else `f(x)`."""
    expression = _lambda_expression(f)
    if expression:
        return expression
    name = getattr(f, "__name__", "")
    if not name.isidentifier():
        name = "f"
    return f"{name}({', '.join(variables)})"


def _lambda_expression(f: Callable[..., Any]) -> str | None:
    """The body of `lambda x: ...` from its source, without `np.`/`anp.` prefixes; None when the
    source is unavailable or holds several lambdas."""
    if getattr(f, "__name__", "") != "<lambda>":
        return None
    try:
        source = textwrap.dedent(inspect.getsource(f)).strip()
    except (OSError, TypeError):
        return None
    if source.count("lambda") != 1 or len(source) > 2000:
        return None
    text = source[source.index("lambda"):]
    for end in range(len(text), 0, -1):  # the longest prefix that is an expression
        try:
            tree = ast.parse(text[:end], mode="eval")
        except SyntaxError:
            continue
        body = next(n.body for n in ast.walk(tree) if isinstance(n, ast.Lambda))
        return _pretty(ast.unparse(body))
    return None


def _pretty(text: str) -> str:
    """`anp.sin(x) * x ** 2` -> `sin(x)·x²`: a title, not code."""
    text = re.sub(r"\b(?:ad\.numpy|anp|np|numpy|jnp)\.", "", text)
    text = re.sub(r" \*\* (\d+)(?![\d.])", lambda m: m[1].translate(_SUPERSCRIPT), text)
    return text.replace(" ** ", "**").replace(" * ", "·")
